"""The queue: a person asks for work in a mode and gets tasks reserved for them.

* **Reservations.** Up to the project's ``reservation_count`` (4) tasks per person and
  mode, each with a lease of ``reservation_lease_seconds`` that a heartbeat renews; an
  expired lease returns the task to the queue (``leases_expire``, on every request for
  work and every minute from beat).
* **Order** (labeling): benchmark rows first — the first five tasks served to a person
  are benchmarks where they exist, then each further task is one with a 10 % chance —
  then rows assigned to the person, then batch priority (1 first), then age.
* **Never twice.** A row is reserved by one person at a time, except that a consensus row
  is served to as many distinct people as it needs labels; never twice to one person,
  nor to someone who labeled or skipped it. Hidden rows are never served.
* **Limits** (initial labeling step): a person's labels plus reservations stay within
  their limit, a group's within the group's.
* **Claims** lock candidate rows with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, in
  one short transaction; on SQLite the ``IMMEDIATE`` transaction serialises claimers.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from labelhub.access.authz import actor_user, can
from labelhub.access.permissions import Permission
from labelhub.access.services import require
from labelhub.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from labelhub.labeling.models import (
    Contributor,
    LabelingEvent,
    Reservation,
    Task,
)
from labelhub.labeling.selectors.queue import (
    benchmark_queryset,
    in_queue_order,
    label_queryset,
    review_queryset,
    rework_queryset,
    room_under_limits,
)
from labelhub.labeling.services.transitions import event_row, release
from labelhub.labeling.services.workflow import Workflow, workflow_of
from labelhub.projects.models import Project
from labelhub.projects.services.projects import instructions_acknowledged

Mode = Reservation.Mode
MODE_PERMISSION = {
    Mode.LABEL: Permission.LABEL,
    Mode.REVIEW: Permission.REVIEW,
    Mode.REWORK: Permission.REWORK,
}
BENCHMARKS_FIRST = 5
BENCHMARK_CHANCE = 0.1
#: where the 10 % draw comes from (tests seed it)
rng = random.Random()  # noqa: S311 -- a fair share of benchmarks, not a secret


def contributor_of(project: Project, user: Any) -> Contributor:
    """The person's standing in the project's queue (made on first use)."""
    contributor, _ = Contributor.objects.get_or_create(
        project=project, user=user, defaults={"workspace_id": project.workspace_id}
    )
    return contributor


def clean_mode(mode: Any) -> str:
    """A mode (label, review, rework) or a field error."""
    if mode not in Mode.values:
        raise ValidationFailed("Choose label, review or rework.", field="mode")
    return mode


def queue_next(
    *, project: Project, actor: Any, mode: Any = Mode.LABEL, step_id: Any = None
) -> list[Reservation]:
    """Reserve the next tasks for the actor in a mode (keeping those they hold, whose
    leases are renewed); returns every reservation they hold there, oldest first."""
    mode = clean_mode(mode)
    require(actor, MODE_PERMISSION[mode], project)
    user = actor_user(actor)
    if mode == Mode.LABEL and not instructions_acknowledged(project=project, user=user):
        message = "Read and acknowledge the project's instructions before the first task."
        raise Conflict(message, details={"instructions": [message]})
    contributor = contributor_of(project, user)
    if contributor.removed_at is not None:
        raise PermissionDenied(
            f"You were removed from this project's queue: {contributor.removed_reason}"
        )
    workflow = workflow_of(project)
    if step_id not in (None, "") and workflow.by_id(step_id) is None:
        raise NotFound("No such step in this project.")
    leases_expire(project=project)
    lease = timedelta(seconds=project.reservation_lease_seconds)
    with transaction.atomic():
        held = list(
            Reservation.objects.filter(project=project, user=user, mode=mode)
            .select_related("task")  # callers read each held task: one query, not one each
            .order_by("created_at", "id")
        )
        now = timezone.now()
        if held:
            Reservation.objects.filter(pk__in=[r.pk for r in held]).update(expires_at=now + lease)
        want = project.reservation_count - len(held)
        new: list[Reservation] = []
        if want > 0:
            claim = {
                Mode.LABEL: _claim_label,
                Mode.REVIEW: _claim_review,
                Mode.REWORK: _claim_rework,
            }
            tasks = claim[mode](project, workflow, user, want, contributor, step_id)
            new = _reserve(project, user, mode, tasks, now + lease, contributor)
    return held + new


def _lock(queryset, n: int) -> list[Task]:
    """Take up to ``n`` rows, skipping rows another claimer holds (PostgreSQL)."""
    if n <= 0:
        return []
    if connection.vendor == "postgresql":
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset[:n])


def _claim_label(project, workflow: Workflow, user, want, contributor, step_id) -> list[Task]:
    room = room_under_limits(project, workflow.label, user)
    if room is not None:
        want = min(want, room)
    if want <= 0:
        return []
    draws = [
        contributor.served + n < BENCHMARKS_FIRST or rng.random() < BENCHMARK_CHANCE
        for n in range(want)
    ]
    benchmarks = benchmark_queryset(project, user)
    picked = _lock_in_order(benchmarks, user, sum(draws)) if any(draws) else []
    picked += _lock_in_order(label_queryset(project, workflow, user), user, want - len(picked))
    return picked


def _lock_in_order(queryset, user, n: int) -> list[Task]:
    """Take up to ``n`` rows in queue order: assigned to the person first, then the rest."""
    assigned, unassigned = in_queue_order(queryset, user)
    picked = _lock(assigned, n)
    return picked + _lock(unassigned, n - len(picked))


def _claim_review(project, workflow: Workflow, user, want, contributor, step_id) -> list[Task]:
    return _lock(review_queryset(project, workflow, user, step_id), want)


def _claim_rework(project, workflow: Workflow, user, want, contributor, step_id) -> list[Task]:
    return _lock(rework_queryset(project, workflow, user), want)


def _reserve(project, user, mode, tasks: list[Task], expires, contributor) -> list[Reservation]:
    if not tasks:
        return []
    reservations = Reservation.objects.bulk_create(
        [
            Reservation(
                workspace_id=project.workspace_id,
                project=project,
                task=task,
                user=user,
                mode=mode,
                step_id=task.step_id,
                expires_at=expires,
            )
            for task in tasks
        ]
    )
    Task.objects.filter(pk__in=[t.pk for t in tasks]).update(reserved=F("reserved") + 1)
    benchmarks = sum(1 for t in tasks if t.is_benchmark)
    Contributor.objects.filter(pk=contributor.pk).update(
        served=F("served") + len(tasks), benchmarks_served=F("benchmarks_served") + benchmarks
    )
    LabelingEvent.objects.bulk_create(
        [event_row(LabelingEvent.Kind.RESERVED, t, actor_id=user.pk, mode=mode) for t in tasks]
    )
    for reservation, task in zip(reservations, tasks, strict=True):
        reservation.task = task
    return reservations


def reservation_of(*, task: Task, actor: Any, mode: Any = None) -> Reservation:
    """The actor's live reservation of a task (NotFound when they hold none)."""
    user = actor_user(actor)
    reservation = (
        Reservation.objects.filter(task=task, user=user, expires_at__gt=timezone.now())
        .select_related("step")
        .first()
    )
    if reservation is None or (mode is not None and reservation.mode != mode):
        raise NotFound("This task is not reserved for you; ask for the next task.")
    return reservation


