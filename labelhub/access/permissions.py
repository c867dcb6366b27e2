"""The permission catalogue: one enum of codenames, each with a scope and a description.

The access-control issue extends this enum; roles and `can` read it, nothing hard-codes
role names when deciding what someone may do.
"""

from __future__ import annotations

import enum


class Scope(enum.StrEnum):
    WORKSPACE = "workspace"
    PROJECT = "project"


class Permission(enum.StrEnum):
    """Every permission LabelHub checks."""

    def __new__(cls, codename: str, scope: Scope, label: str, description: str):
        obj = str.__new__(cls, codename)
        obj._value_ = codename
        obj.scope = scope
        obj.label = label
        obj.description = description
        return obj

    VIEW_WORKSPACE = (
        "view_workspace",
        Scope.WORKSPACE,
        "View workspace",
        "See the workspace, its members and its own profile data.",
    )
    MANAGE_MEMBERS = (
        "manage_members",
        Scope.WORKSPACE,
        "Manage members",
        "Invite members, change their role, remove them, revoke invitations.",
    )
    VIEW_AUDIT_LOG = (
        "view_audit_log",
        Scope.WORKSPACE,
        "View audit log",
        "Read the workspace's audit log.",
    )
