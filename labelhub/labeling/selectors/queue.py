"""Reads of the queue: which tasks a person may be served in each mode, how many wait
for them, and a project's counts per step (the services claim from these querysets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When

from labelhub.access.models import Group
from labelhub.labeling.models import Contributor, Label, Reservation, Skip, Task, WorkflowStep
from labelhub.projects.models import Project

if TYPE_CHECKING:  # the services build workflows; reads only take them
    from labelhub.labeling.services.workflow import Workflow

Mode = Reservation.Mode


def candidates(project: Project, user: Any):
    """Rows of the project the person may be served: not hidden, not theirs already."""
    mine = Label.objects.filter(project=project, data_row=OuterRef("data_row"), author=user)
    return (
        Task.objects.filter(project=project, hidden=False)
        .filter(Q(assigned_to__isnull=True) | Q(assigned_to=user))
        .exclude(Exists(mine))
        .exclude(Exists(Skip.objects.filter(task=OuterRef("pk"), user=user)))
        .exclude(Exists(Reservation.objects.filter(task=OuterRef("pk"), user=user)))
    )


QUEUE_ORDER = ("priority", "created_at", "id")


def by_priority(queryset, user: Any):
    assigned = Case(
        When(assigned_to=user, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return queryset.order_by(assigned, *QUEUE_ORDER)


def in_queue_order(queryset, user: Any) -> tuple[Any, Any]:
    """``by_priority`` as two querysets to take from in turn: the rows assigned to the
    person, then the unassigned ones, each by priority and age. Each one walks an index
    in order and stops at its LIMIT, where ``by_priority``'s computed first key makes
    PostgreSQL sort every candidate row of the project (a second at 100,000 tasks)."""
    return (
        queryset.filter(assigned_to=user).order_by(*QUEUE_ORDER),
        queryset.filter(assigned_to__isnull=True).order_by(*QUEUE_ORDER),
    )


def room_under_limits(project: Project, step: WorkflowStep, user: Any) -> int | None:
    """How many more tasks the person may hold or label under the initial labeling step's
    per-user and per-group limits (None: no limit applies)."""
    room: int | None = None
    label_reservations = Reservation.objects.filter(project=project, mode=Mode.LABEL)
    labels = Label.objects.filter(project=project, origin=Label.Origin.HUMAN)
    own = step.user_limits.get(str(user.pk))
    if own is not None:
        used = labels.filter(author=user).count() + label_reservations.filter(user=user).count()
        room = own - used
    if step.group_limits:
        groups = Group.objects.filter(pk__in=list(step.group_limits), auth_group__user=user)
        for group in groups:
            members = group.auth_group.user_set.values("pk")
            used = (
                labels.filter(author__in=members).count()
                + label_reservations.filter(user__in=members).count()
            )
            left = step.group_limits[str(group.pk)] - used
            room = left if room is None else min(room, left)
    return None if room is None else max(room, 0)


def label_queryset(project: Project, workflow: Workflow, user: Any):
    """Rows waiting in initial labeling that the person may be served (benchmarks apart)."""
    return candidates(project, user).filter(
        step=workflow.label,
        is_benchmark=False,
        labels_needed__gt=F("labels_done") + F("reserved"),
    )


def benchmark_queryset(project: Project, user: Any):
    """Benchmark rows the person has not labeled yet."""
    return candidates(project, user).filter(is_benchmark=True)


def is_reviewer(step: WorkflowStep, user: Any) -> bool:
    """Whether a review step has the person among its reviewers (no list: everyone who
    may review)."""
    if not step.reviewer_users and not step.reviewer_groups:
        return True
    if str(user.pk) in step.reviewer_users:
        return True
    return Group.objects.filter(pk__in=step.reviewer_groups, auth_group__user=user).exists()


def review_queryset(project: Project, workflow: Workflow, user: Any, step_id: Any = None):
    """Tasks waiting in the review steps the person reviews (never their own labels)."""
    steps = [
        s
        for s in workflow.reviews
        if (step_id in (None, "") or str(s.pk) == str(step_id)) and is_reviewer(s, user)
    ]
    mine = Label.objects.filter(project=project, data_row=OuterRef("data_row"), author=user)
    return (
        Task.objects.filter(project=project, step__in=steps, hidden=False, reserved=0)
        .exclude(Exists(mine))
        .order_by("priority", "updated_at", "id")
    )


def rework_queryset(project: Project, workflow: Workflow, user: Any):
    """Tasks waiting in Rework for the person: any, or (*Label creator*) their own rejected
    labels while they have attempts left, and others' past the cap."""
    step = workflow.rework
    tasks = Task.objects.filter(project=project, step=step, hidden=False, reserved=0).filter(
        Q(assigned_to__isnull=True) | Q(assigned_to=user)
    )
    if step.assignment == WorkflowStep.Assignment.CREATOR:
        rejected = Label.objects.filter(
            project=project, data_row=OuterRef("data_row"), status=Label.Status.REJECTED
        )
        cap = step.max_rework_attempts
        own = rejected.filter(author=user)
        if cap is not None:
            # the creator has ``cap`` attempts; after them the row goes to someone else
            own = own.filter(rework_count__lt=cap)
            others = rejected.filter(rework_count__gte=cap).exclude(author=user)
            tasks = tasks.filter(Q(Exists(own)) | Q(Exists(others)))
        else:
            tasks = tasks.filter(Exists(own))
    return tasks.order_by("priority", "updated_at", "id")


def step_counts(project_id: Any) -> dict[str, int]:
    """Tasks per step of a project ({step id: count}), hidden ones included."""
    rows = (
        Task.objects.filter(project_id=project_id)
        .values_list("step_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {str(step): n for step, n in rows if step is not None}


def waiting_for(project: Project, workflow: Workflow, user: Any) -> dict[str, int]:
    """How many tasks wait for the person in each mode (what *Start labeling* shows);
    nothing for someone taken out of the project's queue."""
    if Contributor.objects.filter(project=project, user=user, removed_at__isnull=False).exists():
        return {Mode.LABEL: 0, Mode.REVIEW: 0, Mode.REWORK: 0}
    label = label_queryset(project, workflow, user).count()
    label += benchmark_queryset(project, user).count()
    room = room_under_limits(project, workflow.label, user)
    return {
        Mode.LABEL: label if room is None else min(label, room),
        Mode.REVIEW: review_queryset(project, workflow, user).count(),
        Mode.REWORK: rework_queryset(project, workflow, user).count(),
    }
