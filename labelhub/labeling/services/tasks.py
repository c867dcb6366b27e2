"""Writes to tasks that are not about one batch: status moves from labels and imports.

The queue (claims, leases, submit, skip, review, rework) grows here; batches create and
remove tasks in ``services.batches``. No other app writes a task.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from labelhub.labeling.models import LabelingEvent, Reservation, Task
from labelhub.labeling.services.workflow import workflow_of
from labelhub.projects.models import Project


def tasks_mark_done(*, project: Project, data_row_ids: list[Any], labeled: bool = True) -> int:
    """Move the rows' tasks in the project to Done (ground truth arrived); return how many."""
    done = workflow_of(project).done
    tasks = Task.objects.filter(project_id=project.pk, data_row_id__in=data_row_ids)
    # Ground truth settles the row: nobody's reservation of it stands any more.
    Reservation.objects.filter(task__in=tasks).delete()
    return tasks.update(
        labeled=labeled, status=Task.Status.DONE, step=done, reserved=0, updated_at=timezone.now()
    )


def tasks_purge_chunk(*, project_id: Any, size: int = 10_000) -> int:
    """Delete up to ``size`` tasks of a project being deleted; return how many went.

    Deleting in chunks keeps one statement from holding millions of row locks.
    """
    ids = list(Task.objects.filter(project_id=project_id).values_list("pk", flat=True)[:size])
    if ids:
        Task.objects.filter(pk__in=ids).delete()
        return len(ids)
    # The events carry no foreign keys (ADR 0011): they go last, in chunks too.
    events = list(
        LabelingEvent.objects.filter(project_id=project_id).values_list("pk", flat=True)[:size]
    )
    LabelingEvent.objects.filter(pk__in=events).delete()
    return len(events)