def reservation_renew(*, task: Task, actor: Any, mode: Any = None) -> Reservation:
    """Heartbeat: extend the actor's lease on a task they hold."""
    reservation = reservation_of(task=task, actor=actor, mode=mode)
    reservation.expires_at = timezone.now() + timedelta(
        seconds=task.project.reservation_lease_seconds
    )
    Reservation.objects.filter(pk=reservation.pk).update(expires_at=reservation.expires_at)
    return reservation


def reservation_heartbeat(*, task: Task, user: Any, mode: str) -> None:
    """The task page's beat: extend the person's live lease in one statement (NotFound
    when they no longer hold the task: released, expired, or access lost)."""
    now = timezone.now()
    renewed = Reservation.objects.filter(
        task=task, user=user, mode=mode, expires_at__gt=now
    ).update(expires_at=now + timedelta(seconds=task.project.reservation_lease_seconds))
    if not renewed:
        raise NotFound("This task is not reserved for you; ask for the next task.")


def reservation_release(*, task: Task, actor: Any) -> None:
    """Give a reserved task back to the queue."""
    reservation = reservation_of(task=task, actor=actor)
    with transaction.atomic():
        release(reservation)


def leases_expire(*, project: Project | None = None, limit: int = 1000) -> int:
    """Return tasks whose lease ran out to the queue; how many."""
    expired = Reservation.objects.filter(expires_at__lte=timezone.now())
    if project is not None:
        expired = expired.filter(project=project)
    count = 0
    for reservation in list(expired[:limit]):
        with transaction.atomic():
            release(reservation, kind=LabelingEvent.Kind.LEASE_EXPIRED)
        count += 1
    return count


def reservations_drop(*, project: Project, user: Any) -> int:
    """Release every reservation a person holds in a project (removed from its queue, or
    no longer allowed to work there); how many."""
    dropped = 0
    for reservation in list(Reservation.objects.filter(project=project, user=user)):
        still_allowed = can(user, MODE_PERMISSION[reservation.mode], project)
        contributor = Contributor.objects.filter(project=project, user=user).first()
        if still_allowed and (contributor is None or contributor.removed_at is None):
            continue
        release(reservation)
        dropped += 1
    return dropped


def reservations_recheck(workspace_id: Any) -> int:
    """After an access change in a workspace: release the reservations whose holders may
    no longer work in that mode there (removed from the project, role changed); how many."""
    pairs = (
        Reservation.objects.filter(workspace_id=workspace_id)
        .values_list("project_id", "user_id")
        .distinct()
    )
    dropped = 0
    for project_id, user_id in list(pairs):
        project = Project.objects.filter(pk=project_id).first()
        user = get_user_model().objects.filter(pk=user_id).first()
        if project is not None and user is not None:
            dropped += reservations_drop(project=project, user=user)
    return dropped
