"""Every write to custom roles, groups and project grants (members, invitations and API
keys: the modules beside this one)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group as AuthGroup
from django.db import IntegrityError, transaction
from guardian.shortcuts import assign_perm, remove_perm

from labelhub.access.authz import can, forgets_permissions
from labelhub.access.escalation import (
    ensure_may_assign_project_role,
    ensure_may_assign_workspace_role,
    ensure_may_change_group_reach,
    ensure_may_define_role,
)
from labelhub.access.models import CustomRole, Group, GroupEvent, Invitation, ProjectGrant
from labelhub.access.permissions import (
    WORKSPACE_PERMISSIONS,
    Permission,
    Scope,
    parse_permissions,
)
from labelhub.access.selectors import (
    RoleRef,
    custom_role_usage,
    project_grant_codenames,
    resolve_role,
    role_ref_of,
)
from labelhub.core.audit import actor_identity, audit_record
from labelhub.core.errors import Conflict, PermissionDenied, ValidationFailed
from labelhub.core.ids import new_id, parse_id
from labelhub.core.validation import clean_colour, clean_text
from labelhub.workspaces.models import Membership, Workspace


def require(actor: Any, permission: Permission, obj: Any) -> None:
    """Raise PermissionDenied unless ``can(actor, permission, obj)``."""
    if not can(actor, permission, obj):
        raise PermissionDenied()


# --- custom roles --------------------------------------------------------------------------


def _clean_role_permissions(scope: Any, permissions: Any) -> tuple[Scope, list[str]]:
    if scope not in {s.value for s in Scope}:
        raise ValidationFailed("Choose the scope: workspace or project.", field="scope")
    scope = Scope(scope)
    try:
        perms = parse_permissions(permissions)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="permissions") from exc
    if not perms:
        raise ValidationFailed("Choose at least one permission.", field="permissions")
    if scope == Scope.PROJECT:
        wrong = sorted(p.value for p in perms & WORKSPACE_PERMISSIONS)
        if wrong:
            raise ValidationFailed(
                f"A project-scoped role cannot carry workspace permissions: {', '.join(wrong)}.",
                field="permissions",
            )
    return scope, sorted(p.value for p in perms)


def _perms(codenames: Any) -> frozenset[Permission]:
    return frozenset(Permission(c) for c in codenames if c in Permission._value2member_map_)


def _role_snapshot(role: CustomRole) -> dict[str, Any]:
    return {"name": role.name, "scope": role.scope, "permissions": list(role.permissions)}


def _name_taken(exc: IntegrityError, what: str) -> Conflict:
    message = f"A {what} with this name already exists in the workspace."
    return Conflict(message, details={"name": [message]})


def custom_role_create(
    *,
    workspace: Workspace,
    actor: Any,
    name: Any,
    scope: Any,
    permissions: Any,
    description: Any = "",
) -> CustomRole:
    """Create a custom role; project roles may hold project permissions only."""
    require(actor, Permission.MANAGE_ROLES, workspace)
    name = clean_text(name, field="name", max_length=80)
    description = clean_text(description, field="description", max_length=300, required=False)
    scope, perms = _clean_role_permissions(scope, permissions)
    ensure_may_define_role(actor, workspace, scope, _perms(perms), what="create this role")
    try:
        with transaction.atomic():
            role = CustomRole.objects.create(
                workspace=workspace,
                name=name,
                scope=scope,
                permissions=perms,
                description=description,
            )
            audit_record(
                workspace=workspace,
                actor=actor,
                verb="role.created",
                target=role,
                target_type="role",
                after=_role_snapshot(role),
            )
    except IntegrityError as exc:
        raise _name_taken(exc, "role") from exc
    return role


@forgets_permissions
def custom_role_update(
    *,
    workspace: Workspace,
    actor: Any,
    role: CustomRole,
    name: Any = None,
    permissions: Any = None,
    description: Any = None,
) -> CustomRole:
    """Rename a custom role and/or change its permissions (its scope is fixed)."""
    require(actor, Permission.MANAGE_ROLES, workspace)
    try:
        with transaction.atomic():
            role = CustomRole.objects.select_for_update().get(pk=role.pk, workspace=workspace)
            before = _role_snapshot(role)
            ensure_may_define_role(
                actor,
                workspace,
                role.scope,
                _perms(role.permissions),
                role=role,
                what="edit this role",
            )
            if name is not None:
                role.name = clean_text(name, field="name", max_length=80)
            if description is not None:
                role.description = clean_text(
                    description, field="description", max_length=300, required=False
                )
            if permissions is not None:
                _, role.permissions = _clean_role_permissions(role.scope, permissions)
                ensure_may_define_role(
                    actor,
                    workspace,
                    role.scope,
                    _perms(role.permissions),
                    role=role,
                    what="give this role these permissions",
                )
            role.save()
            after = _role_snapshot(role)
            if after != before:
                audit_record(
                    workspace=workspace,
                    actor=actor,
                    verb="role.updated",
                    target=role,
                    target_type="role",
                    before=before,
                    after=after,
                )
            if before["permissions"] != after["permissions"]:
                # Grants holding this role mirror its permissions in guardian's tables.
                _resync_grants(ProjectGrant.objects.filter(custom_role=role))
    except IntegrityError as exc:
        raise _name_taken(exc, "role") from exc
    return role


@forgets_permissions
def custom_role_delete(
    *, workspace: Workspace, actor: Any, role: CustomRole, replacement: Any = None
) -> dict[str, int]:
    """Delete a custom role; one in use needs a replacement of the same scope (moved atomically)."""
    require(actor, Permission.MANAGE_ROLES, workspace)
    with transaction.atomic():
        role = CustomRole.objects.select_for_update().get(pk=role.pk, workspace=workspace)
        ensure_may_define_role(
            actor,
            workspace,
            role.scope,
            _perms(role.permissions),
            role=role,
            what="delete this role",
        )
        usage = custom_role_usage(role=role)
        in_use = any(usage.values())
        new: RoleRef | None = None
        if replacement not in (None, ""):
            new = resolve_role(
                workspace=workspace, value=replacement, scope=Scope(role.scope), field="replacement"
            )
            if new.custom_role is not None and new.custom_role.pk == role.pk:
                raise ValidationFailed("The replacement must be another role.", field="replacement")
            if role.scope == Scope.WORKSPACE:
                ensure_may_assign_workspace_role(
                    actor, workspace, new, what="hand out this replacement role"
                )
            else:
                ensure_may_define_role(
                    actor,
                    workspace,
                    role.scope,
                    new.project_permissions(),
                    role=role,
                    what="hand out this replacement role",
                )
        if in_use and new is None:
            words = {
                "members": "members",
                "invitations": "pending invitations",
                "groups": "groups",
                "project_grants": "project grants",
            }
            parts = ", ".join(f"{n} {words[what]}" for what, n in usage.items() if n)
            raise Conflict(
                f"The role {role.name!r} is in use ({parts}); choose a replacement role.",
                details={"replacement": ["Choose the role to give to those who hold this one."]},
            )
        if new is not None:
            moved = {"role": new.role, "custom_role": new.custom_role}
            Membership.objects.filter(custom_role=role).update(**moved)
            Invitation.objects.filter(custom_role=role).update(**moved)
            Group.objects.filter(default_custom_role=role).update(
                default_role=new.role, default_custom_role=new.custom_role
            )
            grants = ProjectGrant.objects.filter(custom_role=role)
            grant_ids = list(grants.values_list("pk", flat=True))
            grants.update(**moved)
            _resync_grants(ProjectGrant.objects.filter(pk__in=grant_ids))
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="role.deleted",
            target=role,
            target_type="role",
            before={**_role_snapshot(role), "usage": usage},
            after={"replacement": new.label} if new else None,
        )
        role.delete()
    return usage


# --- groups -------------------------------------------------------------------------------


def _group_event(group: Group, actor: Any, verb: str, detail: str = "") -> None:
    user, label = actor_identity(actor)
    GroupEvent.objects.create(
        workspace=group.workspace,
        group=group,
        group_name=group.name,
        actor=user,
        actor_label=label,
        verb=verb,
        detail=detail[:300],
    )


def group_create(
    *,
    workspace: Workspace,
    actor: Any,
    name: Any,
    default_role: Any,
    description: Any = "",
    colour: Any = "#4C6EF5",
) -> Group:
    """Create a group with a required default (project) role."""
    require(actor, Permission.MANAGE_GROUPS, workspace)
    name = clean_text(name, field="name", max_length=80)
    description = clean_text(description, field="description", max_length=300, required=False)
    colour = clean_colour(colour)
    if default_role in (None, ""):
        raise ValidationFailed("Choose the group's default role.", field="default_role")
    ref = resolve_role(
        workspace=workspace, value=default_role, scope=Scope.PROJECT, field="default_role"
    )
    ensure_may_define_role(
        actor,
        workspace,
        Scope.PROJECT,
        ref.project_permissions(),
        what="give a group this default role",
    )
    try:
        with transaction.atomic():
            auth_group = AuthGroup.objects.create(name=f"ws:{workspace.pk}:{new_id()}")
            group = Group.objects.create(
                workspace=workspace,
                name=name,
                description=description,
                colour=colour,
                default_role=ref.role,
                default_custom_role=ref.custom_role,
                auth_group=auth_group,
            )
            _group_event(group, actor, "created", f"default role {ref.label}")
            audit_record(
                workspace=workspace,
                actor=actor,
                verb="group.created",
                target=group,
                target_type="group",
                after={"name": name, "default_role": ref.label, "colour": colour},
            )
    except IntegrityError as exc:
        raise _name_taken(exc, "group") from exc
    return group


def group_update(
    *,
    workspace: Workspace,
    actor: Any,
    group: Group,
    name: Any = None,
    description: Any = None,
    colour: Any = None,
    default_role: Any = None,
) -> Group:
    """Rename a group, change its description, colour or default role."""
    require(actor, Permission.MANAGE_GROUPS, workspace)
    try:
        with transaction.atomic():
            group = Group.objects.select_for_update().get(pk=group.pk, workspace=workspace)
            old_ref = role_ref_of(group, "default_")
            before = {"name": group.name, "default_role": old_ref.label, "colour": group.colour}
            if name is not None:
                new_name = clean_text(name, field="name", max_length=80)
                if new_name != group.name:
                    _group_event(group, actor, "renamed", f"{group.name} → {new_name}")
                    group.name = new_name
            if description is not None:
                group.description = clean_text(
                    description, field="description", max_length=300, required=False
                )
            if colour is not None:
                group.colour = clean_colour(colour)
            if default_role is not None:
                ref = resolve_role(
                    workspace=workspace,
                    value=default_role,
                    scope=Scope.PROJECT,
                    field="default_role",
                )
                if ref != old_ref:
                    ensure_may_define_role(
                        actor,
                        workspace,
                        Scope.PROJECT,
                        old_ref.project_permissions(),
                        ref.project_permissions(),
                        what="change this group's default role",
                    )
                    group.default_role, group.default_custom_role = ref.role, ref.custom_role
                    _group_event(
                        group, actor, "default_role_changed", f"{old_ref.label} → {ref.label}"
                    )
            group.save()
            after = {
                "name": group.name,
                "default_role": role_ref_of(group, "default_").label,
                "colour": group.colour,
            }
            if after != before:
                audit_record(
                    workspace=workspace,
                    actor=actor,
                    verb="group.updated",
                    target=group,
                    target_type="group",
                    before=before,
                    after=after,
                )
    except IntegrityError as exc:
        raise _name_taken(exc, "group") from exc
    return group


@forgets_permissions
def group_delete(*, workspace: Workspace, actor: Any, group: Group) -> None:
    """Delete a group: its project grants go with it; its history stays."""
    require(actor, Permission.MANAGE_GROUPS, workspace)
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk, workspace=workspace)
        ensure_may_change_group_reach(actor, group, "delete this group")
        _group_event(group, actor, "deleted")
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="group.deleted",
            target=group,
            target_type="group",
            before={"name": group.name, "members": group.auth_group.user_set.count()},
        )
        auth_group = group.auth_group
        group.delete()  # cascades its grants; guardian rows go with the auth group
        auth_group.delete()


@forgets_permissions
def group_add_member(*, workspace: Workspace, actor: Any, group: Group, user_id: Any) -> Any:
    """Add a workspace member to a group."""
    require(actor, Permission.MANAGE_GROUPS, workspace)
    membership = (
        Membership.objects.select_related("user")
        .filter(workspace=workspace, user_id=parse_id(user_id))
        .first()
    )
    if membership is None:
        raise ValidationFailed("Only members of the workspace can join its groups.", field="user")
    user = membership.user
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk, workspace=workspace)
        ensure_may_change_group_reach(actor, group, "add members to this group")
        if group.auth_group.user_set.filter(pk=user.pk).exists():
            raise Conflict(
                "This member is already in the group.", details={"user": ["Already in the group."]}
            )
        group.auth_group.user_set.add(user)
        _group_event(group, actor, "member_added", user.email)
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="group.member_added",
            target=group,
            target_type="group",
            after={"member": user.email},
        )
    return user


@forgets_permissions
def group_remove_member(*, workspace: Workspace, actor: Any, group: Group, user_id: Any) -> None:
    """Remove a member from a group."""
    require(actor, Permission.MANAGE_GROUPS, workspace)
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk, workspace=workspace)
        user = group.auth_group.user_set.filter(pk=parse_id(user_id)).first()
        if user is None:
            raise ValidationFailed("This person is not in the group.", field="user")
        ensure_may_change_group_reach(actor, group, "remove members from this group")
        group.auth_group.user_set.remove(user)
        _group_event(group, actor, "member_removed", user.email)
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="group.member_removed",
            target=group,
            target_type="group",
            before={"member": user.email},
        )


@forgets_permissions
def groups_leave_workspace(*, workspace: Workspace, user: Any, actor: Any) -> None:
    """Take a departing member out of every group of the workspace (history records it)."""
    for group in Group.objects.filter(workspace=workspace, auth_group__user=user):
        group.auth_group.user_set.remove(user)
        _group_event(group, actor, "member_removed", f"{user.email} (left the workspace)")


# --- project grants (guardian mirror) ------------------------------------------------------


def _grant_target(grant: ProjectGrant) -> Any:
    return grant.user if grant.user_id else grant.group.auth_group


def _apply_grant(grant: ProjectGrant) -> None:
    """Make guardian's rows for this grant exactly the role's project permissions."""
    target = _grant_target(grant)
    wanted = {p.value for p in role_ref_of(grant).project_permissions()}
    have = set(project_grant_codenames(target, grant.project))
    for codename in sorted(wanted - have):
        assign_perm(f"projects.{codename}", target, grant.project)
    for codename in sorted(have - wanted):
        remove_perm(f"projects.{codename}", target, grant.project)


def _resync_grants(grants) -> None:
    for grant in grants.select_related("project", "user", "group__auth_group", "custom_role"):
        _apply_grant(grant)


@forgets_permissions
def project_grant_set(
    *,
    workspace: Workspace,
    actor: Any,
    project: Any,
    role: Any,
    user_id: Any = None,
    group: Group | None = None,
    check: bool = True,
) -> ProjectGrant:
    """Give a member or a group a project role (replacing the one they had there).

    ``check=False`` is for callers that authorised a larger action already (creating or
    duplicating a project).
    """
    if check:
        require(actor, Permission.MANAGE_PROJECT_MEMBERS, project)
    if project.workspace_id != workspace.pk:
        raise ValidationFailed("Unknown project.", field="project")
    if (user_id is None) == (group is None):
        raise ValidationFailed("Give either a member or a group.", field="user")
    if group is None and role in (None, ""):
        raise ValidationFailed("Choose a role.", field="role")
    if group is not None:  # re-read: the caller's copy may predate a rename or role change
        group = Group.objects.filter(pk=group.pk, workspace=workspace).first()
        if group is None:
            raise ValidationFailed("Unknown group.", field="group")
    ref = (
        role_ref_of(group, "default_")
        if group is not None and role in (None, "")
        else resolve_role(workspace=workspace, value=role, scope=Scope.PROJECT)
    )
    user = None
    if user_id is not None:
        membership = (
            Membership.objects.select_related("user")
            .filter(workspace=workspace, user_id=parse_id(user_id))
            .first()
        )
        if membership is None:
            raise ValidationFailed(
                "Only members of the workspace can join its projects.", field="user"
            )
        user = membership.user
    with transaction.atomic():
        grant, created = ProjectGrant.objects.select_for_update().get_or_create(
            workspace=workspace,
            project=project,
            user=user,
            group=group,
            defaults={"role": ref.role, "custom_role": ref.custom_role},
        )
        old_ref = None if created else role_ref_of(grant)
        if check:
            ensure_may_assign_project_role(
                actor, project, old_ref, ref, what="give this project role"
            )
        before = old_ref.label if old_ref else None
        grant.role, grant.custom_role = ref.role, ref.custom_role
        grant.save(update_fields=["role", "custom_role"])
        _apply_grant(grant)
        if group is not None:
            verb = "project_added" if created else "project_role_changed"
            _group_event(group, actor, verb, f"{project.name} as {ref.label}")
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="project.grant_set",
            target=project,
            target_type="project",
            before={"who": (user.email if user else group.name), "role": before}
            if before
            else None,
            after={"who": (user.email if user else group.name), "role": ref.label},
        )
    return grant


@forgets_permissions
def project_grant_remove(
    *, workspace: Workspace, actor: Any, grant: ProjectGrant, check: bool = True
) -> None:
    """Take a member's or group's project role away (``check=False``: as part of a removal
    the caller already authorised)."""
    if check:
        require(actor, Permission.MANAGE_PROJECT_MEMBERS, grant.project)
    with transaction.atomic():
        grant = (
            ProjectGrant.objects.select_for_update(of=("self",))
            .select_related("project", "user", "group__auth_group", "custom_role")
            .get(pk=grant.pk, workspace=workspace)
        )
        if check:
            ensure_may_assign_project_role(
                actor, grant.project, role_ref_of(grant), what="remove this project role"
            )
        target = _grant_target(grant)
        for codename in project_grant_codenames(target, grant.project):
            remove_perm(f"projects.{codename}", target, grant.project)
        if grant.group_id:
            _group_event(grant.group, actor, "project_removed", grant.project.name)
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="project.grant_removed",
            target=grant.project,
            target_type="project",
            before={
                "who": grant.user.email if grant.user_id else grant.group.name,
                "role": role_ref_of(grant).label,
            },
        )
        grant.delete()
