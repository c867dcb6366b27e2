"""Every write to users and invitations."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from labelhub.access.authz import can
from labelhub.access.permissions import Permission
from labelhub.accounts.models import Invitation, User, hash_token, normalize_email
from labelhub.core.audit import audit_record
from labelhub.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from labelhub.workspaces.models import Membership, Role, Workspace
from labelhub.workspaces.services import membership_add


def clean_email(email: Any, field: str = "email") -> str:
    """Validate and normalise an e-mail address."""
    if not isinstance(email, str) or not email.strip():
        raise ValidationFailed("This field is required.", field=field)
    email = normalize_email(email)
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed("Enter a valid e-mail address.", field=field) from exc
    return email


def clean_password(password: Any, user: User | None = None, field: str = "password") -> str:
    """Run Django's password validators; raise field errors."""
    if not isinstance(password, str) or not password:
        raise ValidationFailed("This field is required.", field=field)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], details={field: exc.messages}) from exc
    return password


def user_create(*, email: str, password: str, name: str = "") -> User:
    """Create an account after validating e-mail and password."""
    email = clean_email(email)
    if User.objects.filter(email=email).exists():
        raise Conflict("An account with this e-mail already exists.", details={"email": ["taken"]})
    clean_password(password, User(email=email, name=name))
    return User.objects.create_user(email=email, password=password, name=(name or "").strip()[:150])


def user_update_profile(*, user: User, name: Any) -> User:
    """Change the user's display name."""
    if not isinstance(name, str):
        raise ValidationFailed("Enter a name.", field="name")
    name = " ".join(name.split())
    if len(name) > 150:
        raise ValidationFailed("At most 150 characters.", field="name")
    user.name = name
    user.save(update_fields=["name"])
    return user


def invitation_create(
    *, workspace: Workspace, actor: Any, email: Any, role: Any
) -> tuple[Invitation, str]:
    """Invite an e-mail into the workspace; returns the invitation and its one-time token."""
    if not can(actor, Permission.MANAGE_MEMBERS, workspace):
        raise PermissionDenied()
    email = clean_email(email)
    if role not in Role.values:
        raise ValidationFailed(
            f"Unknown role {role!r}; choose one of: {', '.join(Role.values)}.", field="role"
        )
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
                    role=role,
                    token_hash=hash_token(token),
                    invited_by=actor,
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
            after={"email": email, "role": role},
        )
        from labelhub.accounts.tasks import send_invitation_email_task

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


def invitation_accept_url(token: str) -> str:
    """Absolute link of the console's accept page, shown on creation and mailed.

    Built from ``SITE_URL`` rather than a request's host, so the link shown and the link
    mailed never differ (and a spoofed Host header cannot shape it).
    """
    return f"{settings.SITE_URL.rstrip('/')}/invitations/{token}/"


def invitation_revoke(*, workspace: Workspace, actor: Any, invitation: Invitation) -> Invitation:
    """Revoke a pending invitation; its token stops working at once."""
    if not can(actor, Permission.MANAGE_MEMBERS, workspace):
        raise PermissionDenied()
    with transaction.atomic():
        inv = Invitation.objects.select_for_update().get(pk=invitation.pk, workspace=workspace)
        if inv.effective_status != Invitation.Status.PENDING:
            raise Conflict(f"This invitation is already {inv.effective_status}.")
        inv.status = Invitation.Status.REVOKED
        inv.closed_at = timezone.now()
        inv.save(update_fields=["status", "closed_at"])
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="invitation.revoked",
            target=inv,
            target_type="invitation",
            before={"email": inv.email, "role": inv.role, "status": "pending"},
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
        membership = membership_add(workspace=inv.workspace, user=user, role=inv.role, actor=user)
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
            after={"status": "accepted", "email": inv.email, "role": inv.role},
        )
    return user, membership


def invitations_expire() -> int:
    """Mark every pending invitation past its expiry as expired; return how many."""
    now = timezone.now()
    return Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__lte=now).update(
        status=Invitation.Status.EXPIRED, closed_at=now
    )
