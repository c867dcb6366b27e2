"""Every write to a project's workflow, and where a task goes next.

A workflow is Initial labeling → review steps (any number, ordered) → Done, with Rework.
Every project has one; it is made with the defaults (one review step, *Initial review*)
the first time anything needs it. A review step takes a task when its filters match the
task (*Match all* / *Match any*; no filters: every task); a task that matches none of a
step's filters passes it by. Removing a review step moves its tasks to the step after it
(the next review step whose filters they match, else Done): nothing is lost.

Filters (``WorkflowStep.filters``), each a dict:

* ``{"field": "dataset", "values": [dataset ids]}``, ``{"field": "batch", "values": [...]}``
* ``{"field": "metadata", "name": "<field>", "values": ["a", "b"]}``
* ``{"field": "labeled_by", "values": [user ids]}`` (any label of the task by one of them)
* ``{"field": "labeling_seconds", "min": 0, "max": 600}`` (the task's labeling time)
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from labelhub.access.models import Group
from labelhub.access.permissions import Permission
from labelhub.access.services import require
from labelhub.core.audit import audit_record
from labelhub.core.errors import ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.core.validation import clean_text
from labelhub.labeling.models import Batch, Label, Task, WorkflowStep
from labelhub.labeling.services.transitions import queue_announce, task_move
from labelhub.projects.models import Dataset, Project
from labelhub.workspaces.models import Membership

Kind = WorkflowStep.Kind
DEFAULT_STEPS = (
    (Kind.LABEL, "Initial labeling", 0),
    (Kind.REVIEW, "Initial review", 1),
    (Kind.REWORK, "Rework", 900),
    (Kind.DONE, "Done", 1000),
)
STATUS_OF_KIND = {
    Kind.LABEL: Task.Status.TO_LABEL,
    Kind.REVIEW: Task.Status.IN_REVIEW,
    Kind.REWORK: Task.Status.IN_REWORK,
    Kind.DONE: Task.Status.DONE,
}
FILTER_FIELDS = ("dataset", "batch", "metadata", "labeled_by", "labeling_seconds")
MAX_FILTERS = 20
MAX_VALUES = 500
MAX_REVIEW_STEPS = 20


class Workflow:
    """A project's steps, by kind, in order."""

    def __init__(self, steps: list[WorkflowStep]):
        self.steps = sorted(steps, key=lambda s: s.position)
        self.label = next(s for s in self.steps if s.kind == Kind.LABEL)
        self.rework = next(s for s in self.steps if s.kind == Kind.REWORK)
        self.done = next(s for s in self.steps if s.kind == Kind.DONE)
        self.reviews = [s for s in self.steps if s.kind == Kind.REVIEW]

    def by_id(self, step_id: Any) -> WorkflowStep | None:
        """The step with this id, or None."""
        return next((s for s in self.steps if str(s.pk) == str(step_id)), None)


def workflow_of(project: Project) -> Workflow:
    """The project's workflow, made with the defaults the first time."""
    steps = list(WorkflowStep.objects.filter(project=project))
    if not steps:
        with transaction.atomic():
            # The project row's lock serialises two first uses.
            Project.objects.select_for_update().filter(pk=project.pk).first()
            steps = list(WorkflowStep.objects.filter(project=project))
            if not steps:
                steps = [
                    WorkflowStep.objects.create(
                        workspace_id=project.workspace_id,
                        project=project,
                        kind=kind,
                        name=name,
                        position=position,
                    )
                    for kind, name, position in DEFAULT_STEPS
                ]
    return Workflow(steps)


# --- where a task goes next ---------------------------------------------------------------


def _values(task: Task, field: dict) -> Any:
    return {str(v) for v in field.get("values", [])}


