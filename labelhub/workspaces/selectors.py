"""Reads of tenants, workspaces and memberships."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from labelhub.core.errors import NotFound
from labelhub.core.ids import parse_id
from labelhub.workspaces import hooks
from labelhub.workspaces.models import (
    LastWorkspace,
    Membership,
    Role,
    Tenant,
    TenantAdmin,
    Workspace,
)


def membership_get(*, workspace: Workspace, user: Any) -> Membership | None:
    """Return the user's membership in the workspace, or None."""
    return Membership.objects.filter(workspace=workspace, user=user).first()


def is_tenant_admin(*, user: Any, tenant_id: Any) -> bool:
    """True when the user administers the tenant."""
    return TenantAdmin.objects.filter(user=user, tenant_id=tenant_id).exists()


def tenants_administered(*, user: Any) -> QuerySet[Tenant]:
    """Tenants the user administers."""
    return Tenant.objects.filter(admin_links__user=user).order_by("name")


def workspaces_for_user(*, user: Any) -> QuerySet[Workspace]:
    """Workspaces the user can enter: memberships plus every workspace of tenants it runs."""
    if not getattr(user, "is_authenticated", False):
        return Workspace.objects.none()
    return Workspace.objects.filter(
        Q(pk__in=Membership.objects.filter(user=user).values("workspace_id"))
        | Q(tenant_id__in=TenantAdmin.objects.filter(user=user).values("tenant_id"))
    ).order_by("name")


def access_workspace(*, user: Any, id: Any) -> Workspace:
    """Return a workspace the user can enter; missing and forbidden answer the same."""
    ws = Workspace.objects.select_related("tenant").filter(pk=parse_id(id)).first()
    if ws is None or not (
        Membership.objects.filter(workspace=ws, user=user).exists()
        or is_tenant_admin(user=user, tenant_id=ws.tenant_id)
    ):
        raise NotFound("Workspace not found.")
    return ws


def member_list(*, workspace: Workspace) -> QuerySet[Membership]:
    """Members of the workspace with their users, oldest first."""
    return Membership.objects.filter(workspace=workspace).select_related("user")


def access_membership(*, workspace: Workspace, id: Any) -> Membership:
    """Return a membership of this workspace by id, or raise NotFound."""
    m = member_list(workspace=workspace).filter(pk=parse_id(id)).first()
    if m is None:
        raise NotFound("Member not found.")
    return m


def admin_count(*, workspace: Workspace) -> int:
    """Number of members holding the Admin role."""
    return Membership.objects.filter(workspace=workspace, role=Role.ADMIN).count()


SESSION_WORKSPACE_KEY = "current_workspace_id"


def current_workspace_for(request: Any) -> Workspace | None:
    """Return the workspace a request acts in: the session's choice, else the default."""
    cached = getattr(request, "_labelhub_workspace", False)
    if cached is not False:
        return cached
    request._labelhub_workspace = _resolve_workspace(request)
    return request._labelhub_workspace


def _resolve_workspace(request: Any) -> Workspace | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    session = getattr(request, "session", None)
    wanted = parse_id(session.get(SESSION_WORKSPACE_KEY)) if session is not None else None
    ids = list(workspaces_for_user(user=user).values_list("pk", flat=True))
    chosen = wanted if wanted in ids else _default_among(user, ids)
    if chosen is None:
        return None
    return Workspace.objects.select_related("tenant").get(pk=chosen)


def default_workspace_for(*, user: Any) -> Workspace | None:
    """Where a user lands without a choice in the session (see ``_default_among``)."""
    chosen = _default_among(user, list(workspaces_for_user(user=user).values_list("pk", flat=True)))
    return Workspace.objects.select_related("tenant").get(pk=chosen) if chosen else None


def _default_among(user: Any, ids: list[Any]) -> Any:
    """The workspace (of ``ids``, ordered by name) the user last chose while they may still
    enter it; else the one holding the most projects, data rows and labels together, the
    first by name on a tie or when all are empty.

    Most work, not most of the user's own work: a new member has none anywhere, and the
    busiest workspace is where there is something to see (the demo puts everything in
    *Vision*, while *Text & Documents* comes first by name and holds nothing).
    """
    if len(ids) <= 1:
        return ids[0] if ids else None
    last = (
        LastWorkspace.objects.filter(user=user, workspace_id__in=ids)
        .values_list("workspace_id", flat=True)
        .first()
    )
    if last is not None:
        return last
    activity = hooks.workspace_activity(ids)
    return max(ids, key=lambda pk: activity.get(pk, 0))  # max keeps the first of equals
