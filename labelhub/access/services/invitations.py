"""Every write to invitations: create (the link goes by e-mail only), revoke, accept."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from labelhub.access.authz import can, forgets_permissions
from labelhub.access.escalation import ensure_may_assign_workspace_role
from labelhub.access.models import Invitation, hash_token
from labelhub.access.permissions import Permission, Scope
from labelhub.access.selectors import resolve_role, role_ref_of
from labelhub.access.services.members import membership_add
from labelhub.access.tasks import send_invitation_email_task
from labelhub.accounts.models import User
from labelhub.accounts.services import clean_email, user_create
from labelhub.core.audit import actor_identity, audit_record
from labelhub.core.errors import Conflict, NotFound, PermissionDenied
from labelhub.workspaces.models import Membership, Workspace


def invitation_create(
    *, workspace: Workspace, actor: Any, email: Any, role: Any
) -> tuple[Invitation, str]:
    """Invite an e-mail into the workspace; returns the invitation and its one-time token."""
    if not can(actor, Permission.MANAGE_MEMBERS, workspace):
        raise PermissionDenied()
    email = clean_email(email)
    ref = resolve_role(workspace=workspace, value=role, scope=Scope.WORKSPACE)
    ensure_may_assign_workspace_role(actor, workspace, ref, what="invite with this role")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        if Membership.objects.filter(workspace=workspace, user__email=email).exists():
            raise Conflict(
                "This person is already a member of the workspace.",
                details={"email": ["This person is already a member of the workspace."]},
            )
        _expire_stale(workspace=workspace, email=email)
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    workspace=workspace,
                    email=email,
                    role=ref.role,
                    custom_role=ref.custom_role,
                    token_hash=hash_token(token),
                    invited_by=actor_identity(actor)[0],
                    expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
                )
        except IntegrityError as exc:
            raise Conflict(
                "A pending invitation for this e-mail already exists.",
                details={"email": ["A pending invitation for this e-mail already exists."]},
            ) from exc
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="invitation.created",
            target=invitation,
            target_type="invitation",
            after={"email": email, "role": ref.key, "role_label": ref.label},
        )
        transaction.on_commit(
            lambda: send_invitation_email_task.delay(
                workspace_id=str(workspace.pk), invitation_id=str(invitation.pk), token=token
            )
        )
    return invitation, token


def _expire_stale(*, workspace: Workspace, email: str) -> None:
    """Close pending invitations whose time is up, so a fresh one may be sent."""
    Invitation.objects.filter(
        workspace=workspace,
        email=email,
        status=Invitation.Status.PENDING,
        expires_at__lte=timezone.now(),
    ).update(status=Invitation.Status.EXPIRED, closed_at=timezone.now())


def invitation_revoke(*, workspace: Workspace, actor: Any, invitation: Invitation) -> Invitation:
    """Revoke a pending invitation; its token stops working at once."""
    if not can(actor, Permission.MANAGE_MEMBERS, workspace):
        raise PermissionDenied()
    with transaction.atomic():
        inv = Invitation.objects.select_for_update().get(pk=invitation.pk, workspace=workspace)
        if inv.effective_status != Invitation.Status.PENDING:
            raise Conflict(f"This invitation is already {inv.effective_status}.")
        ensure_may_assign_workspace_role(
            actor, workspace, role_ref_of(inv), what="revoke this invitation"
        )
        inv.status = Invitation.Status.REVOKED
        inv.closed_at = timezone.now()
        inv.save(update_fields=["status", "closed_at"])
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="invitation.revoked",
            target=inv,
            target_type="invitation",
            before={"email": inv.email, "role": role_ref_of(inv).label, "status": "pending"},
            after={"status": "revoked"},
        )
    return inv


def invitation_by_token(token: Any) -> Invitation:
    """Return the pending, unexpired invitation for a token, or raise NotFound/Conflict."""
    if not isinstance(token, str) or not token or len(token) > 200:
        raise NotFound("This invitation link is not valid.")
    inv = (
        Invitation.objects.select_related("workspace").filter(token_hash=hash_token(token)).first()
    )
    if inv is None:
        raise NotFound("This invitation link is not valid.")
    status = inv.effective_status
    if status != Invitation.Status.PENDING:
        raise Conflict(f"This invitation has been {status} and can no longer be used.")
    return inv


@forgets_permissions
def invitation_accept(
    *, token: Any, user: User | None = None, name: str = "", password: str | None = None
) -> tuple[User, Membership]:
    """Accept an invitation: join as ``user``, or create the account when none is signed in.

    A signed-in user must hold the invited e-mail; an anonymous acceptor must choose a
    password, and an account for an e-mail that already exists must sign in first.
    """
    with transaction.atomic():
        inv = invitation_by_token(token)
        inv = Invitation.objects.select_for_update().get(pk=inv.pk)
        if inv.effective_status != Invitation.Status.PENDING:  # lost a race with another accept
            raise Conflict("This invitation can no longer be used.")
        if user is not None and user.is_authenticated:
            if user.email != inv.email:
                raise PermissionDenied(
                    f"This invitation is for {inv.email}; sign in with that account to accept it."
                )
        else:
            if User.objects.filter(email=inv.email).exists():
                raise Conflict(
                    "An account with this e-mail exists; sign in to accept the invitation.",
                    details={"email": ["Sign in to accept."]},
                )
            user = user_create(email=inv.email, password=password or "", name=name)
        membership = membership_add(
            workspace=inv.workspace, user=user, role=role_ref_of(inv), actor=user
        )
        inv.status = Invitation.Status.ACCEPTED
        inv.accepted_by = user
        inv.closed_at = timezone.now()
        inv.save(update_fields=["status", "accepted_by", "closed_at"])
        audit_record(
            workspace=inv.workspace,
            actor=user,
            verb="invitation.accepted",
            target=inv,
            target_type="invitation",
            before={"status": "pending"},
            after={"status": "accepted", "email": inv.email, "role": role_ref_of(inv).label},
        )
    return user, membership
