"""The permission catalogue: one enum of codenames, each with a scope, a label, a description.

Later capabilities add members to this enum; roles, the role editor, the generated role
table and ``can`` all read it, so nothing hard-codes role names when deciding access.
Project-scoped codenames are also the django-guardian object permissions of Project.
"""

from __future__ import annotations

import enum


class Scope(enum.StrEnum):
    WORKSPACE = "workspace"
    PROJECT = "project"


class Permission(enum.StrEnum):
    """Every permission LabelHub checks."""

    scope: Scope
    label: str
    description: str

    def __new__(cls, codename: str, scope: Scope, label: str, description: str):
        obj = str.__new__(cls, codename)
        obj._value_ = codename
        obj.scope = scope
        obj.label = label
        obj.description = description
        return obj

    # --- workspace ---------------------------------------------------------------------------
    VIEW_WORKSPACE = (
        "view_workspace",
        Scope.WORKSPACE,
        "View workspace",
        "See the workspace and its members. Every member holds it.",
    )
    MANAGE_MEMBERS = (
        "manage_members",
        Scope.WORKSPACE,
        "Manage members",
        "Invite members, change their role, remove them, revoke invitations.",
    )
    MANAGE_GROUPS = (
        "manage_groups",
        Scope.WORKSPACE,
        "Manage groups",
        "Create, rename and delete groups; add and remove their members.",
    )
    MANAGE_ROLES = (
        "manage_roles",
        Scope.WORKSPACE,
        "Manage roles",
        "Create, edit and delete custom roles.",
    )
    MANAGE_OWN_API_KEYS = (
        "manage_own_api_keys",
        Scope.WORKSPACE,
        "Manage own API keys",
        "Create, list and revoke one's own API keys.",
    )
    MANAGE_ALL_API_KEYS = (
        "manage_all_api_keys",
        Scope.WORKSPACE,
        "Manage all API keys",
        "List and revoke every API key of the workspace.",
    )
    CREATE_PROJECTS = (
        "create_projects",
        Scope.WORKSPACE,
        "Create projects",
        "Create new projects in the workspace.",
    )
    ACCESS_ALL_PROJECTS = (
        "access_all_projects",
        Scope.WORKSPACE,
        "Access all projects",
        "The role's project permissions apply in every project of the workspace.",
    )
    MANAGE_DATASETS = (
        "manage_datasets",
        Scope.WORKSPACE,
        "Manage datasets",
        "Create, change and delete datasets and data rows.",
    )
    VIEW_USAGE = ("view_usage", Scope.WORKSPACE, "View usage", "See the workspace's usage figures.")
    VIEW_AUDIT_LOG = (
        "view_audit_log",
        Scope.WORKSPACE,
        "View audit log",
        "Read the workspace's audit log.",
    )
    VIEW_MONITOR = (
        "view_monitor",
        Scope.WORKSPACE,
        "View Monitor",
        "See performance across all projects of the workspace.",
    )
    MANAGE_WORKSPACE_SETTINGS = (
        "manage_workspace_settings",
        Scope.WORKSPACE,
        "Manage workspace settings",
        "Change the workspace's settings (name, security requirements).",
    )

    # --- project ---------------------------------------------------------------------------
    VIEW_PROJECT = ("view_project", Scope.PROJECT, "View project", "Open the project and its data.")
    LABEL = (
        "label",
        Scope.PROJECT,
        "Label",
        "Take labeling tasks from the queue and submit labels.",
    )
    REVIEW = ("review", Scope.PROJECT, "Review", "Review labels: approve, reject, score.")
    REWORK = ("rework", Scope.PROJECT, "Rework", "Rework rejected labels.")
    MANAGE_PROJECT_SETTINGS = (
        "manage_project_settings",
        Scope.PROJECT,
        "Manage project settings",
        "Change the project's settings, ontology, instructions; duplicate or delete it.",
    )
    MANAGE_BATCHES = (
        "manage_batches",
        Scope.PROJECT,
        "Manage batches",
        "Send data rows to the project as batches; change priority; remove queued rows.",
    )
    MANAGE_WORKFLOW = (
        "manage_workflow",
        Scope.PROJECT,
        "Manage workflow",
        "Edit review steps, filters and rework rules.",
    )
    MANAGE_PROJECT_MEMBERS = (
        "manage_project_members",
        Scope.PROJECT,
        "Manage project members",
        "Add members and groups to the project with a role; change or remove them.",
    )
    IMPORT_LABELS = (
        "import_labels",
        Scope.PROJECT,
        "Import labels",
        "Import pre-labels and ground truth.",
    )
    EXPORT_LABELS = (
        "export_labels",
        Scope.PROJECT,
        "Export labels",
        "Export data rows and labels.",
    )
    VIEW_PERFORMANCE = (
        "view_performance",
        Scope.PROJECT,
        "View performance",
        "See the project's performance dashboards.",
    )
    VIEW_QUALITY_SCORES = (
        "view_quality_scores",
        Scope.PROJECT,
        "View benchmark/consensus scores",
        "See benchmark and consensus agreement scores.",
    )
    MANAGE_ISSUES = (
        "manage_issues",
        Scope.PROJECT,
        "Manage issues",
        "Open, resolve and reopen issues; manage issue categories.",
    )
    COMMENT_ON_ISSUES = (
        "comment_on_issues",
        Scope.PROJECT,
        "Comment on issues",
        "Open issues and comment on them.",
    )
    POST_PROJECT_UPDATES = (
        "post_project_updates",
        Scope.PROJECT,
        "Post project updates",
        "Announce updates to the project's workforce.",
    )
    MOVE_TASKS = ("move_tasks", Scope.PROJECT, "Move tasks", "Move tasks between workflow steps.")
    DELETE_LABELS = (
        "delete_labels",
        Scope.PROJECT,
        "Delete labels",
        "Delete labels and requeue their data rows.",
    )


#: permissions whose feature has not landed yet -> what they will come with. They stay in the
#: catalogue (roles and the API keep them, so nothing breaks when the feature arrives); the
#: role editor shows them disabled with this note, so no admin is promised what the product
#: cannot do yet. A feature that lands removes its entry (a test watches for the check).
COMING: dict[Permission, str] = {
    Permission.VIEW_USAGE: "usage figures",
    Permission.VIEW_MONITOR: "the Monitor dashboard",
    Permission.VIEW_PERFORMANCE: "performance dashboards",
    Permission.MANAGE_ISSUES: "issues",
    Permission.COMMENT_ON_ISSUES: "issues",
    Permission.POST_PROJECT_UPDATES: "project updates",
    Permission.EXPORT_LABELS: "label exports",
}

WORKSPACE_PERMISSIONS = frozenset(p for p in Permission if p.scope == Scope.WORKSPACE)
PROJECT_PERMISSIONS = frozenset(p for p in Permission if p.scope == Scope.PROJECT)


def parse_permissions(codenames: object) -> frozenset[Permission]:
    """Turn a list of codenames into permissions; raise ValueError naming unknown ones."""
    if not isinstance(codenames, list | tuple | set | frozenset) or not all(
        isinstance(c, str) for c in codenames
    ):
        raise ValueError("Give a list of permission codenames.")
    unknown = sorted({c for c in codenames if c not in Permission._value2member_map_})
    if unknown:
        raise ValueError(f"Unknown permission: {', '.join(unknown)}.")
    return frozenset(Permission(c) for c in codenames)
