"""System roles as permission bundles, defined in one place.

A workspace role's project permissions apply in every project only when the role holds
``access_all_projects``; Project-based members get project permissions only from project
grants (directly or through groups). The README's role table is generated from this
module (``python manage.py role_table``) and a test fails when it is stale.
"""

from __future__ import annotations

from labelhub.access.permissions import PROJECT_PERMISSIONS, Permission
from labelhub.workspaces.models import Role

P = Permission

_LABELING = frozenset({P.VIEW_PROJECT, P.LABEL, P.REWORK, P.COMMENT_ON_ISSUES})
_REVIEWING = _LABELING | {P.REVIEW, P.VIEW_QUALITY_SCORES}

SYSTEM_ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.TEAM_MANAGER: frozenset(
        {
            P.VIEW_WORKSPACE,
            P.MANAGE_OWN_API_KEYS,
            P.CREATE_PROJECTS,
            P.ACCESS_ALL_PROJECTS,
            P.MANAGE_DATASETS,
            P.VIEW_USAGE,
            P.VIEW_MONITOR,
        }
    )
    | PROJECT_PERMISSIONS,
    Role.PROJECT_BASED: frozenset({P.VIEW_WORKSPACE, P.MANAGE_OWN_API_KEYS}),
    Role.REVIEWER: frozenset({P.VIEW_WORKSPACE, P.MANAGE_OWN_API_KEYS, P.ACCESS_ALL_PROJECTS})
    | _REVIEWING,
    Role.LABELER: frozenset({P.VIEW_WORKSPACE, P.MANAGE_OWN_API_KEYS, P.ACCESS_ALL_PROJECTS})
    | _LABELING,
}

#: What a system role grants when it is given on a project (to a member or a group).
SYSTEM_PROJECT_ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    role: perms & PROJECT_PERMISSIONS for role, perms in SYSTEM_ROLE_PERMISSIONS.items()
}
# Project-based as a project role means "labeler here"; on its own it grants nothing.
SYSTEM_PROJECT_ROLE_PERMISSIONS[Role.PROJECT_BASED] = _LABELING


def role_permissions(role: str) -> frozenset[Permission]:
    """Return the permissions a system role grants at workspace level."""
    return SYSTEM_ROLE_PERMISSIONS.get(role, frozenset())


def role_table_markdown() -> str:
    """Render the role × permission table (the README embeds it; a test keeps it fresh)."""
    roles = [r for r in Role if r != Role.CUSTOM]
    head = "| permission | scope | " + " | ".join(r.label for r in roles) + " |"
    rule = "| --- | --- | " + " | ".join(":-:" for _ in roles) + " |"
    rows = [
        f"| {p.label} (`{p.value}`) | {p.scope.value} | "
        + " | ".join("✓" if p in SYSTEM_ROLE_PERMISSIONS[r] else "" for r in roles)
        + " |"
        for p in Permission
    ]
    return "\n".join([head, rule, *rows])