def filter_matches(task: Task, rule: dict, labels: list[Label]) -> bool:
    """Whether one filter holds for the task."""
    kind = rule.get("field")
    if kind == "dataset":
        return str(task.data_row.dataset_id) in _values(task, rule)
    if kind == "batch":
        return str(task.batch_id) in _values(task, rule)
    if kind == "metadata":
        value = (task.data_row.metadata or {}).get(rule.get("name"))
        values = value if isinstance(value, list) else [value]
        return bool({str(v) for v in values if v is not None} & _values(task, rule))
    if kind == "labeled_by":
        return bool({str(label.author_id) for label in labels} & _values(task, rule))
    if kind == "labeling_seconds":
        low, high = rule.get("min"), rule.get("max")
        seconds = task.seconds_labeling
        return (low is None or seconds >= low) and (high is None or seconds <= high)
    return False


def step_takes(step: WorkflowStep, task: Task, labels: list[Label]) -> bool:
    """Whether a review step takes the task (no filters: always)."""
    if not step.filters:
        return True
    results = (filter_matches(task, rule, labels) for rule in step.filters)
    return all(results) if step.match == WorkflowStep.Match.ALL else any(results)


def next_step(workflow: Workflow, task: Task, after: WorkflowStep) -> WorkflowStep:
    """The first review step after ``after`` that takes the task, else Done."""
    labels = list(Label.objects.filter(project_id=task.project_id, data_row_id=task.data_row_id))
    start = after.position if after.kind == Kind.REVIEW else -1
    for step in workflow.reviews:
        if step.position > start and step_takes(step, task, labels):
            return step
    return workflow.done


# --- edits ---------------------------------------------------------------------------------


def _clean_filters(project: Project, raw: Any) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_FILTERS:
        raise ValidationFailed(f"Give a list of at most {MAX_FILTERS} filters.", field="filters")
    clean = []
    for n, rule in enumerate(raw):
        where = f"filters[{n}]"
        if not isinstance(rule, dict) or rule.get("field") not in FILTER_FIELDS:
            raise ValidationFailed(
                f"{where}: give a field, one of {', '.join(FILTER_FIELDS)}.", field="filters"
            )
        kind = rule["field"]
        if kind == "labeling_seconds":
            low, high = rule.get("min"), rule.get("max")
            for bound in (low, high):
                if bound is not None and (
                    isinstance(bound, bool) or not isinstance(bound, int | float) or bound < 0
                ):
                    raise ValidationFailed(f"{where}: min and max are seconds.", field="filters")
            if low is None and high is None:
                raise ValidationFailed(f"{where}: give min, max or both.", field="filters")
            clean.append({"field": kind, "min": low, "max": high})
            continue
        values = rule.get("values")
        if (
            not isinstance(values, list)
            or not values
            or len(values) > MAX_VALUES
            or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in values)
        ):
            raise ValidationFailed(
                f"{where}: give values, a list of 1 to {MAX_VALUES} strings.", field="filters"
            )
        entry = {"field": kind, "values": sorted(set(values))}
        if kind in {"dataset", "batch", "labeled_by"}:
            if any(parse_id(v) is None for v in values):
                raise ValidationFailed(f"{where}: unknown {kind} ids.", field="filters")
            entry["values"] = sorted({str(parse_id(v)) for v in values})
            _check_ids(project, kind, entry["values"], where)
        if kind == "metadata":
            name = rule.get("name")
            if not isinstance(name, str) or not name.strip() or len(name) > 100:
                raise ValidationFailed(f"{where}: name the metadata field.", field="filters")
            entry["name"] = name.strip()
        clean.append(entry)
    return clean


def _check_ids(project: Project, kind: str, ids: list[str], where: str) -> None:
    """Ids in filters must belong to the project's workspace (others read as unknown)."""
    if kind == "dataset":
        found = Dataset.objects.filter(workspace_id=project.workspace_id, pk__in=ids).count()
    elif kind == "batch":
        found = Batch.objects.filter(project=project, pk__in=ids).count()
    else:
        found = Membership.objects.filter(
            workspace_id=project.workspace_id, user_id__in=ids
        ).count()
    if found != len(ids):
        raise ValidationFailed(f"{where}: unknown {kind} ids.", field="filters")


