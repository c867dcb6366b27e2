"""API: me, my workspaces, switching, workspace detail, members, tenant workspaces."""

import pytest
from rest_framework.test import APIClient

from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Membership, Role, Workspace
from tests.factories import make_member, make_tenant_admin, make_user

pytestmark = pytest.mark.django_db


def test_me_returns_user_and_current_workspace(admin_client, admin, workspace):
    r = admin_client.get("/api/v1/me/")
    assert r.status_code == 200
    assert r.json() == {
        "id": str(admin.pk),
        "email": "admin@alpha.test",
        "name": "Alpha Admin",
        "is_tenant_admin": False,
        "current_workspace": {"id": str(workspace.pk), "name": "Alpha"},
    }


def test_me_patch_changes_name_and_rejects_unknown_fields(admin_client, admin):
    assert (
        admin_client.patch("/api/v1/me/", {"name": "  Ada  L. "}, format="json").json()["name"]
        == "Ada L."
    )
    r = admin_client.patch("/api/v1/me/", {"name": "x", "email": "evil@x.test"}, format="json")
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": "invalid",
        "message": "The input is not valid.",
        "details": {"email": ["Unknown field."]},
    }
    admin.refresh_from_db()
    assert (admin.name, admin.email) == ("Ada L.", "admin@alpha.test")


def test_my_workspaces_lists_memberships_with_roles(
    api_client_for, admin, workspace, other_workspace
):
    make_member(other_workspace, Role.REVIEWER, user=admin)
    r = api_client_for(admin, workspace).get("/api/v1/me/workspaces/")
    rows = [(w["name"], w["role"], w["is_current"]) for w in r.json()["results"]]
    assert rows == [("Alpha", "admin", True), ("Beta", "reviewer", False)]


def test_switch_workspace_then_member_list_follows(
    api_client_for, admin, workspace, other_workspace
):
    make_member(other_workspace, Role.REVIEWER, user=admin)
    make_member(other_workspace, Role.LABELER, email="only-beta@x.test")
    client = api_client_for(admin, workspace)
    r = client.post(
        "/api/v1/me/current-workspace/", {"workspace": str(other_workspace.pk)}, format="json"
    )
    assert r.status_code == 200 and r.json()["name"] == "Beta"
    emails = [m["user"]["email"] for m in client.get("/api/v1/members/").json()["results"]]
    assert sorted(emails) == ["admin@alpha.test", "only-beta@x.test"]


