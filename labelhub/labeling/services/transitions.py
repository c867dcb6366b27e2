"""The small moves every labeling service makes: record an event, release a reservation,
move a task to a step (and tell the project's watchers)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labelhub.core.live import project_group, send_event_now, send_event_on_commit
from labelhub.labeling import events
from labelhub.labeling.models import LabelingEvent, Reservation, Task, WorkflowStep
from labelhub.labeling.selectors.queue import step_counts

Kind = WorkflowStep.Kind
EventKind = LabelingEvent.Kind

STATUS_OF_KIND = {
    Kind.LABEL: Task.Status.TO_LABEL,
    Kind.REVIEW: Task.Status.IN_REVIEW,
    Kind.REWORK: Task.Status.IN_REWORK,
    Kind.DONE: Task.Status.DONE,
}


def event_row(
    kind: str,
    task: Task,
    *,
    actor_id: Any,
    mode: str = "",
    step: WorkflowStep | None = None,
    label_id: Any = None,
    seconds: float = 0,
    annotations: int = 0,
) -> LabelingEvent:
    """One labeling event, not yet saved (``bulk_create`` several at once)."""
    return LabelingEvent(
        workspace_id=task.workspace_id,
        project_id=task.project_id,
        task_id=task.pk,
        data_row_id=task.data_row_id,
        label_id=label_id,
        actor_id=actor_id,
        step_id=step.pk if step is not None else task.step_id,
        mode=mode,
        kind=kind,
        seconds=round(seconds, 3),
        annotations=annotations,
    )


def record(kind: str, task: Task, **fields: Any) -> LabelingEvent:
    """Append one labeling event (the dashboards' source); fields as ``event_row``."""
    event = event_row(kind, task, **fields)
    event.save(force_insert=True)
    return event


def release(
    reservation: Reservation, *, kind: str = EventKind.RELEASED, seconds: float = 0
) -> None:
    """Let a reservation go: the task may be served again (``seconds``: the time the
    person spent on it, recorded on the event — a skip's)."""
    deleted, _ = Reservation.objects.filter(pk=reservation.pk).delete()
    if deleted:
        Task.objects.filter(pk=reservation.task_id, reserved__gt=0).update(
            reserved=F("reserved") - 1
        )
        task = Task(
            pk=reservation.task_id,
            workspace_id=reservation.workspace_id,
            project_id=reservation.project_id,
            data_row_id=Task.objects.filter(pk=reservation.task_id)
            .values_list("data_row_id", flat=True)
            .first(),
            step_id=reservation.step_id,
        )
        if task.data_row_id is not None:
            record(kind, task, actor_id=reservation.user_id, mode=reservation.mode, seconds=seconds)


def reservation_consume(reservation: Reservation) -> None:
    """The reservation did its work (submitted, reviewed): gone, without a release event."""
    deleted, _ = Reservation.objects.filter(pk=reservation.pk).delete()
    if deleted:
        Task.objects.filter(pk=reservation.task_id, reserved__gt=0).update(
            reserved=F("reserved") - 1
        )


def task_move(
    *,
    task: Task,
    to: WorkflowStep,
    actor: Any,
    reason: str = "",
    release_all: bool = False,
    kind: str = EventKind.MOVED,
    status: str | None = None,
) -> Task:
    """Put the task on a step (its status follows), record it and tell the watchers.

    ``release_all`` lets go of every reservation on the task (a task moved by hand, or by
    a workflow edit, is no longer anybody's to work on).
    """
    from_step = task.step_id
    if release_all:
        for reservation in Reservation.objects.filter(task=task):
            release(reservation)
        task.reserved = 0
    task.step = to
    task.status = status or STATUS_OF_KIND[to.kind]
    task.updated_at = timezone.now()
    changes = {"step": to, "status": task.status, "updated_at": task.updated_at}
    if release_all:
        changes["reserved"] = 0
    Task.objects.filter(pk=task.pk).update(**changes)
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    if to.kind == Kind.DONE:
        record(EventKind.DONE, task, actor_id=actor_id, step=to)
    elif kind:
        record(kind, task, actor_id=actor_id, step=to)
    send_event_on_commit(
        events.task_changed(task, from_step=from_step, reason=reason),
        [project_group(task.project_id)],
    )
    return task


def queue_announce(project_id: Any) -> None:
    """Tell the project's watchers its counts per step (after commit)."""
    transaction.on_commit(
        lambda: send_event_now(
            events.queue_changed(project_id, step_counts(project_id)),
            [project_group(project_id)],
        )
    )


def tasks_move_many(
    *,
    tasks: list[Task],
    to: WorkflowStep,
    actor: Any,
    kind: str = EventKind.MOVED,
    status: str | None = None,
) -> int:
    """Move many tasks to a step at once (bulk actions): reservations released, one event
    row each, one live ``queue.changed`` for the watchers. Returns how many moved."""
    if not tasks:
        return 0
    ids = [t.pk for t in tasks]
    now = timezone.now()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for reservation in Reservation.objects.filter(task_id__in=chunk):
            release(reservation)
        Task.objects.filter(pk__in=chunk).update(
            step=to, status=status or STATUS_OF_KIND[to.kind], reserved=0, updated_at=now
        )
    actor_id = getattr(actor, "pk", None)
    event_kind = EventKind.DONE if to.kind == Kind.DONE else kind
    LabelingEvent.objects.bulk_create(
        [
            LabelingEvent(
                workspace_id=t.workspace_id,
                project_id=t.project_id,
                task_id=t.pk,
                data_row_id=t.data_row_id,
                actor_id=actor_id,
                step_id=to.pk,
                kind=event_kind,
                created_at=now,
            )
            for t in tasks
        ],
        batch_size=1000,
    )
    queue_announce(tasks[0].project_id)
    return len(ids)
