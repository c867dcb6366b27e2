"""Background jobs of core: the job reaper, and housekeeping of the embedded broker."""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import shared_task
from django.conf import settings

from labelhub.core.jobs import jobs_reap

#: a processed message of the filesystem broker is kept this long (seconds), for a look
PROCESSED_MESSAGES_KEPT = 24 * 3600


@shared_task(name="core.reap_jobs")
def reap_jobs_task(**kwargs) -> dict[str, int]:
    """Periodic: restart jobs whose worker died; prune the embedded broker's old messages."""
    counts = jobs_reap()
    counts["pruned"] = broker_messages_prune()
    return counts


def broker_messages_prune(*, older_than: float = PROCESSED_MESSAGES_KEPT) -> int:
    """Delete processed messages of the filesystem broker older than ``older_than`` seconds;
    return how many (0 without that broker)."""
    folder = getattr(settings, "BROKER_FOLDER", None)
    if not folder or not settings.CELERY_BROKER_URL.startswith("filesystem"):
        return 0
    limit = time.time() - older_than
    pruned = 0
    with os.scandir(Path(folder) / "processed") as entries:
        for entry in entries:
            try:
                if entry.is_file() and entry.stat().st_mtime < limit:
                    os.unlink(entry.path)
                    pruned += 1
            except OSError:
                continue  # gone meanwhile
    return pruned
