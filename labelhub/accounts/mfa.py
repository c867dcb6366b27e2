"""Two-factor authentication (TOTP + recovery codes): enrolment, verification, admin rule.

django-otp holds the secrets: a ``TOTPDevice`` per user for the authenticator app (only
confirmed devices count) and a ``StaticDevice`` whose ``StaticToken`` rows are the
single-use recovery codes. A session is *verified* once ``django_otp.login`` stored the
device that accepted a code in it (``request.user.is_verified()``, set by OTPMiddleware).

Workspaces with ``require_mfa_for_admins`` refuse their admin pages and admin API calls
to members holding manage-members or manage-roles until they enrolled and the session is
verified; API keys are exempt (a key is a second factor of its own kind).
"""

from __future__ import annotations

import math
from base64 import b32encode
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from labelhub.accounts.models import User
from labelhub.core.audit import audit_record
from labelhub.core.errors import Conflict, ValidationFailed

ISSUER = "LabelHub"
RECOVERY_CODE_COUNT = 10
INVALID_CODE = "The code is not valid."

PENDING_SESSION_KEY = "mfa_pending"
PENDING_MAX_AGE = 300  # seconds between the password and the code
_PENDING_SALT = "labelhub.accounts.mfa.pending"


# --- reads -----------------------------------------------------------------------------------


