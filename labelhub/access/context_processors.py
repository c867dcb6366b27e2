"""Template context for the console layout: current workspace, switcher, navigation."""

from labelhub.access.authz import permissions_for
from labelhub.access.permissions import Permission
from labelhub.workspaces.selectors import (
    current_workspace_for,
    tenants_administered,
    workspaces_for_user,
)


def workspace(request):
    """Expose the current workspace, the switcher's choices and what the nav may show."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    ws = current_workspace_for(request)
    perms = permissions_for(user, ws) if ws else frozenset()
    return {
        "current_workspace": ws,
        "my_workspaces": list(workspaces_for_user(user=user)),
        "nav": {
            "members": Permission.VIEW_WORKSPACE in perms,
            "invitations": Permission.MANAGE_MEMBERS in perms,
            "audit_log": Permission.VIEW_AUDIT_LOG in perms,
            "roles": Permission.MANAGE_ROLES in perms,
            "groups": Permission.MANAGE_GROUPS in perms,
            "api_keys": Permission.MANAGE_OWN_API_KEYS in perms,
            "settings": Permission.MANAGE_WORKSPACE_SETTINGS in perms,
            "tenant_admin": tenants_administered(user=user).exists(),
        },
    }
