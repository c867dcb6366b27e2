"""Bulk actions of the data rows tab on chosen rows of a project.

* **Move to step** — a review step, Rework or Done (not counted as a review: no Review
  row, no score). Back to Initial labeling is *requeue*, which says what happens to the
  labels.
* **Send to rework** — the rows' labels are marked rejected (with the reason) and the
  tasks go to Rework, where the rework assignment applies.
* **Delete labels and requeue** — the rows' labels go and the tasks start over in Initial
  labeling; *keep as template* turns the best label's annotations (the approved one, else
  the newest) into pre-labels the next labeler starts from, *drop* deletes them too.
* **Hide / unhide** — hidden rows are never served to anyone.
* **Assign** — the rows are served only to that person (or to anyone again: unassign);
  they are told either way.
* **Mark as benchmark** — the row's label (the approved one, else the newest) becomes the
  reference every labeler is compared with; benchmark rows are served to every labeler.

Up to ``MAX_ROWS`` rows per action, all or nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When

from labelhub.access.authz import can
from labelhub.access.permissions import Permission
from labelhub.access.services import require
from labelhub.core.audit import audit_record
from labelhub.core.errors import ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.core.validation import clean_text
from labelhub.labeling.models import (
    Annotation,
    Draft,
    Label,
    Reservation,
    Skip,
    Task,
    WorkflowStep,
)
from labelhub.labeling.services.transitions import queue_announce, release, tasks_move_many
from labelhub.labeling.services.workflow import workflow_of
from labelhub.notifications.models import Notification
from labelhub.notifications.services import notification_create
from labelhub.projects.models import Project

MAX_ROWS = 10_000
Kind = WorkflowStep.Kind


def _tasks(project: Project, data_row_ids: Any) -> list[Task]:
    """The project's tasks of these rows; every id must name one."""
    if not isinstance(data_row_ids, list) or not data_row_ids or len(data_row_ids) > MAX_ROWS:
        raise ValidationFailed(
            f"Give a list of 1 to {MAX_ROWS:,} data row ids.", field="data_row_ids"
        )
    ids = {parse_id(v) for v in data_row_ids}
    if None in ids:
        raise ValidationFailed("Unknown data rows.", field="data_row_ids")
    tasks = []
    id_list = list(ids)
    for start in range(0, len(id_list), 1000):
        tasks += list(
            Task.objects.filter(project=project, data_row_id__in=id_list[start : start + 1000])
        )
    if len(tasks) != len(ids):
        raise ValidationFailed(
            f"{len(ids) - len(tasks)} of the rows are not in this project.", field="data_row_ids"
        )
    return tasks


def _audit(project: Project, actor: Any, verb: str, **after: Any) -> None:
    audit_record(workspace=project.workspace, actor=actor, verb=verb, target=project, after=after)


def _boolean(value: Any, field: str) -> None:
    if not isinstance(value, bool):
        raise ValidationFailed("Say true or false.", field=field)


def tasks_move(*, project: Project, actor: Any, data_row_ids: Any, step_id: Any) -> int:
    """Move rows to a review step, Rework or Done."""
    require(actor, Permission.MOVE_TASKS, project)
    workflow = workflow_of(project)
    step = workflow.by_id(step_id)
    if step is None:
        raise ValidationFailed("No such step in this project.", field="step")
    if step.kind == Kind.LABEL:
        raise ValidationFailed(
            "To start rows over in Initial labeling, delete their labels and requeue them.",
            field="step",
        )
    with transaction.atomic():
        tasks = _tasks(project, data_row_ids)
        moved = tasks_move_many(tasks=tasks, to=step, actor=actor)
        _audit(project, actor, "tasks.moved", step=step.name, rows=moved)
    return moved


def tasks_send_to_rework(
    *, project: Project, actor: Any, data_row_ids: Any, reason: Any = ""
) -> int:
    """Reject the rows' labels and send them to Rework; rows without a label are refused."""
    require(actor, Permission.MOVE_TASKS, project)
    reason = clean_text(reason or "", field="reason", max_length=1000, required=False)
    with transaction.atomic():
        tasks = _tasks(project, data_row_ids)
        rows = [t.data_row_id for t in tasks]
        labeled = set(
            Label.objects.filter(project=project, data_row_id__in=rows).values_list(
                "data_row_id", flat=True
            )
        )
        if len(labeled) != len(set(rows)):
            raise ValidationFailed(
                f"{len(set(rows)) - len(labeled)} of the rows have no label to rework.",
                field="data_row_ids",
            )
        Label.objects.filter(project=project, data_row_id__in=rows).update(
            status=Label.Status.REJECTED
        )
        moved = tasks_move_many(tasks=tasks, to=workflow_of(project).rework, actor=actor)
        _audit(project, actor, "tasks.sent_to_rework", rows=moved, reason=reason)
    return moved