def totp_device(user: Any, *, confirmed: bool = True) -> TOTPDevice | None:
    """The user's authenticator (confirmed, or the one being set up), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-id").first()


def has_mfa(user: Any) -> bool:
    """True when the user has a confirmed authenticator."""
    return totp_device(user) is not None


def recovery_codes_left(user: Any) -> int:
    """How many unused recovery codes the user holds."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def is_verified(user: Any) -> bool:
    """True when this session proved a second factor (OTPMiddleware installs the check)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def secret_base32(device: TOTPDevice) -> str:
    """The shared secret as authenticator apps take it (base32, no padding)."""
    return b32encode(device.bin_key).decode().rstrip("=")


def otpauth_uri(device: TOTPDevice) -> str:
    """Key URI for the QR code: ``otpauth://totp/LabelHub:<e-mail>?secret=…&issuer=LabelHub``."""
    params = urlencode(
        {
            "secret": secret_base32(device),
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{quote(ISSUER)}:{quote(device.user.email)}?{params}"


def qr_svg(device: TOTPDevice) -> str:
    """The key URI as an inline SVG QR code (with its quiet zone, on white)."""
    return segno.make(otpauth_uri(device), error="m").svg_inline(
        scale=4, dark="#1d2330", light="#fff", svgclass="qr", title="QR code for your authenticator"
    )


# --- writes ----------------------------------------------------------------------------------


def mfa_start(*, user: Any) -> TOTPDevice:
    """Begin set-up: a fresh unconfirmed authenticator (any earlier attempt is dropped)."""
    with transaction.atomic():
        if has_mfa(user):
            raise Conflict("Two-factor authentication is already on.")
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


def mfa_cancel(*, user: Any) -> None:
    """Drop an unfinished set-up."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()


def mfa_confirm(*, user: Any, code: Any, workspace: Any = None) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with a code from it; return it and fresh recovery codes."""
    code = _clean_code(code)
    error = None
    with transaction.atomic():  # a wrong code's throttling count must commit: no raise inside
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-id")
            .first()
        )
        if device is None:
            error = "The set-up has expired; start it again."
        else:
            error = _throttled(device) or (None if device.verify_token(code) else INVALID_CODE)
        if error is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = _replace_recovery_codes(user)
            _audit(workspace, user, "mfa.enrolled", after={"mfa": True})
    if error is not None:
        raise ValidationFailed(error, field="code")
    return device, codes


def mfa_disable(*, user: Any, secret: Any, workspace: Any = None) -> None:
    """Turn two-factor authentication off after a current code or the password."""
    _reauthenticate(user, secret)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _audit(workspace, user, "mfa.disabled", before={"mfa": True}, after={"mfa": False})


def recovery_codes_regenerate(*, user: Any, secret: Any, workspace: Any = None) -> list[str]:
    """Replace the recovery codes (after a current code or the password); return the new ones."""
    if not has_mfa(user):
        raise Conflict("Two-factor authentication is off.")
    _reauthenticate(user, secret)
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
        _audit(workspace, user, "mfa.recovery_codes_regenerated")
    return codes


def verify_code(*, user: Any, code: Any) -> TOTPDevice | StaticDevice:
    """Check a sign-in code (6 digits: authenticator; else a recovery code, used up)."""
    code = _clean_code(code)
    error = INVALID_CODE
    with transaction.atomic():  # as in mfa_confirm: throttling counts must commit
        model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is not None:
            error = _throttled(device) or (None if device.verify_token(code) else INVALID_CODE)
    if error is not None:
        raise ValidationFailed(error, field="code")
    return device


def _clean_code(code: Any) -> str:
    if not isinstance(code, str) or not code.strip():
        raise ValidationFailed("Enter the code.", field="code")
    return "".join(code.split()).replace("-", "").lower()[:32]


def _throttled(device: TOTPDevice | StaticDevice) -> str | None:
    """django-otp's back-off after wrong codes (1 s, 2 s, 4 s, …) as a message, or None."""
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    wait = (info or {}).get("locked_until")
    seconds = max(1, math.ceil((wait - timezone.now()).total_seconds())) if wait else 1
    unit = "second" if seconds == 1 else "seconds"
    return f"Too many wrong codes. Try again in {seconds} {unit}."


def _reauthenticate(user: Any, secret: Any) -> None:
    """Accept a current authenticator code or the account password."""
    message = "The code or password is not valid."
    if not isinstance(secret, str) or not secret:
        raise ValidationFailed(
            "Enter a code from your authenticator or your password.", field="secret"
        )
    candidate = "".join(secret.split())
    if candidate.isdigit() and len(candidate) == 6:
        try:
            verify_code(user=user, code=candidate)
            return
        except ValidationFailed as exc:
            if exc.message != INVALID_CODE:  # throttled: say so
                raise ValidationFailed(exc.message, field="secret")
    if not user.check_password(secret):
        raise ValidationFailed(message, field="secret")


def _replace_recovery_codes(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def _audit(workspace: Any, user: Any, verb: str, **change: Any) -> None:
    if workspace is not None:
        audit_record(
            workspace=workspace, actor=user, verb=verb, target=user, target_type="user", **change
        )


# --- the sign-in in two steps ----------------------------------------------------------------


@dataclass
class PendingSignIn:
    """A user whose password was right and whose code is still due."""

    user: Any
    backend: str
    next_url: str


def pending_start(request: Any, user: Any, *, next_url: str = "") -> None:
    """Remember, signed and for five minutes, who passed the password step."""
    request.session[PENDING_SESSION_KEY] = signing.dumps(
        {
            "user": str(user.pk),
            "backend": user.backend,
            "next": next_url,
            "auth": user.get_session_auth_hash(),
        },
        salt=_PENDING_SALT,
        compress=True,
    )


def pending_get(request: Any) -> tuple[PendingSignIn | None, bool]:
    """The pending sign-in, or None; the flag says a pending one had expired."""
    raw = request.session.get(PENDING_SESSION_KEY)
    if not raw:
        return None, False
    try:
        data = signing.loads(raw, salt=_PENDING_SALT, max_age=PENDING_MAX_AGE)
    except signing.SignatureExpired:
        pending_clear(request)
        return None, True
    except signing.BadSignature:
        pending_clear(request)
        return None, False
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    # A password change since the first step ends the pending sign-in.
    if user is None or not _same(user.get_session_auth_hash(), data.get("auth", "")):
        pending_clear(request)
        return None, False
    return PendingSignIn(user=user, backend=data["backend"], next_url=data.get("next", "")), False


def pending_clear(request: Any) -> None:
    """Forget the pending sign-in."""
    request.session.pop(PENDING_SESSION_KEY, None)


def _same(a: str, b: str) -> bool:
    from django.utils.crypto import constant_time_compare

    return constant_time_compare(a, b)


def safe_next(request: Any, url: Any) -> str:
    """The ``next`` URL when it stays on this site, else an empty string."""
    if isinstance(url, str) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""
