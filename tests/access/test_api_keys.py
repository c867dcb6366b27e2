"""API keys: shown once, stored hashed, bearer auth, limits, shrinking, revocation."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from labelhub.access.models import ApiKey, hash_token
from labelhub.access.services.api_keys import api_key_create, api_key_revoke
from labelhub.access.services.members import (
    membership_add,
    membership_change_role,
    membership_remove,
)
from labelhub.core.errors import PermissionDenied, ValidationFailed
from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Membership, Role
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_create_shows_secret_once_and_stores_only_a_hash(admin_client, admin):
    r = admin_client.post("/api/v1/api-keys/", {"name": "CI"}, format="json")
    assert r.status_code == 201
    body = r.json()
    secret = body["secret"]
    assert (
        secret.startswith(body["prefix"] + "_")
        and body["prefix"].startswith("lh_")
        and len(body["prefix"]) == 13
    )
    key = ApiKey.objects.get()
    assert key.secret_hash == hash_token(secret.split("_", 2)[2])
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM access_apikey")
        row = " ".join(str(v) for v in cursor.fetchone())
    assert secret.split("_", 2)[2] not in row
    listed = admin_client.get("/api/v1/api-keys/").json()["results"]
    assert [(k["name"], k["status"], k["owner"]) for k in listed] == [
        ("CI", "active", "admin@alpha.test")
    ]
    assert "secret" not in listed[0]
    assert AuditLogEntry.objects.get(verb="api_key.created").after["prefix"] == body["prefix"]


def test_bearer_key_acts_in_its_workspace(admin, workspace, other_workspace, admin_client):
    make_member(other_workspace, Role.ADMIN, user=admin)
    key, secret = api_key_create(workspace=workspace, actor=admin, name="k")
    client = bearer(secret)
    assert client.get("/api/v1/workspace/").json()["name"] == "Alpha"
    members = client.get("/api/v1/members/").json()["results"]
    assert [m["user"]["email"] for m in members] == ["admin@alpha.test"]
    foreign = Membership.objects.get(workspace=other_workspace, user=admin)
    assert client.get(f"/api/v1/members/{foreign.pk}/").status_code == 404
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_ip == "127.0.0.1"
    # Keys need no CSRF token.
    r = client.post("/api/v1/invitations/", {"email": "k@x.test", "role": "labeler"}, format="json")
    assert r.status_code == 201 and r.json()["invited_by"] == "admin@alpha.test"
    assert (
        AuditLogEntry.objects.get(verb="invitation.created").actor_label
        == f"admin@alpha.test (API key {key.prefix})"
    )


def test_restricted_key_and_asking_for_more_than_owner(workspace, admin, labeler):
    _, secret = api_key_create(
        workspace=workspace, actor=admin, name="read", permissions=["view_workspace"]
    )
    m = Membership.objects.get(user=labeler)
    r = bearer(secret).patch(f"/api/v1/members/{m.pk}/", {"role": "reviewer"}, format="json")
    assert r.status_code == 403
    assert Membership.objects.get(pk=m.pk).role == Role.LABELER
    with pytest.raises(ValidationFailed) as exc:
        api_key_create(
            workspace=workspace, actor=labeler, name="x", permissions=["manage_members", "label"]
        )
    assert exc.value.details == {
        "permissions": ["A key cannot hold permissions you do not have: manage_members."]
    }
    with pytest.raises(ValidationFailed):
        api_key_create(workspace=workspace, actor=labeler, name="x", permissions=["nope"])
    assert ApiKey.objects.count() == 1


def test_key_shrinks_with_its_owner_and_dies_when_owner_leaves(workspace, admin, labeler):
    second_admin = make_member(workspace, Role.ADMIN, email="second@alpha.test")
    _, secret = api_key_create(workspace=workspace, actor=second_admin, name="k")
    client = bearer(secret)
    target = Membership.objects.get(user=labeler)
    assert (
        client.patch(
            f"/api/v1/members/{target.pk}/", {"role": "reviewer"}, format="json"
        ).status_code
        == 200
    )
    membership_change_role(
        workspace=workspace,
        actor=admin,
        membership=Membership.objects.get(user=second_admin),
        role=Role.LABELER,
    )
    assert (
        client.patch(
            f"/api/v1/members/{target.pk}/", {"role": "labeler"}, format="json"
        ).status_code
        == 403
    )
    membership_remove(
        workspace=workspace, actor=admin, membership=Membership.objects.get(user=second_admin)
    )
    r = client.get("/api/v1/members/")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_failed"
    # Leaving revoked the key for good (recorded), so it is refused as revoked.
    revoked = AuditLogEntry.objects.filter(verb="api_key.revoked").last()
    assert (revoked.actor_id, revoked.after) == (
        admin.pk,
        {"status": "revoked", "reason": "owner left the workspace"},
    )
    assert AuditLogEntry.objects.filter(verb="api_key.refused").last().after == {
        "reason": "revoked"
    }
    # Rejoining does not bring the key back to life.
    membership_add(workspace=workspace, user=second_admin, role=Role.ADMIN, actor=admin)
    assert client.get("/api/v1/members/").status_code == 401
    assert ApiKey.objects.get(owner=second_admin).status == "revoked"


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_revoked_or_expired_key_is_401_and_audited(workspace, admin, how):
    key, secret = api_key_create(workspace=workspace, actor=admin, name="k")
    if how == "revoked":
        api_key_revoke(workspace=workspace, actor=admin, key=key)
    else:
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    r = bearer(secret).get("/api/v1/members/")
    assert r.status_code == 401
    assert r["WWW-Authenticate"] == 'Bearer realm="api"'
    row = AuditLogEntry.objects.filter(verb="api_key.refused").get()
    assert (row.after, row.ip_address, row.actor) == ({"reason": how}, "127.0.0.1", admin)


@pytest.mark.parametrize(
    "raw", ["lh_nope", "lh_0123456789_wrong", "garbage", "lh_" + "x" * 500, ""]
)
def test_malformed_or_unknown_bearer_is_401(raw, workspace, admin):
    api_key_create(workspace=workspace, actor=admin, name="k")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/members/").status_code == 401


def test_expiry_must_be_in_the_future(admin_client):
    past = (timezone.now() - timedelta(days=1)).isoformat()
    r = admin_client.post("/api/v1/api-keys/", {"name": "k", "expires_at": past}, format="json")
    assert r.status_code == 400 and r.json()["error"]["details"] == {
        "expires_at": ["The expiry must be in the future."]
    }
    future = (timezone.now() + timedelta(days=30)).isoformat()
    assert (
        admin_client.post(
            "/api/v1/api-keys/", {"name": "k", "expires_at": future}, format="json"
        ).status_code
        == 201
    )


def test_admins_list_and_revoke_all_keys_members_only_their_own(
    workspace, admin, labeler, admin_client, labeler_client
):
    mine, _ = api_key_create(workspace=workspace, actor=admin, name="admin key")
    theirs, _ = api_key_create(workspace=workspace, actor=labeler, name="labeler key")
    assert [k["name"] for k in labeler_client.get("/api/v1/api-keys/").json()["results"]] == [
        "labeler key"
    ]
    assert labeler_client.get("/api/v1/api-keys/?all=1").status_code == 403
    assert {k["name"] for k in admin_client.get("/api/v1/api-keys/?all=1").json()["results"]} == {
        "admin key",
        "labeler key",
    }
    assert labeler_client.delete(f"/api/v1/api-keys/{mine.pk}/").status_code == 403
    assert ApiKey.objects.get(pk=mine.pk).status == "active"
    assert admin_client.delete(f"/api/v1/api-keys/{theirs.pk}/").json()["status"] == "revoked"
    assert admin_client.delete(f"/api/v1/api-keys/{theirs.pk}/").status_code == 409


def test_labeler_cannot_revoke_someone_elses_key_through_the_service(workspace, admin, labeler):
    key, _ = api_key_create(workspace=workspace, actor=admin, name="k")
    with pytest.raises(PermissionDenied):
        api_key_revoke(workspace=workspace, actor=labeler, key=key)


def test_a_key_cannot_create_keys(workspace, admin):
    _, secret = api_key_create(workspace=workspace, actor=admin, name="k")
    r = bearer(secret).post("/api/v1/api-keys/", {"name": "child"}, format="json")
    assert r.status_code == 403
    assert r.json()["error"]["message"] == "API keys cannot create API keys; sign in to create one."
    assert ApiKey.objects.count() == 1


def test_create_api_key_command(workspace, admin, capsys):
    call_command(
        "create_api_key", "--email", "ADMIN@alpha.test", "--workspace", "alpha", "--name", "deploy"
    )
    out, err = capsys.readouterr()
    key = ApiKey.objects.get()
    assert out.strip().startswith(key.prefix + "_") and key.name == "deploy"
    assert f"Created key {key.prefix} (deploy) for admin@alpha.test in Alpha." in err
    assert bearer(out.strip()).get("/api/v1/workspace/").json()["name"] == "Alpha"
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="is not a member of a workspace 'Beta'"):
        call_command("create_api_key", "--email", "admin@alpha.test", "--workspace", "Beta")


class TestRateLimits:
    """Per key (a key's own rate replaces the default), apart from the owner's session."""

    @pytest.fixture(autouse=True)
    def _fresh_counters(self, monkeypatch):
        from django.core.cache import cache

        from labelhub.core.throttling import ApiRateThrottle

        cache.clear()
        monkeypatch.setattr(ApiRateThrottle, "THROTTLE_RATES", {"api": "3/minute"})
        yield
        cache.clear()

    def test_default_rate_suits_automation(self, settings):
        from rest_framework.settings import api_settings

        assert api_settings.DEFAULT_THROTTLE_RATES == {"api": "6000/minute"}
        assert settings.API_RATE_LIMIT_MAX_PER_MINUTE == 20_000

    def test_each_key_counts_apart_and_may_carry_its_own_rate(self, workspace, admin, admin_client):
        _, plain = api_key_create(workspace=workspace, actor=admin, name="plain")
        _, fast = api_key_create(
            workspace=workspace, actor=admin, name="fast", rate_limit_per_minute=5
        )
        plain_codes = [bearer(plain).get("/api/v1/members/").status_code for _ in range(4)]
        fast_codes = [bearer(fast).get("/api/v1/members/").status_code for _ in range(6)]
        assert plain_codes == [200, 200, 200, 429]
        assert fast_codes == [200, 200, 200, 200, 200, 429]
        refused = bearer(plain).get("/api/v1/members/")
        assert refused.json()["error"]["code"] == "throttled"
        assert 1 <= int(refused["Retry-After"]) <= 60
        # The owner's own session has its own counter.
        assert admin_client.get("/api/v1/members/").status_code == 200

    @pytest.mark.parametrize("value", [0, -1, 20_001, "many", 1.5, True])
    def test_rate_must_be_a_sane_whole_number(self, admin_client, value):
        r = admin_client.post(
            "/api/v1/api-keys/", {"name": "k", "rate_limit_per_minute": value}, format="json"
        )
        assert r.status_code == 400
        assert list(r.json()["error"]["details"]) == ["rate_limit_per_minute"]
        assert ApiKey.objects.count() == 0

    def test_rate_is_stored_listed_and_audited(self, admin_client):
        r = admin_client.post(
            "/api/v1/api-keys/", {"name": "k", "rate_limit_per_minute": 1500}, format="json"
        )
        assert (r.status_code, r.json()["rate_limit_per_minute"]) == (201, 1500)
        listed = admin_client.get("/api/v1/api-keys/").json()["results"]
        assert [k["rate_limit_per_minute"] for k in listed] == [1500]
        entry = AuditLogEntry.objects.get(verb="api_key.created")
        assert entry.after["rate_limit_per_minute"] == 1500
