"""Every write to memberships (roles, removal, joining) and to workspace settings."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from labelhub.access import events
from labelhub.access.authz import forgets_permissions
from labelhub.access.escalation import ensure_may_assign_workspace_role, ensure_not_self
from labelhub.access.models import ProjectGrant
from labelhub.access.permissions import Permission, Scope
from labelhub.access.selectors import RoleRef, resolve_role, role_ref_of
from labelhub.access.services import groups_leave_workspace, project_grant_remove, require
from labelhub.access.services.api_keys import api_keys_revoke_for_departure
from labelhub.core.audit import audit_record
from labelhub.core.errors import Conflict, ValidationFailed
from labelhub.core.live import send_event_on_commit, user_group
from labelhub.core.validation import clean_text
from labelhub.workspaces.models import Membership, Role, Workspace


@forgets_permissions
def membership_change_role(
    *, workspace: Workspace, actor: Any, membership: Membership, role: Any
) -> Membership:
    """Change a member's role (system code or custom role id); the last Admin stays."""
    require(actor, Permission.MANAGE_MEMBERS, workspace)
    ref = _workspace_role(workspace, role)
    with transaction.atomic():
        m = (
            # Lock only the membership row: PostgreSQL refuses FOR UPDATE on outer joins.
            Membership.objects.select_for_update(of=("self",))
            .select_related("custom_role")
            .get(pk=membership.pk, workspace=workspace)
        )
        before = role_ref_of(m)
        if before == ref:
            return m
        ensure_may_assign_workspace_role(
            actor, workspace, before, ref, what="change this member's role"
        )
        _ensure_another_admin(workspace, m)
        ensure_not_self(actor, m)
        m.role, m.custom_role = ref.role, ref.custom_role
        m.save(update_fields=["role", "custom_role"])
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="member.role_changed",
            target=m.user,
            target_type="membership",
            before={"role": before.key, "role_label": before.label},
            after={"role": ref.key, "role_label": ref.label},
        )
        send_event_on_commit(
            events.role_changed(workspace=workspace, membership=m), [user_group(m.user_id)]
        )
    return m


def _workspace_role(workspace: Workspace, role: Any) -> RoleRef:
    return resolve_role(workspace=workspace, value=role, scope=Scope.WORKSPACE)


def _leave_groups_and_projects(workspace: Workspace, user: Any, actor: Any) -> None:
    """A departing member leaves the workspace's groups and loses its project grants."""
    groups_leave_workspace(workspace=workspace, user=user, actor=actor)
    for grant in ProjectGrant.objects.filter(workspace=workspace, user=user):
        project_grant_remove(workspace=workspace, actor=actor, grant=grant, check=False)


def _ensure_another_admin(workspace: Workspace, membership: Membership) -> None:
    """Refuse to demote or remove the workspace's last Admin.

    Admin rows are counted under row locks, so two concurrent demotions cannot both pass.
    """
    if membership.role != Role.ADMIN:
        return
    admins = (
        Membership.objects.select_for_update()
        .filter(workspace=workspace, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if len(list(admins)) <= 1:
        message = "The workspace must keep at least one Admin."
        raise Conflict(message, details={"role": [message]})


@forgets_permissions
def membership_remove(*, workspace: Workspace, actor: Any, membership: Membership) -> None:
    """Remove a member from the workspace; the last Admin cannot be removed."""
    require(actor, Permission.MANAGE_MEMBERS, workspace)
    with transaction.atomic():
        m = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user", "custom_role")
            .get(pk=membership.pk, workspace=workspace)
        )
        ensure_may_assign_workspace_role(
            actor, workspace, role_ref_of(m), what="remove this member"
        )
        _ensure_another_admin(workspace, m)
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="member.removed",
            target=m.user,
            target_type="membership",
            before={"email": m.user.email, "role": m.role},
        )
        user_id = m.user_id
        _leave_groups_and_projects(workspace, m.user, actor)
        # Keys die with the membership: rejoining later must not bring them back to life.
        api_keys_revoke_for_departure(workspace=workspace, user=m.user, actor=actor)
        m.delete()
        send_event_on_commit(events.membership_removed(workspace=workspace), [user_group(user_id)])


@forgets_permissions
def membership_add(*, workspace: Workspace, user: Any, role: Any, actor: Any) -> Membership:
    """Add a user to a workspace (used by invitation acceptance and seeding)."""
    ref = role if isinstance(role, RoleRef) else _workspace_role(workspace, role)
    with transaction.atomic():
        if Membership.objects.filter(workspace=workspace, user=user).exists():
            raise Conflict(
                "This user is already a member of the workspace.",
                details={"email": ["This user is already a member of the workspace."]},
            )
        m = Membership.objects.create(
            workspace=workspace, user=user, role=ref.role, custom_role=ref.custom_role
        )
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="member.added",
            target=user,
            target_type="membership",
            after={"email": user.email, "role": ref.key, "role_label": ref.label},
        )
    return m


def workspace_settings_update(
    *,
    workspace: Workspace,
    actor: Any,
    name: Any = None,
    require_mfa_for_admins: Any = None,
) -> Workspace:
    """Change the workspace's name and security settings; ``None`` leaves a setting as is."""
    require(actor, Permission.MANAGE_WORKSPACE_SETTINGS, workspace)
    wanted: dict[str, Any] = {}
    if name is not None:
        wanted["name"] = clean_text(name, field="name", max_length=120)
    if require_mfa_for_admins is not None:
        if not isinstance(require_mfa_for_admins, bool):
            raise ValidationFailed("Choose true or false.", field="require_mfa_for_admins")
        wanted["require_mfa_for_admins"] = require_mfa_for_admins
    taken = "A workspace with this name already exists in the tenant."
    try:
        with transaction.atomic():
            ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
            changed = {k: v for k, v in wanted.items() if getattr(ws, k) != v}
            if not changed:
                return ws
            if (
                "name" in changed
                and Workspace.objects.filter(tenant_id=ws.tenant_id, name__iexact=changed["name"])
                .exclude(pk=ws.pk)
                .exists()
            ):
                raise Conflict(taken, details={"name": [taken]})
            before = {k: getattr(ws, k) for k in changed}
            for key, value in changed.items():
                setattr(ws, key, value)
            ws.save(update_fields=list(changed))
            audit_record(
                workspace=ws,
                actor=actor,
                verb="workspace.settings_changed",
                target=ws,
                before=before,
                after=changed,
            )
    except IntegrityError as exc:  # a concurrent rename to the same name won the race
        raise Conflict(taken, details={"name": [taken]}) from exc
    return ws
