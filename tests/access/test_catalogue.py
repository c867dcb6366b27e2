"""The catalogue, the system role bundles and the generated role table."""

from pathlib import Path

from labelhub.access.management.commands.role_table import readme_with_table
from labelhub.access.permissions import (
    PROJECT_PERMISSIONS,
    WORKSPACE_PERMISSIONS,
    Permission,
    Scope,
    parse_permissions,
)
from labelhub.access.roles import SYSTEM_PROJECT_ROLE_PERMISSIONS, SYSTEM_ROLE_PERMISSIONS
from labelhub.workspaces.models import Role

ROOT = Path(__file__).resolve().parents[2]


def test_catalogue_covers_the_required_codenames():
    assert {p.value for p in WORKSPACE_PERMISSIONS} == {
        "view_workspace",
        "manage_members",
        "manage_groups",
        "manage_roles",
        "manage_own_api_keys",
        "manage_all_api_keys",
        "create_projects",
        "access_all_projects",
        "manage_datasets",
        "view_usage",
        "view_audit_log",
        "view_monitor",
        "manage_workspace_settings",
    }
    assert {p.value for p in PROJECT_PERMISSIONS} == {
        "view_project",
        "label",
        "review",
        "rework",
        "manage_project_settings",
        "manage_batches",
        "manage_workflow",
        "manage_project_members",
        "import_labels",
        "export_labels",
        "view_performance",
        "view_quality_scores",
        "manage_issues",
        "comment_on_issues",
        "post_project_updates",
        "move_tasks",
        "delete_labels",
    }
    assert all(p.label and p.description and p.scope in set(Scope) for p in Permission)


def test_parse_permissions_names_unknown_codenames():
    assert parse_permissions(["label", "review"]) == {Permission.LABEL, Permission.REVIEW}
    for bad, message in [
        (["label", "fly", "swim"], "Unknown permission: fly, swim."),
        ("label", "Give a list"),
    ]:
        try:
            parse_permissions(bad)
        except ValueError as exc:
            assert str(exc).startswith(message)
        else:
            raise AssertionError("accepted")


def test_system_roles():
    assert SYSTEM_ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    assert Permission.ACCESS_ALL_PROJECTS not in SYSTEM_ROLE_PERMISSIONS[Role.PROJECT_BASED]
    assert SYSTEM_ROLE_PERMISSIONS[Role.PROJECT_BASED] == {
        Permission.VIEW_WORKSPACE,
        Permission.MANAGE_OWN_API_KEYS,
    }
    assert Permission.REVIEW in SYSTEM_ROLE_PERMISSIONS[Role.REVIEWER]
    assert Permission.REVIEW not in SYSTEM_ROLE_PERMISSIONS[Role.LABELER]
    assert Permission.MANAGE_MEMBERS not in SYSTEM_ROLE_PERMISSIONS[Role.TEAM_MANAGER]
    assert SYSTEM_PROJECT_ROLE_PERMISSIONS[Role.LABELER] == {
        Permission.VIEW_PROJECT,
        Permission.LABEL,
        Permission.REWORK,
        Permission.COMMENT_ON_ISSUES,
    }
    assert all(perms <= PROJECT_PERMISSIONS for perms in SYSTEM_PROJECT_ROLE_PERMISSIONS.values())


def test_readme_role_table_is_generated_from_code():
    text = (ROOT / "README.md").read_text()
    assert "<!-- role-table:start -->" in text
    assert readme_with_table(text) == text, (
        "README role table is stale: run manage.py role_table --write"
    )
