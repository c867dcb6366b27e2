"""Every write to tenants and workspaces (memberships and their roles: ``access``)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from labelhub.core.audit import audit_record
from labelhub.core.errors import Conflict, NotFound
from labelhub.core.validation import clean_text
from labelhub.workspaces.models import (
    LastWorkspace,
    Membership,
    Role,
    Tenant,
    TenantAdmin,
    Workspace,
)
from labelhub.workspaces.selectors import (
    SESSION_WORKSPACE_KEY,
    access_workspace,
    default_workspace_for,
    is_tenant_admin,
)


def _clean_name(name: Any, *, field: str = "name", max_length: int = 120) -> str:
    return clean_text(name, field=field, max_length=max_length)


def tenant_create(*, name: str, workspace_name: str, admin: Any) -> tuple[Tenant, Workspace]:
    """Create a tenant, its first workspace, and make ``admin`` tenant admin and workspace Admin."""
    name = _clean_name(name)
    workspace_name = _clean_name(workspace_name, field="workspace")
    with transaction.atomic():
        if Tenant.objects.filter(name__iexact=name).exists():
            raise Conflict("A tenant with this name already exists.", details={"name": ["taken"]})
        tenant = Tenant.objects.create(name=name)
        TenantAdmin.objects.create(tenant=tenant, user=admin)
        workspace = _workspace_insert(tenant=tenant, name=workspace_name, actor=admin)
        audit_record(
            workspace=workspace,
            actor=admin,
            verb="tenant.created",
            target=tenant,
            after={"name": tenant.name, "tenant_admin": admin.email},
        )
    return tenant, workspace


def _workspace_insert(*, tenant: Tenant, name: str, actor: Any) -> Workspace:
    if Workspace.objects.filter(tenant=tenant, name__iexact=name).exists():
        raise Conflict(
            "A workspace with this name already exists in the tenant.",
            details={"name": ["A workspace with this name already exists in the tenant."]},
        )
    workspace = Workspace.objects.create(tenant=tenant, name=name)
    Membership.objects.create(workspace=workspace, user=actor, role=Role.ADMIN)
    audit_record(
        workspace=workspace,
        actor=actor,
        verb="workspace.created",
        target=workspace,
        after={"name": name, "tenant": tenant.name},
    )
    return workspace


def workspace_create(*, tenant: Tenant, actor: Any, name: str) -> Workspace:
    """Create a workspace in a tenant the actor administers; the actor becomes its Admin."""
    name = _clean_name(name)
    if not is_tenant_admin(user=actor, tenant_id=tenant.pk):
        raise NotFound("Tenant not found.")
    try:
        with transaction.atomic():
            return _workspace_insert(tenant=tenant, name=name, actor=actor)
    except IntegrityError as exc:  # a concurrent create with the same name won the race
        raise Conflict(
            "A workspace with this name already exists in the tenant.",
            details={"name": ["A workspace with this name already exists in the tenant."]},
        ) from exc


def workspace_switch(*, session: Any, user: Any, workspace_id: Any) -> Workspace:
    """Make a workspace the session's current one; non-members get NotFound."""
    workspace = access_workspace(user=user, id=workspace_id)
    workspace_enter(session=session, user=user, workspace=workspace)
    return workspace


def workspace_enter(*, session: Any, user: Any, workspace: Workspace) -> None:
    """Work in ``workspace`` from now on, in this session and after the next sign-in.

    The caller has checked that the user may enter it (a switch, an accepted invitation,
    the first run).
    """
    session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
    LastWorkspace.objects.update_or_create(user=user, defaults={"workspace": workspace})


def session_start(*, session: Any, user: Any) -> None:
    """At sign-in, put the user in the workspace they last chose, else the busiest one.

    Stored in the session so the choice is worked out once per sign-in, not per request.
    """
    workspace = default_workspace_for(user=user)
    if workspace is not None:
        session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