def _clean_people(project: Project, users: Any, groups: Any) -> tuple[list[str], list[str]]:
    out = []
    for raw, field in ((users, "reviewer_users"), (groups, "reviewer_groups")):
        if raw is None:
            out.append([])
            continue
        if not isinstance(raw, list) or len(raw) > MAX_VALUES:
            raise ValidationFailed("Give a list of ids.", field=field)
        ids = sorted({str(parse_id(v)) for v in raw if parse_id(v) is not None})
        if len(ids) != len(set(map(str, raw))):
            raise ValidationFailed("Unknown ids.", field=field)
        model = Membership if field == "reviewer_users" else Group
        key = "user_id__in" if field == "reviewer_users" else "pk__in"
        if model.objects.filter(workspace_id=project.workspace_id, **{key: ids}).count() != len(
            ids
        ):
            raise ValidationFailed("Unknown ids.", field=field)
        out.append(ids)
    return out[0], out[1]


def _clean_limits(project: Project, raw: Any, field: str) -> dict[str, int]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_VALUES:
        raise ValidationFailed("Give {id: limit}.", field=field)
    clean = {}
    for key, value in raw.items():
        if parse_id(key) is None or isinstance(value, bool) or not isinstance(value, int):
            raise ValidationFailed("Give {id: limit} with whole numbers.", field=field)
        if not 0 <= value <= 1_000_000:
            raise ValidationFailed("Limits run from 0 to 1,000,000.", field=field)
        clean[str(parse_id(key))] = value
    users, groups = (list(clean), None) if field == "user_limits" else (None, list(clean))
    _clean_people(project, users, groups)
    return clean


def review_step_add(
    *, project: Project, actor: Any, name: Any, position: Any = None
) -> WorkflowStep:
    """Add a review step (last of the review steps unless ``position`` says where)."""
    require(actor, Permission.MANAGE_WORKFLOW, project)
    name = clean_text(name, field="name", max_length=80)
    workflow = workflow_of(project)
    if len(workflow.reviews) >= MAX_REVIEW_STEPS:
        raise ValidationFailed(f"At most {MAX_REVIEW_STEPS} review steps.", field="name")
    with transaction.atomic():
        last = (
            WorkflowStep.objects.filter(project=project, kind=Kind.REVIEW).aggregate(
                n=Max("position")
            )["n"]
            or 0
        )
        step = WorkflowStep.objects.create(
            workspace_id=project.workspace_id,
            project=project,
            kind=Kind.REVIEW,
            name=name,
            position=last + 1,
        )
        if position is not None:
            _reorder(project, step, position)
        audit_record(
            workspace=project.workspace,
            actor=actor,
            verb="workflow.step_added",
            target=project,
            after={"step": name},
        )
        queue_announce(project.pk)
    return step


def _reorder(project: Project, step: WorkflowStep, position: Any) -> None:
    reviews = list(WorkflowStep.objects.filter(project=project, kind=Kind.REVIEW))
    if isinstance(position, bool) or not isinstance(position, int):
        raise ValidationFailed("Give the step's place among the review steps.", field="position")
    if not 1 <= position <= len(reviews):
        raise ValidationFailed(f"Give a place from 1 to {len(reviews)}.", field="position")
    order = [s for s in sorted(reviews, key=lambda s: s.position) if s.pk != step.pk]
    order.insert(position - 1, step)
    for n, s in enumerate(order, start=1):
        if s.position != n:
            WorkflowStep.objects.filter(pk=s.pk).update(position=n)
            s.position = n


