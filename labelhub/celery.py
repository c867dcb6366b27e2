"""Celery application; configuration comes from Django settings (CELERY_*)."""

import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")

app = Celery("labelhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@worker_ready.connect
def reap_jobs_at_start(sender=None, **kwargs) -> None:
    """Restart jobs a dead worker left behind, before this worker takes its first task."""
    # Imported here: this module is imported before Django's apps are loaded.
    from django.db import connections

    from labelhub.core.jobs import jobs_reap_at_start

    try:
        counts = jobs_reap_at_start()
        logger.info("job reaper at start: %(restarted)s restarted, %(failed)s failed", counts)
    except Exception:  # noqa: BLE001 - the worker must start even when the database is down
        logger.exception("job reaper at start failed")
    finally:
        # The pool's processes must not inherit this process's connection.
        connections.close_all()
