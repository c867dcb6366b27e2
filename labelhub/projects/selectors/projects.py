"""Reads of projects and tags: the project list (batches and tasks: ``labeling.selectors``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, QuerySet
from guardian.shortcuts import get_objects_for_user

from labelhub.access.authz import actor_user, can, key_limit, permissions_for
from labelhub.access.permissions import Permission
from labelhub.core.errors import NotFound, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.projects.models import DataRow, Project, Tag
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


def projects_visible_to(*, actor: Any, workspace: Workspace) -> QuerySet:
    """Projects of the workspace the actor may view (workspace role or grants)."""
    # Projects being deleted in the background are already gone for everyone.
    scoped = Project.objects.filter(workspace=workspace, deleting_since__isnull=True)
    perms = permissions_for(actor, workspace)
    if Permission.VIEW_WORKSPACE not in perms:
        return scoped.none()
    if Permission.VIEW_PROJECT in perms:  # a role that reaches every project
        return scoped
    limit = key_limit(actor)
    if limit is not None and Permission.VIEW_PROJECT not in limit:
        return scoped.none()
    return get_objects_for_user(
        actor_user(actor), "projects.view_project", klass=scoped, accept_global_perms=False
    )


def access_project(
    *, workspace: Workspace, actor: Any, id: Any, permission: Permission = Permission.VIEW_PROJECT
) -> Project:
    """The project of this workspace with this id that the actor may view (and, when
    given, exercise ``permission`` on); NotFound otherwise, the same for a missing, a
    foreign, a hidden or a deleting project. The API, the console and the websocket use it.
    """
    project = (
        Project.objects.select_related("workspace", "ontology")
        .filter(workspace=workspace, pk=parse_id(id), deleting_since__isnull=True)
        .first()
    )
    if project is None or not can(actor, Permission.VIEW_PROJECT, project):
        raise NotFound("Project not found.")
    if permission != Permission.VIEW_PROJECT and not can(actor, permission, project):
        raise NotFound("Project not found.")
    return project


def workspace_activity(workspace_ids: Sequence[Any]) -> dict[Any, int]:
    """Projects plus data rows per workspace (part of where a sign-in lands first)."""
    out: dict[Any, int] = {}
    for model in (Project, DataRow):
        counts = (
            model.objects.filter(workspace_id__in=list(workspace_ids))
            .order_by()
            .values("workspace_id")
            .annotate(n=Count("pk"))
            .values_list("workspace_id", "n")
        )
        for workspace_id, n in counts:
            out[workspace_id] = out.get(workspace_id, 0) + n
    return out
