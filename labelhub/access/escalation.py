"""No escalation: nobody grants, changes or takes away a permission they do not hold.

Every path that hands permissions to someone goes through one of these checks, inside
the service that writes it (so console, API, keys and scripts are covered alike):

* workspace roles (member role changes, removals, invitations): the actor must hold every
  permission the old and the new role give at workspace level; only Admins assign,
  change or remove the Admin role; nobody changes their own workspace role;
* project roles (grants to members and groups, group membership, group deletion): the
  actor must hold, on that project, every permission the old and new roles give there;
* role definitions (custom roles, group default roles): the actor must hold every
  permission of the old and new definition, wherever the role is already in use, and
  may not edit or delete a custom role they hold themselves;
* API keys are subsets of their owner (``accounts.services.api_key_create``).

Because a check needs the *old* role as well as the new one, a member whose role reaches
further than the actor's is out of the actor's reach (it cannot be demoted or removed by
them), which is what stops a "Manage members" role from removing the Admin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from labelhub.access.authz import (
    actor_user,
    effective_workspace_permissions,
    key_limit,
    permissions_for,
    project_permissions_for,
    workspace_role_ref,
)
from labelhub.access.models import CustomRole, ProjectGrant
from labelhub.access.permissions import PROJECT_PERMISSIONS, Permission, Scope
from labelhub.access.selectors import RoleRef, granted_project_codenames, role_ref_of
from labelhub.core.errors import PermissionDenied
from labelhub.workspaces.models import Membership, Role, Workspace

ADMIN_ONLY = "Only an Admin can assign, change or remove the Admin role."


def _refuse(missing: Iterable[Permission], what: str) -> NoReturn:
    names = ", ".join(sorted(p.value for p in missing))
    raise PermissionDenied(f"You cannot {what}: it involves permissions you do not hold ({names}).")


def actor_is_admin(actor: Any, workspace: Workspace) -> bool:
    """True when the actor acts with the full Admin role (a restricted key does not)."""
    ref = workspace_role_ref(actor, workspace)
    return ref is not None and ref.role == Role.ADMIN and key_limit(actor) is None


def _workspace_grants(ref: RoleRef) -> frozenset[Permission]:
    return effective_workspace_permissions(ref.workspace_permissions())


def ensure_may_assign_workspace_role(
    actor: Any, workspace: Workspace, *refs: RoleRef | None, what: str = "assign this role"
) -> None:
    """Refuse unless the actor holds everything each workspace role gives (Admin: Admins)."""
    present = [r for r in refs if r is not None]
    if any(r.role == Role.ADMIN for r in present) and not actor_is_admin(actor, workspace):
        raise PermissionDenied(ADMIN_ONLY)
    held = permissions_for(actor, workspace)
    missing = set().union(*(_workspace_grants(r) for r in present)) - held
    if missing:
        _refuse(missing, what)


def ensure_not_self(actor: Any, membership: Membership) -> None:
    """Refuse a change of the actor's own workspace role."""
    user = actor_user(actor)
    if user is not None and membership.user_id == user.pk:
        message = "You cannot change your own role; ask another member who manages members."
        raise PermissionDenied(message, details={"role": [message]})


def ensure_may_assign_project_role(
    actor: Any, project: Any, *refs: RoleRef | None, what: str = "assign this project role"
) -> None:
    """Refuse unless the actor holds, on the project, everything each project role gives."""
    wanted = set().union(*(r.project_permissions() for r in refs if r is not None))
    missing = wanted - project_permissions_for(actor, project)
    if missing:
        _refuse(missing, what)


def ensure_may_change_group_reach(actor: Any, group: Any, what: str) -> None:
    """Refuse unless the actor holds what the group gives on each of its projects."""
    grants = ProjectGrant.objects.filter(group=group).select_related(
        "project__workspace", "custom_role"
    )
    for grant in grants:
        ensure_may_assign_project_role(actor, grant.project, role_ref_of(grant), what=what)


def definable_permissions(actor: Any, workspace: Workspace) -> frozenset[Permission]:
    """Permissions the actor may put into a role definition (or an API key).

    Workspace-level permissions, plus project permissions held on any project of the
    workspace (through the workspace role or project grants).
    """
    held = set(permissions_for(actor, workspace))
    user = actor_user(actor)
    if user is not None:
        held |= {Permission(c) for c in granted_project_codenames(user=user, workspace=workspace)}
    limit = key_limit(actor)
    return frozenset(held & limit if limit is not None else held)


def custom_roles_held(actor: Any, workspace: Workspace) -> set[Any]:
    """Ids of the custom roles the actor holds: workspace role and project grants."""
    user = actor_user(actor)
    if user is None:
        return set()
    ids = set(
        Membership.objects.filter(
            workspace=workspace, user=user, custom_role__isnull=False
        ).values_list("custom_role_id", flat=True)
    )
    ids |= set(
        ProjectGrant.objects.filter(
            workspace=workspace, custom_role__isnull=False, user=user
        ).values_list("custom_role_id", flat=True)
    )
    ids |= set(
        ProjectGrant.objects.filter(
            workspace=workspace, custom_role__isnull=False, group__auth_group__user=user
        ).values_list("custom_role_id", flat=True)
    )
    return ids


def ensure_may_define_role(
    actor: Any,
    workspace: Workspace,
    scope: Scope | str,
    *permission_sets: Iterable[Permission],
    role: CustomRole | None = None,
    what: str = "define this role",
) -> None:
    """Refuse a role definition (or change) reaching beyond the actor's own permissions.

    ``permission_sets`` are the old and/or new permissions; ``role`` is the existing role,
    whose current uses (memberships, project grants) must stay within the actor's reach.
    """
    if role is not None and role.pk in custom_roles_held(actor, workspace):
        raise PermissionDenied(
            "You cannot change a role you hold yourself; ask another member who manages roles."
        )
    wanted = frozenset().union(*(frozenset(s) for s in permission_sets))
    if Scope(scope) == Scope.WORKSPACE:
        missing = effective_workspace_permissions(wanted) - permissions_for(actor, workspace)
    else:
        missing = wanted - definable_permissions(actor, workspace)
    if missing:
        _refuse(missing, what)
    if role is not None and Scope(scope) == Scope.PROJECT:
        in_use = ProjectGrant.objects.filter(custom_role=role).select_related("project__workspace")
        projects = {grant.project_id: grant.project for grant in in_use}
        for project in projects.values():
            missing = (wanted & PROJECT_PERMISSIONS) - project_permissions_for(actor, project)
            if missing:
                _refuse(missing, what)