def tasks_requeue(
    *, project: Project, actor: Any, data_row_ids: Any, keep_as_template: Any = False
) -> int:
    """Delete the rows' labels and start them over in Initial labeling."""
    require(actor, Permission.DELETE_LABELS, project)
    _boolean(keep_as_template, "keep_as_template")
    with transaction.atomic():
        tasks = _tasks(project, data_row_ids)
        rows = [t.data_row_id for t in tasks]
        labels = Label.objects.filter(project=project, data_row_id__in=rows)
        templates = 0
        if keep_as_template:
            templates = _keep_newest_as_prelabels(project, labels)
        deleted = labels.count()
        Annotation.objects.filter(label__in=labels).delete()
        labels.delete()
        Skip.objects.filter(task__in=tasks).delete()
        Draft.objects.filter(task__in=tasks).delete()
        moved = tasks_move_many(tasks=tasks, to=workflow_of(project).label, actor=actor)
        Task.objects.filter(pk__in=[t.pk for t in tasks]).update(
            labeled=False, labels_done=0, skip_count=0, is_benchmark=False
        )
        _audit(
            project,
            actor,
            "tasks.requeued",
            rows=moved,
            labels_deleted=deleted,
            kept_as_template=templates,
        )
    return moved


def _best_label_per_row(labels) -> dict[Any, Any]:
    """{row: label id}: each row's approved label, else its newest."""
    approved_first = Case(
        When(status=Label.Status.APPROVED, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    best: dict[Any, Any] = {}
    ordered = labels.order_by(approved_first, "-submitted_at", "-id")
    for label_id, row in ordered.values_list("pk", "data_row_id"):
        best.setdefault(row, label_id)
    return best


def _keep_newest_as_prelabels(project: Project, labels) -> int:
    """The best label of each row gives its annotations to the row as pre-labels."""
    best = _best_label_per_row(labels)
    return Annotation.objects.filter(label_id__in=list(best.values())).update(
        label=None, source=Annotation.Source.PRELABEL, confidence=1.0
    )


def tasks_hide(*, project: Project, actor: Any, data_row_ids: Any, hidden: Any) -> int:
    """Hide rows from labelers (their reservations go), or show them again."""
    require(actor, Permission.MOVE_TASKS, project)
    _boolean(hidden, "hidden")
    with transaction.atomic():
        tasks = _tasks(project, data_row_ids)
        ids = [t.pk for t in tasks]
        if hidden:
            for reservation in Reservation.objects.filter(task_id__in=ids):
                release(reservation)
        changed = Task.objects.filter(pk__in=ids).update(hidden=hidden)
        queue_announce(project.pk)
        _audit(project, actor, "tasks.hidden" if hidden else "tasks.shown", rows=changed)
    return changed


def tasks_assign(*, project: Project, actor: Any, data_row_ids: Any, user_id: Any) -> int:
    """Serve rows only to one person (``user_id``), or to anyone again (``None``)."""
    require(actor, Permission.MOVE_TASKS, project)
    user = None
    if user_id is not None:
        user = get_user_model().objects.filter(pk=parse_id(user_id)).first()
        if user is None or not can(user, Permission.LABEL, project):
            raise ValidationFailed("Choose someone who may label in this project.", field="user")
    with transaction.atomic():
        tasks = _tasks(project, data_row_ids)
        ids = [t.pk for t in tasks]
        before = set(
            Task.objects.filter(pk__in=ids, assigned_to__isnull=False).values_list(
                "assigned_to", flat=True
            )
        )
        # Someone else holding an assigned row lets it go to its assignee.
        held = Reservation.objects.filter(task_id__in=ids)
        if user is not None:
            held = held.exclude(user=user)
        for reservation in held:
            release(reservation)
        changed = Task.objects.filter(pk__in=ids).update(assigned_to=user)
        for previous in before - ({user.pk} if user else set()):
            _tell(project, previous, Notification.Kind.TASK_UNASSIGNED, changed)
        if user is not None:
            _tell(project, user.pk, Notification.Kind.TASK_ASSIGNED, changed)
        _audit(
            project,
            actor,
            "tasks.assigned" if user else "tasks.unassigned",
            rows=changed,
            user=user.email if user else None,
        )
    return changed


def _tell(project: Project, user_id: Any, kind: str, rows: int) -> None:
    assigned = kind == Notification.Kind.TASK_ASSIGNED
    notification_create(
        user_id=user_id,
        workspace_id=project.workspace_id,
        kind=kind,
        subject=f"assignment:{project.pk}",
        title=(
            f"{rows} rows of {project.name} are assigned to you"
            if assigned
            else f"Rows of {project.name} are no longer assigned to you"
        ),
        url=f"/projects/{project.pk}/",
    )


def tasks_mark_benchmark(
    *, project: Project, actor: Any, data_row_ids: Any, benchmark: Any = True
) -> int:
    """Make rows benchmarks (their label becomes the reference), or plain rows again."""
    require(actor, Permission.MOVE_TASKS, project)
    _boolean(benchmark, "benchmark")
    with transaction.atomic():
        tasks = _tasks(project, data_row_ids)
        rows = [t.data_row_id for t in tasks]
        labels = Label.objects.filter(project=project, data_row_id__in=rows)
        labels.update(is_benchmark_reference=False)
        if benchmark:
            reference = _best_label_per_row(labels)
            if len(reference) != len(set(rows)):
                raise ValidationFailed(
                    f"{len(set(rows)) - len(reference)} of the rows have no label to be "
                    "the reference.",
                    field="data_row_ids",
                )
            Label.objects.filter(pk__in=list(reference.values())).update(
                is_benchmark_reference=True
            )
        changed = Task.objects.filter(pk__in=[t.pk for t in tasks]).update(is_benchmark=benchmark)
        queue_announce(project.pk)
        _audit(
            project,
            actor,
            "tasks.benchmark" if benchmark else "tasks.benchmark_removed",
            rows=changed,
        )
    return changed
