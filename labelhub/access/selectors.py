"""Reads of roles, groups and grants, and resolution of role references."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as AuthGroup
from django.db.models import Q, QuerySet
from guardian.shortcuts import get_group_perms, get_user_perms

from labelhub.access.models import CustomRole, Group, GroupEvent, Invitation, ProjectGrant
from labelhub.access.permissions import PROJECT_PERMISSIONS, Permission, Scope
from labelhub.access.roles import SYSTEM_PROJECT_ROLE_PERMISSIONS, role_permissions
from labelhub.core.errors import NotFound, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.workspaces.models import Membership, Role, Workspace


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
    return {
        "members": Membership.objects.filter(custom_role=role).count(),
        "invitations": Invitation.objects.filter(custom_role=role, status="pending").count(),
        "groups": Group.objects.filter(default_custom_role=role).count(),
        "project_grants": ProjectGrant.objects.filter(custom_role=role).count(),
    }


def project_grant_codenames(target: Any, project: Any) -> list[str]:
    """Codenames guardian holds directly for one user or auth group on one project."""
    if isinstance(target, AuthGroup):
        return sorted(get_group_perms(target, project))
    return sorted(get_user_perms(target, project))


def granted_project_codenames(*, user: Any, workspace: Workspace) -> set[str]:
    """Project codenames the user holds through grants on any project of the workspace
    (read from the grants, the source of truth that guardian's rows mirror)."""
    grants = (
        ProjectGrant.objects.filter(workspace=workspace)
        .filter(Q(user=user) | Q(group__auth_group__user=user))
        .select_related("custom_role")
    )
    return {p.value for grant in grants for p in role_ref_of(grant).project_permissions()}


def groups_by_user(*, workspace: Workspace, user_ids: list[Any]) -> dict[Any, list[str]]:
    """Names of the workspace's groups each user belongs to (one query)."""
    through = get_user_model().groups.through
    rows = through.objects.filter(
        user_id__in=user_ids, group__labelhub_group__workspace=workspace
    ).values_list("user_id", "group__labelhub_group__name")
    out: dict[Any, list[str]] = {}
    for user_id, name in rows.order_by("group__labelhub_group__name"):
        out.setdefault(user_id, []).append(name)
    return out


def invitation_accept_url(token: str) -> str:
    """Absolute link of the console's accept page, shown on creation and mailed.

    Built from ``SITE_URL`` rather than a request's host, so the link shown and the link
    mailed never differ (and a spoofed Host header cannot shape it).
    """
    return f"{settings.SITE_URL.rstrip('/')}/invitations/{token}/"
