"""The one authorization entry point: ``can(actor, permission, obj)``."""

from __future__ import annotations

from typing import Any

from labelhub.access.permissions import Permission
from labelhub.access.roles import role_permissions
from labelhub.workspaces import selectors as ws_selectors
from labelhub.workspaces.models import Role, Workspace


def workspace_role(actor: Any, workspace: Workspace) -> str | None:
    """Return the actor's effective workspace role, or None when it has no access."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    membership = ws_selectors.membership_get(workspace=workspace, user=actor)
    if membership is not None:
        return membership.role
    # Tenant admins administer every workspace of their tenant without joining it.
    if ws_selectors.is_tenant_admin(user=actor, tenant_id=workspace.tenant_id):
        return Role.ADMIN
    return None


def permissions_for(actor: Any, workspace: Workspace) -> frozenset[Permission]:
    """Return every permission the actor holds in the workspace."""
    role = workspace_role(actor, workspace)
    if role is None:
        return frozenset()
    return role_permissions(role)


def can(actor: Any, permission: Permission, obj: Any) -> bool:
    """Answer whether the actor may exercise the permission on the object."""
    workspace = obj if isinstance(obj, Workspace) else getattr(obj, "workspace", None)
    if workspace is None:
        raise TypeError(f"cannot find the workspace of {obj!r}")
    return permission in permissions_for(actor, workspace)
