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
from labelhub.access.escalation import definable_permissions, ensure_may_assign_workspace_role
from labelhub.access.permissions import Permission, Scope
from labelhub.access.selectors import resolve_role, role_ref_of
from labelhub.accounts.models import (
    API_KEY_PREFIX,
    API_KEY_PREFIX_CHARS,
    ApiKey,
    Invitation,
    User,
    hash_token,
    normalize_email,
)
from labelhub.core.audit import actor_identity, audit_record
from labelhub.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from labelhub.core.validation import clean_text
from labelhub.workspaces.models import Membership, Workspace
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
    """Change the user's display name (may be blank)."""
    if name is None:
        raise ValidationFailed("Enter a name.", field="name")
    user.name = clean_text(name, field="name", max_length=150, required=False)
    user.save(update_fields=["name"])
    return user


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


def invitations_expire() -> int:
    """Mark every pending invitation past its expiry as expired; return how many."""
    now = timezone.now()
    return Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__lte=now).update(
        status=Invitation.Status.EXPIRED, closed_at=now
    )


# --- API keys --------------------------------------------------------------------------------


def _clean_expiry(expires_at: Any):
    from datetime import datetime

    if expires_at in (None, ""):
        return None
    if not isinstance(expires_at, datetime):
        raise ValidationFailed("Give a date and time.", field="expires_at")
    if timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at, timezone.utc)
    if expires_at <= timezone.now():
        raise ValidationFailed("The expiry must be in the future.", field="expires_at")
    return expires_at


def _clean_rate_limit(value: Any) -> int | None:
    if value in (None, ""):
        return None
    ceiling = settings.API_RATE_LIMIT_MAX_PER_MINUTE
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if type(value) is not int or not 1 <= value <= ceiling:
        raise ValidationFailed(
            f"Give a whole number of requests per minute from 1 to {ceiling:,}, or leave it empty.",
            field="rate_limit_per_minute",
        )
    return value


def api_key_create(
    *,
    workspace: Workspace,
    actor: Any,
    name: Any,
    expires_at: Any = None,
    permissions: Any = None,
    rate_limit_per_minute: Any = None,
) -> tuple[ApiKey, str]:
    """Create a key for the actor in this workspace; returns it and the secret (shown once).

    ``permissions`` restricts the key to a subset of what the actor holds now; asking for
    more is refused. The key never outgrows its owner later either (checked per request).
    """
    from labelhub.access.permissions import parse_permissions

    if not isinstance(actor, User):
        raise PermissionDenied("API keys cannot create API keys; sign in to create one.")
    if not can(actor, Permission.MANAGE_OWN_API_KEYS, workspace):
        raise PermissionDenied()
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed("This field is required.", field="name")
    name = " ".join(name.split())
    if len(name) > 100:
        raise ValidationFailed("At most 100 characters.", field="name")
    expires_at = _clean_expiry(expires_at)
    rate = _clean_rate_limit(rate_limit_per_minute)
    codenames = None
    if permissions is not None:
        try:
            wanted = parse_permissions(permissions)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="permissions") from exc
        if not wanted:
            raise ValidationFailed(
                "Choose at least one permission, or omit the list.", field="permissions"
            )
        # Project permissions held only through project grants count as held too.
        held = definable_permissions(actor, workspace)
        extra = sorted(p.value for p in wanted if p not in held)
        if extra:
            raise ValidationFailed(
                f"A key cannot hold permissions you do not have: {', '.join(extra)}.",
                field="permissions",
            )
        codenames = sorted(p.value for p in wanted)
    prefix = API_KEY_PREFIX + secrets.token_hex(API_KEY_PREFIX_CHARS // 2)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            workspace=workspace,
            owner=actor,
            name=name,
            prefix=prefix,
            secret_hash=hash_token(secret),
            permissions=codenames,
            expires_at=expires_at,
            rate_limit_per_minute=rate,
        )
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="api_key.created",
            target=key,
            target_type="api_key",
            after={
                "name": name,
                "prefix": prefix,
                "permissions": codenames,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "rate_limit_per_minute": rate,
            },
        )
    return key, f"{prefix}_{secret}"


def api_key_revoke(*, workspace: Workspace, actor: Any, key: ApiKey) -> ApiKey:
    """Revoke a key: one's own, or anyone's with manage-all-API-keys."""
    own = key.owner_id == getattr(actor, "pk", None)
    needed = Permission.MANAGE_OWN_API_KEYS if own else Permission.MANAGE_ALL_API_KEYS
    if not can(actor, needed, workspace):
        raise PermissionDenied()
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk, workspace=workspace)
        if key.revoked_at is not None:
            raise Conflict("This key is already revoked.")
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="api_key.revoked",
            target=key,
            target_type="api_key",
            before={"status": "active", "owner": key.owner.email},
            after={"status": "revoked"},
        )
    return key


def api_keys_revoke_for_departure(*, workspace: Workspace, user: Any, actor: Any) -> int:
    """Revoke every active key a departing member holds in the workspace; return how many."""
    now = timezone.now()
    keys = list(
        ApiKey.objects.select_for_update().filter(
            workspace=workspace, owner=user, revoked_at__isnull=True
        )
    )
    for key in keys:
        key.revoked_at = now
        key.save(update_fields=["revoked_at"])
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="api_key.revoked",
            target=key,
            target_type="api_key",
            before={"status": "active", "owner": user.email},
            after={"status": "revoked", "reason": "owner left the workspace"},
        )
    return len(keys)


def api_key_authenticate(raw: str, *, ip_address: str | None = None) -> ApiKey | None:
    """Return the active key a bearer token names, or None; refused uses are audited."""
    import hmac

    if not isinstance(raw, str) or not raw.startswith(API_KEY_PREFIX):
        return None
    # The secret itself may contain "_": split at the fixed prefix length instead.
    cut = len(API_KEY_PREFIX) + API_KEY_PREFIX_CHARS
    prefix, sep, secret = raw[:cut], raw[cut : cut + 1], raw[cut + 1 :]
    if sep != "_" or not secret or len(secret) > 200:
        return None
    key = ApiKey.objects.select_related("owner", "workspace").filter(prefix=prefix).first()
    # Compare in constant time even when the prefix is unknown, so timing tells nothing.
    expected = key.secret_hash if key else hash_token("")
    if not hmac.compare_digest(expected, hash_token(secret)) or key is None:
        return None
    status = key.status
    member = Membership.objects.filter(workspace=key.workspace, user=key.owner).exists()
    if status != "active" or not member or not key.owner.is_active:
        audit_record(
            workspace=key.workspace,
            actor=key.owner,
            verb="api_key.refused",
            target=key,
            target_type="api_key",
            after={"reason": status if status != "active" else "owner left the workspace"},
            ip_address=ip_address,
        )
        return None
    now = timezone.now()
    # One write a minute at most: last-used is informative, not an access log.
    if (
        key.last_used_at is None
        or (now - key.last_used_at).total_seconds() > 60
        or key.last_used_ip != ip_address
    ):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip_address)
        key.last_used_at, key.last_used_ip = now, ip_address
    return key
