"""The role editor promises only what the product does: permissions whose feature has not
landed yet show as disabled checkboxes saying what they come with, a role that holds one
keeps it when saved, and the permission catalogue (API, roles) stays whole."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from labelhub.access.permissions import COMING, Permission
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.access.test_views import dom, make_role, role_form

pytestmark = pytest.mark.django_db

NOT_YET = {
    "view_usage",
    "view_monitor",
    "view_performance",
    "manage_issues",
    "comment_on_issues",
    "post_project_updates",
    "export_labels",
}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def web(admin, workspace):
    c = Client()
    c.force_login(admin)
    session = c.session
    session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
    session.save()
    return c


def boxes(form) -> dict[str, dict]:
    """Each permission checkbox of the picker: codename -> its attributes."""
    return {
        i.attrs["value"]: i.attrs
        for i in form.all("input", name="permissions")
        if i.attrs.get("type") == "checkbox"
    }


def test_permissions_without_their_feature_are_disabled_with_a_note(web):
    form = role_form(dom(web.get("/roles/")))
    found = boxes(form)
    assert set(found) == {p.value for p in Permission}  # the catalogue is whole
    assert {c for c, attrs in found.items() if "disabled" in attrs} == NOT_YET
    html = web.get("/roles/").content.decode()
    for codename in NOT_YET:
        note = re.search(
            rf'value="{codename}"[^>]*>\s*<span>[^<]+</span>\s*<small class="badge">\w+</small>'
            r'\s*<small class="coming">coming with ([^<]+)</small>',
            html,
        )
        assert note, codename
    # what exists today can be chosen
    for codename in ("move_tasks", "delete_labels", "view_quality_scores", "import_labels"):
        assert "disabled" not in found[codename]


def test_a_role_holding_one_keeps_it_when_saved_in_the_console(web, workspace, admin):
    role = make_role(workspace, admin, "Ops", permissions=["view_audit_log", "view_usage"])
    form = role_form(dom(web.get(f"/roles/{role.pk}/")))
    assert "checked" in boxes(form)["view_usage"] and "disabled" in boxes(form)["view_usage"]
    kept = [
        i.attrs["value"]
        for i in form.all("input", name="permissions")
        if i.attrs.get("type") == "hidden"
    ]
    assert kept == ["view_usage"]
    # what the browser sends: the enabled boxes ticked, and the hidden field
    web.post(
        f"/roles/{role.pk}/",
        {"action": "save", "name": "Ops", "permissions": ["view_audit_log", *kept]},
    )
    role.refresh_from_db()
    assert role.permissions == ["view_audit_log", "view_usage"]


def test_the_api_catalogue_still_lists_every_permission(admin_client):
    listed = admin_client.get("/api/v1/permissions/").json()
    codenames = {p["codename"] for p in listed.get("results", listed)}
    assert codenames == {p.value for p in Permission}


def test_a_feature_that_lands_leaves_the_coming_list():
    """A permission some view, service or endpoint checks is no longer "coming"."""
    assert {p.value for p in COMING} == NOT_YET
    sources = [
        path.read_text()
        for path in (ROOT / "labelhub").rglob("*.py")
        if path.name not in {"permissions.py", "roles.py"} and "migrations" not in path.parts
    ]
    for permission in COMING:
        used = [
            s
            for s in sources
            if f"Permission.{permission.name}" in s or f"P.{permission.name}" in s
        ]
        assert used == [], f"{permission.name} is checked somewhere: drop it from COMING"
