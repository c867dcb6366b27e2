"""Reads of projects, tags, batches, tasks: the project list, overview and data rows tab."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from labelhub.access.selectors import projects_visible_to
from labelhub.core.errors import NotFound, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.projects.models import Batch, Project, Tag, Task
from labelhub.workspaces.models import Workspace

SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


def project_list(
    *,
    actor: Any,
    workspace: Workspace,
    tags: list | None = None,
    search: str = "",
    sort: str = "name",
) -> QuerySet[Project]:
    """Projects the actor may see, filtered by tags (any of them) and a name search."""
    qs = projects_visible_to(actor=actor, workspace=workspace)
    if tags:
        ids = [parse_id(t) for t in tags]
        if None in ids:
            raise ValidationFailed("Unknown tag.", field="tags")
        qs = qs.filter(tags__in=ids).distinct()
    if search:
        qs = qs.filter(name__icontains=search.strip())
    if sort not in SORTS:
        raise ValidationFailed(f"Sort by one of: {', '.join(SORTS)}.", field="sort")
    return qs.order_by(*SORTS[sort]).prefetch_related("tags")


def tag_list(*, workspace: Workspace) -> QuerySet[Tag]:
    """Tags of the workspace with how many projects use each."""
    return (
        Tag.objects.filter(workspace=workspace)
        .annotate(project_count=Count("projects"))
        .order_by("name")
    )


def access_tag(*, workspace: Workspace, id: Any) -> Tag:
    """A tag of the workspace, or NotFound."""
    tag = Tag.objects.filter(workspace=workspace, pk=parse_id(id)).first()
    if tag is None:
        raise NotFound("Tag not found.")
    return tag


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
