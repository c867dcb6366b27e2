"""Every write to API keys: create (a subset of the owner), revoke, authenticate."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from labelhub.access.authz import can, forgets_permissions
from labelhub.access.escalation import definable_permissions
from labelhub.access.models import API_KEY_PREFIX, API_KEY_PREFIX_CHARS, ApiKey, hash_token
from labelhub.access.permissions import Permission, parse_permissions
from labelhub.accounts.models import User
from labelhub.core.audit import audit_record
from labelhub.core.errors import Conflict, PermissionDenied, ValidationFailed
from labelhub.workspaces.models import Membership, Workspace


def _clean_expiry(expires_at: Any):
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


@forgets_permissions
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


@forgets_permissions
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
