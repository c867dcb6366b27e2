"""The one authorization entry point: ``can(actor, permission, obj)``.

What an actor holds is worked out once per request (``core.context.memoized``): the
views, the services and the two-factor rule all ask, and the answers cannot change
inside a request except through access's own writes, which ``forget`` them.

Actors are users or API keys. Objects are a workspace, a project, or anything carrying a
``project`` or ``workspace`` attribute. A user's permissions are the union of:

* the workspace role (system or custom) — its project permissions count in every project
  only when it holds ``access_all_projects``;
* project grants, direct and through groups (django-guardian object permissions).

An API key holds its owner's permissions, restricted to the key's own list when it has
one, and nothing once it is revoked or expired or its owner has left the workspace.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction
from guardian.core import ObjectPermissionChecker

from labelhub.access.models import ApiKey
from labelhub.access.permissions import PROJECT_PERMISSIONS, Permission, Scope
from labelhub.access.selectors import RoleRef, role_ref_of
from labelhub.core.context import forget, memoized
from labelhub.workspaces import selectors as ws_selectors
from labelhub.workspaces.models import Role, Workspace

T = TypeVar("T")


def actor_user(actor: Any) -> Any:
    """The user an actor acts as (an API key's owner), or None when it cannot act."""
    if isinstance(actor, ApiKey):
        return actor.owner if actor.status == "active" else None
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    return actor


def key_limit(actor: Any) -> frozenset[Permission] | None:
    """The permissions an API key is restricted to, or None (no restriction / not a key)."""
    if isinstance(actor, ApiKey) and actor.permissions is not None:
        return frozenset(
            Permission(c) for c in actor.permissions if c in Permission._value2member_map_
        )
    return None


def workspace_role(actor: Any, workspace: Workspace) -> str | None:
    """Return the effective system role code (``custom`` for custom roles), or None."""
    ref = workspace_role_ref(actor, workspace)
    return ref.role if ref else None


#: called after commit with a workspace id whenever who holds what there may have changed
_permission_listeners: list[Callable[[Any], None]] = []


def register_permissions_listener(listener: Callable[[Any], None]) -> None:
    """Ask to hear ``listener(workspace_id)`` after any access write in a workspace commits
    (the labeling queue drops reservations their holders may no longer work on)."""
    if listener not in _permission_listeners:
        _permission_listeners.append(listener)


def _announce(workspace_id: Any) -> None:
    forget()  # the listeners ask can() about the new state
    for listener in _permission_listeners:
        listener(workspace_id)


def forgets_permissions(service: Callable[..., T]) -> Callable[..., T]:
    """Decorate a service that changes who holds what: the request forgets what it knew,
    and the permission listeners hear of the workspace once the change commits."""

    @functools.wraps(service)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            result = service(*args, **kwargs)
        finally:
            forget()
        workspace = kwargs.get("workspace")
        workspace_id = getattr(workspace, "pk", None)
        if workspace_id is not None and _permission_listeners:
            transaction.on_commit(functools.partial(_announce, workspace_id))
        return result

    return wrapper


def _actor_key(actor: Any) -> Any:
    """How the request's memo tells actors apart (None: not remembered)."""
    if isinstance(actor, ApiKey):
        return ("key", actor.pk)
    pk = getattr(actor, "pk", None)
    return ("user", pk) if pk is not None else None


def _remember(kind: str, actor: Any, obj: Any, compute: Any) -> Any:
    """Work an answer out once per request (``core.context.memoized``)."""
    key = _actor_key(actor)
    if key is None or getattr(obj, "pk", None) is None:
        return compute()
    return memoized((kind, key, obj.pk), compute)


def workspace_role_ref(actor: Any, workspace: Workspace):
    """Return the RoleRef the actor holds in the workspace, or None without access."""
    return _remember("role", actor, workspace, lambda: _workspace_role_ref(actor, workspace))


def _workspace_role_ref(actor: Any, workspace: Workspace):
    user = actor_user(actor)
    if user is None:
        return None
    membership = ws_selectors.membership_get(workspace=workspace, user=user)
    if membership is not None:
        return role_ref_of(membership)
    # Tenant admins administer every workspace of their tenant without joining it.
    if ws_selectors.is_tenant_admin(user=user, tenant_id=workspace.tenant_id):
        return RoleRef(Role.ADMIN)
    return None


def effective_workspace_permissions(perms: frozenset[Permission]) -> frozenset[Permission]:
    """What a workspace role with these permissions gives: project ones only with access-all."""
    perms = frozenset(perms) | {Permission.VIEW_WORKSPACE}
    if Permission.ACCESS_ALL_PROJECTS not in perms:
        perms = perms - PROJECT_PERMISSIONS
    return perms


def permissions_for(actor: Any, workspace: Workspace) -> frozenset[Permission]:
    """Every permission the actor holds at workspace level (project ones: in all projects)."""
    return _remember("workspace", actor, workspace, lambda: _permissions_for(actor, workspace))


def _permissions_for(actor: Any, workspace: Workspace) -> frozenset[Permission]:
    ref = workspace_role_ref(actor, workspace)
    if ref is None:
        return frozenset()
    perms = effective_workspace_permissions(ref.workspace_permissions())
    limit = key_limit(actor)
    return frozenset(perms & limit if limit is not None else perms)


def project_permissions_for(actor: Any, project: Any) -> frozenset[Permission]:
    """Every permission the actor holds on one project."""
    return _remember("project", actor, project, lambda: _project_permissions_for(actor, project))


def _project_permissions_for(actor: Any, project: Any) -> frozenset[Permission]:
    user = actor_user(actor)
    ref = workspace_role_ref(actor, project.workspace)
    if ref is None:
        return frozenset()
    perms = set(effective_workspace_permissions(ref.workspace_permissions()))
    granted = ObjectPermissionChecker(user).get_perms(project)
    perms |= {Permission(c) for c in granted if c in Permission._value2member_map_}
    limit = key_limit(actor)
    return frozenset(perms & limit if limit is not None else perms)


#: the model whose rows carry project permissions (guardian object permissions); named,
#: not imported: projects sit above access
PROJECT_MODEL = "projects.project"


def _project_of(obj: Any) -> Any:
    meta = getattr(obj, "_meta", None)
    if meta is not None and meta.label_lower == PROJECT_MODEL:
        return obj
    return getattr(obj, "project", None)


def can(actor: Any, permission: Permission, obj: Any) -> bool:
    """Answer whether the actor may exercise the permission on the object."""
    project = _project_of(obj)
    if project is not None and permission.scope == Scope.PROJECT:
        return permission in project_permissions_for(actor, project)
    workspace = obj if isinstance(obj, Workspace) else getattr(obj, "workspace", None)
    if workspace is None and project is not None:
        workspace = project.workspace
    if workspace is None:
        raise TypeError(f"cannot find the workspace of {obj!r}")
    return permission in permissions_for(actor, workspace)