def step_update(*, step: WorkflowStep, actor: Any, **changes: Any) -> WorkflowStep:
    """Change a step: name, place, reviewers, filters (review); assignment and attempts
    (rework); limits and labels per row (initial labeling)."""
    project = step.project
    require(actor, Permission.MANAGE_WORKFLOW, project)
    allowed = {
        Kind.LABEL: {"name", "user_limits", "group_limits", "max_labels_per_row"},
        Kind.REVIEW: {"name", "position", "reviewer_users", "reviewer_groups", "filters", "match"},
        Kind.REWORK: {"name", "assignment", "max_rework_attempts"},
        Kind.DONE: {"name"},
    }[step.kind]
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed(
            details={name: [f"Not a setting of a {step.kind} step."] for name in unknown}
        )
    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = clean_text(changes["name"], field="name", max_length=80)
    if "filters" in changes:
        clean["filters"] = _clean_filters(project, changes["filters"])
    if "match" in changes:
        if changes["match"] not in WorkflowStep.Match.values:
            raise ValidationFailed("Choose all or any.", field="match")
        clean["match"] = changes["match"]
    if "reviewer_users" in changes or "reviewer_groups" in changes:
        users, groups = _clean_people(
            project,
            changes.get("reviewer_users", step.reviewer_users),
            changes.get("reviewer_groups", step.reviewer_groups),
        )
        clean["reviewer_users"], clean["reviewer_groups"] = users, groups
    if "assignment" in changes:
        if changes["assignment"] not in WorkflowStep.Assignment.values:
            raise ValidationFailed("Choose any or creator.", field="assignment")
        clean["assignment"] = changes["assignment"]
    if "max_rework_attempts" in changes:
        value = changes["max_rework_attempts"]
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100
        ):
            raise ValidationFailed(
                "Give a number from 1 to 100, or null.", field="max_rework_attempts"
            )
        clean["max_rework_attempts"] = value
    for field in ("user_limits", "group_limits"):
        if field in changes:
            clean[field] = _clean_limits(project, changes[field], field)
    if "max_labels_per_row" in changes:
        value = changes["max_labels_per_row"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            raise ValidationFailed("Give a number from 1 to 100.", field="max_labels_per_row")
        clean["max_labels_per_row"] = value
    with transaction.atomic():
        step = WorkflowStep.objects.select_for_update().get(pk=step.pk)
        before = {k: getattr(step, k) for k in clean}
        for key, value in clean.items():
            setattr(step, key, value)
        step.save()
        if "position" in changes:
            _reorder(project, step, changes["position"])
        audit_record(
            workspace=project.workspace,
            actor=actor,
            verb="workflow.step_changed",
            target=project,
            before={"step": step.name, **{k: _plain(v) for k, v in before.items()}},
            after={"step": step.name, **{k: _plain(v) for k, v in clean.items()}},
        )
        queue_announce(project.pk)
    return step


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | list | dict | None) else str(value)


def review_step_remove(*, step: WorkflowStep, actor: Any) -> int:
    """Remove a review step; its tasks move on to the step after it. Returns how many moved."""
    project = step.project
    require(actor, Permission.MANAGE_WORKFLOW, project)
    if step.kind != Kind.REVIEW:
        raise ValidationFailed("Only review steps can be removed.", field="step")
    with transaction.atomic():
        step = WorkflowStep.objects.select_for_update().get(pk=step.pk)
        workflow = workflow_of(project)
        remaining = Workflow([s for s in workflow.steps if s.pk != step.pk])
        moved = 0
        tasks = Task.objects.filter(step=step).select_related("data_row", "step")
        for task in tasks.iterator(chunk_size=500):
            target = next_step(remaining, task, step)
            task_move(task=task, to=target, actor=actor, reason="step removed", release_all=True)
            moved += 1
        name = step.name
        step.delete()
        audit_record(
            workspace=project.workspace,
            actor=actor,
            verb="workflow.step_removed",
            target=project,
            before={"step": name},
            after={"tasks_moved": moved},
        )
        queue_announce(project.pk)
    return moved
