"""Reads of projects and tags: the project list (batches and tasks: ``labeling.selectors``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from labelhub.access.selectors import projects_visible_to
from labelhub.core.errors import NotFound, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.projects.models import Project, Tag
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