def test_switch_to_workspace_not_a_member_of_is_404_and_changes_nothing(
    admin_client, other_workspace, workspace
):
    r = admin_client.post(
        "/api/v1/me/current-workspace/", {"workspace": str(other_workspace.pk)}, format="json"
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert admin_client.get("/api/v1/workspace/").json()["name"] == "Alpha"


def test_workspace_detail(admin_client, workspace):
    body = admin_client.get("/api/v1/workspace/").json()
    assert body["id"] == str(workspace.pk) and body["name"] == "Alpha"
    assert body["tenant"] == {"id": str(workspace.tenant_id), "name": workspace.tenant.name}


def test_member_list_is_paginated_by_cursor(admin_client, workspace, admin):
    for i in range(4):
        make_member(workspace, Role.LABELER, email=f"m{i}@alpha.test")
    page1 = admin_client.get("/api/v1/members/?page_size=3").json()
    assert len(page1["results"]) == 3 and page1["previous"] is None and "cursor=" in page1["next"]
    page2 = admin_client.get(page1["next"]).json()
    assert len(page2["results"]) == 2 and page2["next"] is None
    seen = {m["user"]["email"] for m in page1["results"] + page2["results"]}
    assert seen == {
        "admin@alpha.test",
        "m0@alpha.test",
        "m1@alpha.test",
        "m2@alpha.test",
        "m3@alpha.test",
    }


def test_member_list_query_count_does_not_grow(
    admin_client, workspace, django_assert_max_num_queries
):
    for i in range(10):
        make_member(workspace, Role.LABELER, email=f"q{i}@alpha.test")
    with django_assert_max_num_queries(12):
        assert len(admin_client.get("/api/v1/members/").json()["results"]) == 11


def test_admin_changes_role_and_removes_member(admin_client, labeler):
    m = Membership.objects.get(user=labeler)
    r = admin_client.patch(f"/api/v1/members/{m.pk}/", {"role": "reviewer"}, format="json")
    assert r.status_code == 200 and r.json()["role"] == "reviewer"
    assert admin_client.delete(f"/api/v1/members/{m.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=m.pk).exists()


def test_removing_last_admin_is_409(admin_client, admin):
    m = Membership.objects.get(user=admin)
    r = admin_client.delete(f"/api/v1/members/{m.pk}/")
    assert r.status_code == 409
    assert r.json()["error"]["message"] == "The workspace must keep at least one Admin."
    assert Membership.objects.filter(pk=m.pk).exists()


def test_unknown_role_is_400_with_field_details(admin_client, labeler):
    m = Membership.objects.get(user=labeler)
    r = admin_client.patch(f"/api/v1/members/{m.pk}/", {"role": "owner"}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {
        "role": [
            "Unknown role 'owner'; choose one of admin, team_manager, project_based, reviewer, "
            "labeler or a custom role id."
        ]
    }


def test_tenant_admin_lists_and_creates_workspaces(api_client_for, workspace):
    boss = make_tenant_admin(workspace.tenant)
    make_member(workspace, Role.ADMIN, user=boss)
    client = api_client_for(boss, workspace)
    r = client.post("/api/v1/tenant/workspaces/", {"name": "Audio"}, format="json")
    assert r.status_code == 201 and r.json()["name"] == "Audio"
    names = [w["name"] for w in client.get("/api/v1/tenant/workspaces/").json()["results"]]
    assert names == ["Alpha", "Audio"]
    dup = client.post("/api/v1/tenant/workspaces/", {"name": "audio"}, format="json")
    assert dup.status_code == 409 and Workspace.objects.filter(tenant=workspace.tenant).count() == 2


def test_non_tenant_admin_cannot_create_workspace(admin_client):
    r = admin_client.post("/api/v1/tenant/workspaces/", {"name": "Audio"}, format="json")
    assert r.status_code == 404
    assert admin_client.get("/api/v1/tenant/workspaces/").json() == {"results": []}
    assert Workspace.objects.filter(name="Audio").count() == 0


# --- isolation ------------------------------------------------------------------------------


def test_members_of_other_workspace_are_404_and_never_listed(admin_client, other_admin):
    foreign = Membership.objects.get(user=other_admin)
    url = f"/api/v1/members/{foreign.pk}/"
    missing = "/api/v1/members/0190c5d2-0000-7000-8000-000000000000/"
    for method in ("get", "patch", "delete"):
        a = getattr(admin_client, method)(url, {"role": "labeler"}, format="json")
        b = getattr(admin_client, method)(missing, {"role": "labeler"}, format="json")
        assert (
            (a.status_code, a.json())
            == (b.status_code, b.json())
            == (404, {"error": {"code": "not_found", "message": "Not found.", "details": {}}})
        )
    emails = [m["user"]["email"] for m in admin_client.get("/api/v1/members/").json()["results"]]
    assert "admin@beta.test" not in emails
    assert Membership.objects.get(pk=foreign.pk).role == Role.ADMIN


# --- permission matrix ------------------------------------------------------------------------

MEMBER_ENDPOINTS = [
    # (method, url template, body, status for: anonymous, non-member, labeler, admin)
    ("get", "/api/v1/workspace/", None, (401, 404, 200, 200)),
    ("get", "/api/v1/members/", None, (401, 404, 200, 200)),
    ("get", "/api/v1/members/{target}/", None, (401, 404, 200, 200)),
    ("patch", "/api/v1/members/{target}/", {"role": "reviewer"}, (401, 404, 403, 200)),
    ("delete", "/api/v1/members/{target}/", None, (401, 404, 403, 204)),
    ("get", "/api/v1/audit-log/", None, (401, 404, 403, 200)),
]


@pytest.mark.parametrize(("method", "url", "body", "expected"), MEMBER_ENDPOINTS)
@pytest.mark.parametrize("who", [0, 1, 2, 3], ids=["anonymous", "non-member", "labeler", "admin"])
def test_permission_matrix(method, url, body, expected, who, workspace, admin, api_client_for):
    target = make_member(workspace, Role.LABELER, email="target@alpha.test")
    membership = Membership.objects.get(user=target)
    clients = [
        APIClient(),
        # signed in, in no workspace, with a session forged to point at this one
        api_client_for(make_user("nobody@x.test"), workspace),
        api_client_for(make_member(workspace, Role.LABELER), workspace),
        api_client_for(admin, workspace),
    ]
    audit_before = AuditLogEntry.objects.count()
    r = getattr(clients[who], method)(url.format(target=membership.pk), body, format="json")
    assert r.status_code == expected[who]
    if r.status_code >= 400:
        assert set(r.json()["error"]) == {"code", "message", "details"}
        membership.refresh_from_db()
        assert membership.role == Role.LABELER
        assert AuditLogEntry.objects.count() == audit_before
