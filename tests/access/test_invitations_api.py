"""API: invitations (create/list/revoke/accept) and the audit log."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from labelhub.access.models import Invitation
from labelhub.accounts.models import User
from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Membership, Role
from tests.factories import PASSWORD, make_member, make_user

pytestmark = pytest.mark.django_db


def _token_from(message) -> str:
    return re.search(r"/invitations/([A-Za-z0-9_-]{43})/", message.body).group(1)


def _create(client, email="new@alpha.test", role="reviewer"):
    return client.post("/api/v1/invitations/", {"email": email, "role": role}, format="json")


def test_create_list_revoke(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = _create(admin_client)
    assert r.status_code == 201
    body = r.json()
    assert (body["email"], body["role"], body["status"], body["invited_by"]) == (
        "new@alpha.test",
        "reviewer",
        "pending",
        "admin@alpha.test",
    )
    # The link reaches the invitee by e-mail and nobody else: the inviter never sees it.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@alpha.test"]
    token = _token_from(mail.outbox[0])
    assert f"http://127.0.0.1:8000/invitations/{token}/" in mail.outbox[0].body
    assert token not in r.content.decode()
    assert sorted(body) == [
        "created_at",
        "email",
        "expires_at",
        "id",
        "invited_by",
        "role",
        "role_label",
        "status",
    ]
    listed = admin_client.get("/api/v1/invitations/").json()["results"]
    assert [(i["email"], i["status"]) for i in listed] == [("new@alpha.test", "pending")]
    assert token not in str(listed)
    r = admin_client.delete(f"/api/v1/invitations/{body['id']}/")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert admin_client.delete(f"/api/v1/invitations/{body['id']}/").status_code == 409


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "nope", "role": "labeler"}, "email"),
        ({"email": "a@b.test", "role": "owner"}, "role"),
        ({"email": "a@b.test"}, "role"),
        ({"email": "a@b.test", "role": "labeler", "workspace": "x"}, "workspace"),
    ],
)
def test_create_bad_input_is_400(admin_client, payload, field):
    r = admin_client.post("/api/v1/invitations/", payload, format="json")
    assert r.status_code == 400
    assert list(r.json()["error"]["details"]) == [field]
    assert Invitation.objects.count() == 0


def test_duplicate_and_existing_member_are_409(admin_client, labeler):
    assert _create(admin_client).status_code == 201
    dup = _create(admin_client)
    assert dup.status_code == 409
    assert dup.json()["error"]["details"] == {
        "email": ["A pending invitation for this e-mail already exists."]
    }
    member = _create(admin_client, email="labeler@alpha.test")
    assert member.status_code == 409
    assert Invitation.objects.count() == 1


def test_accept_anonymous_creates_account_and_signs_in():
    from labelhub.access.services.invitations import invitation_create
    from tests.factories import make_workspace

    ws = make_workspace("Gamma")
    admin = make_member(ws, Role.ADMIN)
    _, token = invitation_create(workspace=ws, actor=admin, email="fresh@x.test", role="labeler")
    client = APIClient()
    r = client.post(
        "/api/v1/invitations/accept/",
        {"token": token, "name": "Fresh", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 201 and r.json()["role"] == "labeler"
    assert client.get("/api/v1/me/").json()["current_workspace"] == {
        "id": str(ws.pk),
        "name": "Gamma",
    }
    again = APIClient().post(
        "/api/v1/invitations/accept/", {"token": token, "password": PASSWORD}, format="json"
    )
    assert again.status_code == 409
    assert User.objects.filter(email="fresh@x.test").count() == 1


def test_accept_with_bad_token_or_weak_password(admin_client, django_capture_on_commit_callbacks):
    r = APIClient().post(
        "/api/v1/invitations/accept/", {"token": "nope", "password": PASSWORD}, format="json"
    )
    assert r.status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        _create(admin_client)
    token = _token_from(mail.outbox[-1])
    weak = APIClient().post(
        "/api/v1/invitations/accept/", {"token": token, "password": "abc"}, format="json"
    )
    assert weak.status_code == 400
    assert "password" in weak.json()["error"]["details"]
    assert not User.objects.filter(email="new@alpha.test").exists()


def test_invitations_of_other_workspace_are_404(
    admin_client, api_client_for, other_admin, other_workspace
):
    foreign = _create(api_client_for(other_admin, other_workspace), email="z@beta.test").json()
    assert admin_client.get(f"/api/v1/invitations/{foreign['id']}/").status_code == 404
    assert admin_client.delete(f"/api/v1/invitations/{foreign['id']}/").status_code == 404
    assert admin_client.get("/api/v1/invitations/").json()["results"] == []
    assert Invitation.objects.get(pk=foreign["id"]).status == "pending"


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("get", "/api/v1/invitations/", (401, 404, 403, 200)),
        ("post", "/api/v1/invitations/", (401, 404, 403, 201)),
        ("get", "/api/v1/invitations/{inv}/", (401, 404, 403, 200)),
        ("delete", "/api/v1/invitations/{inv}/", (401, 404, 403, 200)),
    ],
)
@pytest.mark.parametrize("who", [0, 1, 2, 3], ids=["anonymous", "non-member", "labeler", "admin"])
def test_permission_matrix(
    method, url, expected, who, workspace, admin, api_client_for, admin_client
):
    inv_id = _create(admin_client, email="existing@alpha.test").json()["id"]
    clients = [
        APIClient(),
        api_client_for(make_user("nobody@x.test"), workspace),
        api_client_for(make_member(workspace, Role.LABELER), workspace),
        admin_client,
    ]

    def state():
        return Invitation.objects.count(), list(Invitation.objects.values_list("status", flat=True))

    before = state()
    r = getattr(clients[who], method)(
        url.format(inv=inv_id), {"email": "n@alpha.test", "role": "labeler"}, format="json"
    )
    assert r.status_code == expected[who]
    if r.status_code >= 400:
        assert state() == before


# --- audit log --------------------------------------------------------------------------------


def test_audit_log_lists_and_filters(admin_client, admin, workspace, labeler):
    other = make_member(workspace, Role.ADMIN, email="second@alpha.test")
    m = Membership.objects.get(user=labeler)
    admin_client.patch(f"/api/v1/members/{m.pk}/", {"role": "reviewer"}, format="json")
    _create(admin_client)
    rows = admin_client.get("/api/v1/audit-log/").json()["results"]
    assert [r["verb"] for r in rows] == ["invitation.created", "member.role_changed"]
    changed = rows[1]
    assert changed["actor"] == {"id": str(admin.pk), "label": "admin@alpha.test"}
    assert changed["target"]["label"] == "labeler@alpha.test"
    assert (changed["before"], changed["after"], changed["ip_address"]) == (
        {"role": "labeler", "role_label": "Labeler"},
        {"role": "reviewer", "role_label": "Reviewer"},
        "127.0.0.1",
    )
    by_verb = admin_client.get("/api/v1/audit-log/?verb=member.role_changed").json()["results"]
    assert [r["verb"] for r in by_verb] == ["member.role_changed"]
    assert admin_client.get(f"/api/v1/audit-log/?actor={other.pk}").json()["results"] == []
    future = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert admin_client.get("/api/v1/audit-log/", {"since": future}).json()["results"] == []
    assert len(admin_client.get("/api/v1/audit-log/", {"until": future}).json()["results"]) == 2


def test_audit_log_bad_filter_is_400(admin_client):
    r = admin_client.get("/api/v1/audit-log/?since=yesterday&actor=bob")
    assert r.status_code == 400
    assert sorted(r.json()["error"]["details"]) == ["actor", "since"]


def test_audit_log_never_shows_other_workspace(
    admin_client, api_client_for, other_admin, other_workspace
):
    _create(api_client_for(other_admin, other_workspace), email="z@beta.test")
    assert AuditLogEntry.objects.filter(workspace=other_workspace).count() == 1
    assert admin_client.get("/api/v1/audit-log/").json()["results"] == []
