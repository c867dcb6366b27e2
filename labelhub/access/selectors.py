"""Reads of roles, groups and grants, and resolution of role references."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from labelhub.access.models import CustomRole, Group, GroupEvent, ProjectGrant
from labelhub.access.permissions import PROJECT_PERMISSIONS, Permission, Scope
from labelhub.access.roles import SYSTEM_PROJECT_ROLE_PERMISSIONS, role_permissions
from labelhub.core.errors import NotFound, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.workspaces.models import Role, Workspace


@dataclass(frozen=True)
class RoleRef:
    """A role as stored on memberships, groups and grants: a system code or a custom role."""

    role: str
    custom_role: CustomRole | None = None

    @property
    def label(self) -> str:
        return self.custom_role.name if self.custom_role else Role(self.role).label

    @property
    def key(self) -> str:
        """What forms and the API send back: the system code or the custom role's id."""
        return str(self.custom_role.pk) if self.custom_role else self.role

    def workspace_permissions(self) -> frozenset[Permission]:
        """Permissions when held as a workspace role."""
        if self.custom_role:
            return frozenset(Permission(c) for c in self.custom_role.permissions)
        return role_permissions(self.role)

    def project_permissions(self) -> frozenset[Permission]:
        """Permissions when given on a project (directly or through a group)."""
        if self.custom_role:
            return (
                frozenset(Permission(c) for c in self.custom_role.permissions) & PROJECT_PERMISSIONS
            )
        return SYSTEM_PROJECT_ROLE_PERMISSIONS.get(self.role, frozenset())


def role_ref_of(obj: Any, prefix: str = "") -> RoleRef:
    """Read the role pair stored on a membership, invitation, group or grant."""
    custom = getattr(obj, f"{prefix}custom_role")
    return RoleRef(getattr(obj, f"{prefix}role"), custom)


def resolve_role(*, workspace: Workspace, value: Any, scope: Scope, field: str = "role") -> RoleRef:
    """Turn user input (a system role code or a custom role id) into a RoleRef.

    Custom roles must belong to the workspace and have the scope the place requires:
    workspace roles for memberships and invitations, project roles for groups and grants.
    """
    if isinstance(value, str) and value in Role.system_values():
        return RoleRef(value)
    custom = CustomRole.objects.filter(workspace=workspace, pk=parse_id(value)).first()
    if custom is None:
        choices = ", ".join(Role.system_values())
        raise ValidationFailed(
            f"Unknown role {value!r}; choose one of {choices} or a custom role id.", field=field
        )
    if custom.scope != scope:
        raise ValidationFailed(
            f"The custom role {custom.name!r} is a {custom.scope} role; "
            f"a {scope} role is needed here.",
            field=field,
        )
    return RoleRef(Role.CUSTOM, custom)


def role_choices(*, workspace: Workspace, scope: Scope) -> list[tuple[str, str]]:
    """Options for a role picker: system roles, then the workspace's custom roles of a scope."""
    system = [(r.value, r.label) for r in Role if r != Role.CUSTOM]
    custom = [
        (str(c.pk), c.name) for c in custom_role_list(workspace=workspace).filter(scope=scope)
    ]
    return system + custom


def custom_role_list(*, workspace: Workspace) -> QuerySet[CustomRole]:
    """Custom roles of the workspace by name."""
    return CustomRole.objects.filter(workspace=workspace).order_by("name")


def access_custom_role(*, workspace: Workspace, id: Any) -> CustomRole:
    """Return a custom role of this workspace, or raise NotFound."""
    role = custom_role_list(workspace=workspace).filter(pk=parse_id(id)).first()
    if role is None:
        raise NotFound("Role not found.")
    return role


def group_list(*, workspace: Workspace) -> QuerySet[Group]:
    """Groups of the workspace by name."""
    return (
        Group.objects.filter(workspace=workspace)
        .select_related("default_custom_role")
        .order_by("name")
    )


def access_group(*, workspace: Workspace, id: Any) -> Group:
    """Return a group of this workspace, or raise NotFound."""
    group = group_list(workspace=workspace).filter(pk=parse_id(id)).first()
    if group is None:
        raise NotFound("Group not found.")
    return group


def group_members(*, group: Group) -> QuerySet:
    """Users in a group."""
    return group.auth_group.user_set.order_by("email")


def groups_of_user(*, workspace: Workspace, user: Any) -> QuerySet[Group]:
    """Groups of the workspace the user belongs to."""
    return group_list(workspace=workspace).filter(auth_group__user=user)


def group_history(*, workspace: Workspace, group: Group | None = None) -> QuerySet[GroupEvent]:
    """Events of one group, or of every group of the workspace, oldest first."""
    qs = GroupEvent.objects.filter(workspace=workspace)
    if group is not None:
        qs = qs.filter(group=group)
    return qs.order_by("created_at", "id")


def custom_role_usage(*, role: CustomRole) -> dict[str, int]:
    """How many memberships, invitations, groups and project grants hold the role."""
    from labelhub.accounts.models import Invitation
    from labelhub.workspaces.models import Membership

    return {
        "members": Membership.objects.filter(custom_role=role).count(),
        "invitations": Invitation.objects.filter(custom_role=role, status="pending").count(),
        "groups": Group.objects.filter(default_custom_role=role).count(),
        "project_grants": ProjectGrant.objects.filter(custom_role=role).count(),
    }


def project_grant_codenames(target: Any, project: Any) -> list[str]:
    """Codenames guardian holds directly for one user or auth group on one project."""
    from django.contrib.auth.models import Group as AuthGroup

    from labelhub.projects.models import ProjectGroupObjectPermission, ProjectUserObjectPermission

    if isinstance(target, AuthGroup):
        rows = ProjectGroupObjectPermission.objects.filter(group=target, content_object=project)
    else:
        rows = ProjectUserObjectPermission.objects.filter(user=target, content_object=project)
    return sorted(rows.values_list("permission__codename", flat=True))


def projects_visible_to(*, actor: Any, workspace: Workspace) -> QuerySet:
    """Projects of the workspace the actor may view (workspace role or grants)."""
    from guardian.shortcuts import get_objects_for_user

    from labelhub.access.authz import actor_user, key_limit, permissions_for
    from labelhub.projects.models import Project

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


def granted_project_codenames(*, user: Any, workspace: Workspace) -> set[str]:
    """Project codenames the user holds through grants on any project of the workspace."""
    from labelhub.projects.models import ProjectGroupObjectPermission, ProjectUserObjectPermission

    direct = ProjectUserObjectPermission.objects.filter(
        user=user, content_object__workspace=workspace
    ).values_list("permission__codename", flat=True)
    via_groups = ProjectGroupObjectPermission.objects.filter(
        group__user=user, content_object__workspace=workspace
    ).values_list("permission__codename", flat=True)
    return set(direct) | set(via_groups)


def groups_by_user(*, workspace: Workspace, user_ids: list[Any]) -> dict[Any, list[str]]:
    """Names of the workspace's groups each user belongs to (one query)."""
    from django.contrib.auth import get_user_model

    through = get_user_model().groups.through
    rows = through.objects.filter(
        user_id__in=user_ids, group__labelhub_group__workspace=workspace
    ).values_list("user_id", "group__labelhub_group__name")
    out: dict[Any, list[str]] = {}
    for user_id, name in rows.order_by("group__labelhub_group__name"):
        out.setdefault(user_id, []).append(name)
    return out
