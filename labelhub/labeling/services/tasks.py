"""Writes to tasks that are not about one batch: status moves from labels and imports.

The queue (claims, leases, submit, skip, review, rework) grows here; batches create and
remove tasks in ``services.batches``. No other app writes a task.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from labelhub.labeling.models import Task
from labelhub.projects.models import Project


def tasks_mark_done(*, project: Project, data_row_ids: list[Any], labeled: bool = True) -> int:
    """Move the rows' tasks in the project to Done (ground truth arrived); return how many."""
    return Task.objects.filter(project_id=project.pk, data_row_id__in=data_row_ids).update(
        labeled=labeled, status=Task.Status.DONE, updated_at=timezone.now()
    )


def tasks_purge_chunk(*, project_id: Any, size: int = 10_000) -> int:
    """Delete up to ``size`` tasks of a project being deleted; return how many went.

    Deleting in chunks keeps one statement from holding millions of row locks.
    """
    ids = list(Task.objects.filter(project_id=project_id).values_list("pk", flat=True)[:size])
    if ids:
        Task.objects.filter(pk__in=ids).delete()
    return len(ids)
