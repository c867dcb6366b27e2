"""System roles as permission bundles, defined in one place."""

from __future__ import annotations

from labelhub.access.permissions import Permission as P
from labelhub.workspaces.models import Role

SYSTEM_ROLE_PERMISSIONS: dict[str, frozenset[P]] = {
    Role.ADMIN: frozenset(P),
    Role.TEAM_MANAGER: frozenset({P.VIEW_WORKSPACE}),
    Role.PROJECT_BASED: frozenset({P.VIEW_WORKSPACE}),
    Role.REVIEWER: frozenset({P.VIEW_WORKSPACE}),
    Role.LABELER: frozenset({P.VIEW_WORKSPACE}),
}


def role_permissions(role: str) -> frozenset[P]:
    """Return the permissions a system role grants."""
    return SYSTEM_ROLE_PERMISSIONS.get(role, frozenset())
