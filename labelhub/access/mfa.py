"""The workspace rule "admins use two-factor authentication": who it binds and how the
console and the API enforce it (enrolling and verifying devices: ``accounts.mfa``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from labelhub.access.authz import permissions_for
from labelhub.access.models import ApiKey
from labelhub.access.permissions import Permission
from labelhub.accounts.mfa import has_mfa, is_verified
from labelhub.core.errors import PermissionDenied

#: holding any of these in a workspace that requires it means: second factor first
ADMIN_PERMISSIONS = frozenset({Permission.MANAGE_MEMBERS, Permission.MANAGE_ROLES})
#: pages and API calls that need those admins to be verified
GUARDED_PERMISSIONS = frozenset(
    {
        Permission.MANAGE_MEMBERS,
        Permission.MANAGE_ROLES,
        Permission.MANAGE_GROUPS,
        Permission.MANAGE_ALL_API_KEYS,
        Permission.VIEW_AUDIT_LOG,
        Permission.MANAGE_WORKSPACE_SETTINGS,
    }
)
ENROL_MESSAGE = (
    "This workspace requires two-factor authentication for admins. "
    "Enrol an authenticator to continue."
)
VERIFY_MESSAGE = (
    "This workspace requires two-factor authentication for admins. "
    "Enter the code from your authenticator to continue."
)


class MfaRequired(PermissionDenied):
    """The workspace requires a second factor this session has not given."""

    code = "mfa_required"


def admin_requirement(user: Any, workspace: Any) -> str | None:
    """What the workspace's admin rule asks of this user now: "enrol", "verify" or None."""
    if workspace is None or not workspace.require_mfa_for_admins:
        return None
    if not permissions_for(user, workspace) & ADMIN_PERMISSIONS:
        return None
    if is_verified(user):
        return None
    return "verify" if has_mfa(user) else "enrol"


def console_redirect(request: Any, workspace: Any):
    """Redirect an admin page's visitor to enrol or to enter a code, or None when free to go."""
    need = admin_requirement(request.user, workspace)
    if need is None:
        return None
    here = request.get_full_path() if request.method == "GET" else request.path
    if need == "enrol":
        messages.warning(request, ENROL_MESSAGE)
        return redirect(f"{reverse('accounts:profile')}?{urlencode({'next': here})}#mfa")
    messages.warning(request, VERIFY_MESSAGE)
    return redirect(f"{reverse('accounts:sign-in-code')}?{urlencode({'next': here})}")


def api_check(request: Any, workspace: Any) -> None:
    """Refuse an admin API call from a session that owes the workspace a second factor."""
    if isinstance(getattr(request, "auth", None), ApiKey):
        return
    need = admin_requirement(request.user, workspace)
    if need == "enrol":
        raise MfaRequired(ENROL_MESSAGE)
    if need == "verify":
        raise MfaRequired(VERIFY_MESSAGE)
