"""Reads of batches and tasks: the project overview's counts, the batches list and the
data rows tab's filters."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from labelhub.core.errors import ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.labeling.models import Batch, Task
from labelhub.projects.models import Project


def rows_in_project(*, project: Project, data_row_ids: list[Any]) -> list[Any]:
    """Which of the data rows have a task in the project (were sent in a batch)."""
    return list(
        Task.objects.filter(project=project, data_row_id__in=data_row_ids).values_list(
            "data_row_id", flat=True
        )
    )


def status_counts(*, project: Project) -> dict[str, int]:
    """Tasks per status (every status present, zero when empty)."""
    counts = dict.fromkeys(Task.Status.values, 0)
    for row in Task.objects.filter(project=project).values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def batch_list(*, project: Project) -> QuerySet[Batch]:
    """Batches of the project with row counts per status."""
    return batches_with_counts(Batch.objects.filter(project=project))


def batches_with_counts(queryset: QuerySet[Batch]) -> QuerySet[Batch]:
    """Annotate batches with their row, queued and done counts."""
    return queryset.annotate(
        row_count=Count("tasks"),
        queued_count=Count(
            "tasks", filter=Q(tasks__status=Task.Status.TO_LABEL, tasks__labeled=False)
        ),
        done_count=Count("tasks", filter=Q(tasks__status=Task.Status.DONE)),
    ).order_by("-created_at", "-id")


#: conditions the data rows tab understands: name -> how it turns a value into a Q
def _condition(name: str, value: str) -> Q:
    if name == "dataset":
        return Q(data_row__dataset_id=parse_id(value))
    if name == "batch":
        return Q(batch_id=parse_id(value))
    if name == "status":
        if value not in Task.Status.values:
            raise ValidationFailed(f"Unknown status {value!r}.", field="status")
        return Q(status=value)
    if name == "global_key":
        return Q(data_row__global_key=value)
    if name == "data_row":
        return Q(data_row_id=parse_id(value))
    if name.startswith("metadata."):
        field = name.removeprefix("metadata.")
        if not field or not field.replace("_", "").replace("-", "").isalnum():
            raise ValidationFailed("Unknown metadata field.", field=name)
        return Q(**{f"data_row__metadata__{field}": value})
    raise ValidationFailed("Unknown filter.", field=name)


FILTER_NAMES = ("dataset", "batch", "status", "global_key", "data_row")


def task_filter(
    *,
    project: Project,
    conditions: list[tuple[str, str]],
    match: str = "all",
    queryset: QuerySet[Task] | None = None,
) -> QuerySet[Task]:
    """The data rows tab: the project's tasks matching all (AND) or any (OR) conditions."""
    if match not in {"all", "any"}:
        raise ValidationFailed("match is all or any.", field="match")
    base = queryset if queryset is not None else Task.objects.filter(project=project)
    qs = base.select_related("data_row", "data_row__dataset", "batch")
    if conditions:
        combined = Q()
        for name, value in conditions:
            q = _condition(name, value)
            combined = (combined & q) if match == "all" else (combined | q)
        qs = qs.filter(combined)
    return qs.order_by("priority", "created_at", "id")


def conditions_from_query(params: Any) -> list[tuple[str, str]]:
    """Read filter conditions from query parameters (repeatable, ``metadata.<name>=`` too)."""
    out = []
    for key in params:
        if key in FILTER_NAMES or key.startswith("metadata."):
            out.extend((key, v) for v in params.getlist(key) if v != "")
    return out
