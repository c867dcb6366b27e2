"""Two-factor authentication: enrolment, sign-in with a code, recovery codes, the admin rule."""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from labelhub.access import mfa as mfa_policy
from labelhub.access.models import ApiKey
from labelhub.access.services.members import workspace_settings_update
from labelhub.accounts import mfa
from labelhub.core.errors import PermissionDenied, ValidationFailed
from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Membership, Role, Workspace
from tests.factories import PASSWORD, make_member, make_workspace

pytestmark = pytest.mark.django_db

ENROL = (
    "This workspace requires two-factor authentication for admins. "
    "Enrol an authenticator to continue."
)
VERIFY = (
    "This workspace requires two-factor authentication for admins. "
    "Enter the code from your authenticator to continue."
)
FIELD_ERROR = '<p class="field-error" role="alert">{}</p>'


# --- helpers ---------------------------------------------------------------------------------


def code_for(device: TOTPDevice) -> str:
    """The authenticator's current code, or the next one when the current was used already."""
    device.refresh_from_db()
    t = max(
        TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t(),
        device.last_t + 1,
    )
    return f"{hotp(device.bin_key, t, device.digits):06d}"


def enrol(user, workspace=None) -> tuple[TOTPDevice, list[str]]:
    """Enrol through the services, as the profile page does."""
    mfa.mfa_start(user=user)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    return mfa.mfa_confirm(user=user, code=code_for(device), workspace=workspace)


def unthrottle(device) -> None:
    """Let django-otp's back-off (1 s after a wrong code) pass without sleeping."""
    device.refresh_from_db()
    device.throttling_failure_timestamp = timezone.now() - timedelta(hours=1)
    device.save()


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/accounts/sign-in/", {"username": email, "password": password, **extra})


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def signed_in_as(client) -> str | None:
    return client.session.get("_auth_user_id")


@pytest.fixture
def web(admin):
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def strict(workspace):
    """The workspace requires two-factor authentication for admins."""
    Workspace.objects.filter(pk=workspace.pk).update(require_mfa_for_admins=True)
    workspace.refresh_from_db()
    return workspace


# --- enrolment on the profile ----------------------------------------------------------------


def test_enrol_shows_qr_and_secret_then_confirms_with_a_code(web, admin, workspace):
    page = web.get("/accounts/profile/").content.decode()
    assert "Two-factor authentication" in page and "Set up an authenticator" in page

    r = web.post("/accounts/profile/", {"action": "mfa-start"})
    assert (r.status_code, r.url) == (302, "/accounts/profile/#mfa")
    device = TOTPDevice.objects.get(user=admin)
    assert device.confirmed is False

    page = web.get("/accounts/profile/").content.decode()
    assert re.search(r'<svg width="(\d+)" height="\1" class="qr"><title>QR code', page)
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)</code>', page).group(1)
    assert b32decode(secret.replace(" ", "")) == device.bin_key
    uri = mfa.otpauth_uri(device)
    assert uri.startswith("otpauth://totp/LabelHub:admin%40alpha.test?secret=")
    assert "&issuer=LabelHub" in uri and "&digits=6&period=30" in uri

    r = web.post("/accounts/profile/", {"action": "mfa-confirm", "code": "000000"})
    assert r.status_code == 200
    assert FIELD_ERROR.format("The code is not valid.") in r.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False and device.throttling_failure_count == 1

    # django-otp's back-off: straight after a wrong code even the right one waits.
    r = web.post("/accounts/profile/", {"action": "mfa-confirm", "code": code_for(device)})
    assert FIELD_ERROR.format("Too many wrong codes. Try again in 1 second.") in r.content.decode()

    unthrottle(device)
    r = web.post("/accounts/profile/", {"action": "mfa-confirm", "code": code_for(device)})
    html = r.content.decode()
    assert r.status_code == 200 and "Two-factor authentication is on." in html
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", html)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "shown only this once" in html
    device.refresh_from_db()
    assert device.confirmed is True
    assert sorted(
        StaticToken.objects.filter(device__user=admin).values_list("token", flat=True)
    ) == sorted(codes)
    # This session just proved the factor.
    assert web.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    entry = AuditLogEntry.objects.get(verb="mfa.enrolled")
    assert (entry.workspace, entry.actor, entry.target_label) == (workspace, admin, admin.email)

    # The codes are shown once only.
    page = web.get("/accounts/profile/").content.decode()
    assert not any(code in page for code in codes)
    assert "10 unused recovery codes." in page and "Turn off two-factor authentication" in page


def test_cancel_setup_and_start_twice(web, admin):
    web.post("/accounts/profile/", {"action": "mfa-start"})
    web.post("/accounts/profile/", {"action": "mfa-start"})
    assert TOTPDevice.objects.filter(user=admin).count() == 1  # the earlier attempt is dropped
    r = web.post("/accounts/profile/", {"action": "mfa-cancel"})
    assert r.url == "/accounts/profile/#mfa" and not TOTPDevice.objects.exists()
    # Enrolled already: starting again is refused.
    enrol(admin)
    r = web.post("/accounts/profile/", {"action": "mfa-start"}, follow=True)
    assert "Two-factor authentication is already on." in r.content.decode()
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).count() == 1


def test_regenerate_recovery_codes_needs_code_or_password(web, admin):
    _, old = enrol(admin)
    r = web.post(
        "/accounts/profile/", {"action": "mfa-regenerate", "regenerate-secret": "wrong-password"}
    )
    assert FIELD_ERROR.format("The code or password is not valid.") in r.content.decode()
    r = web.post("/accounts/profile/", {"action": "mfa-regenerate", "regenerate-secret": PASSWORD})
    html = r.content.decode()
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", html)
    assert len(new) == 10 and not set(new) & set(old)
    assert "New recovery codes replace the old ones." in html
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)


def test_disable_needs_a_current_code_or_the_password(web, admin, workspace):
    device, _ = enrol(admin, workspace)
    r = web.post("/accounts/profile/", {"action": "mfa-disable", "disable-secret": ""})
    assert FIELD_ERROR.format("This field is required.") in r.content.decode()
    r = web.post("/accounts/profile/", {"action": "mfa-disable", "disable-secret": "123456"})
    assert FIELD_ERROR.format("The code or password is not valid.") in r.content.decode()
    assert TOTPDevice.objects.filter(user=admin).exists()
    unthrottle(device)
    r = web.post(
        "/accounts/profile/", {"action": "mfa-disable", "disable-secret": code_for(device)}
    )
    assert r.url == "/accounts/profile/#mfa"
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert "Two-factor authentication is off." in messages_of(r)
    entry = AuditLogEntry.objects.get(verb="mfa.disabled")
    assert (entry.before, entry.after) == ({"mfa": True}, {"mfa": False})
    # With the password this time.
    enrol(admin)
    r = web.post("/accounts/profile/", {"action": "mfa-disable", "disable-secret": PASSWORD})
    assert r.status_code == 302 and not TOTPDevice.objects.exists()
    # Off again: the password alone signs in.
    r = sign_in(Client(), admin.email)
    assert (r.status_code, r.url) == (302, "/")


# --- sign-in ---------------------------------------------------------------------------------


def test_sign_in_asks_for_the_code(admin):
    device, _ = enrol(admin)
    client = Client()
    client.get("/accounts/sign-in/")
    client.cookies["sessionid"] = "attacker-fixed-session"
    r = sign_in(client, admin.email)
    assert (r.status_code, r.url) == (302, "/accounts/sign-in/code/")
    assert signed_in_as(client) is None
    assert client.get("/").url == "/accounts/sign-in/"
    page = client.get("/accounts/sign-in/code/").content.decode()
    assert "Enter the code from your authenticator" in page and admin.email in page

    r = client.post("/accounts/sign-in/code/", {"code": "000000"})
    assert r.status_code == 200
    assert FIELD_ERROR.format("The code is not valid.") in r.content.decode()
    assert signed_in_as(client) is None
    r = client.post("/accounts/sign-in/code/", {"code": code_for(device)})
    assert FIELD_ERROR.format("Too many wrong codes. Try again in 1 second.") in r.content.decode()

    unthrottle(device)
    r = client.post("/accounts/sign-in/code/", {"code": code_for(device)})
    assert (r.status_code, r.url) == (302, "/")
    assert signed_in_as(client) == str(admin.pk)
    assert client.cookies["sessionid"].value != "attacker-fixed-session"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert mfa.PENDING_SESSION_KEY not in client.session
    r = client.get("/")
    assert r.status_code == 200 and r.wsgi_request.user.is_verified() is True


def test_sign_in_code_keeps_next_and_code_is_single_use(admin):
    device, _ = enrol(admin)
    client = Client()
    sign_in(client, admin.email, next="/audit-log/")
    code = code_for(device)
    assert client.post("/accounts/sign-in/code/", {"code": code}).url == "/audit-log/"
    # The same code again (another sign-in within the same 30 s) is refused: replay.
    other = Client()
    sign_in(other, admin.email)
    r = other.post("/accounts/sign-in/code/", {"code": code})
    assert FIELD_ERROR.format("The code is not valid.") in r.content.decode()


def test_recovery_code_signs_in_once(admin):
    _, codes = enrol(admin)
    client = Client()
    sign_in(client, admin.email)
    typed = codes[0].upper()[:4] + "-" + codes[0].upper()[4:]  # as people type them
    r = client.post("/accounts/sign-in/code/", {"code": typed})
    assert (r.status_code, r.url) == (302, "/")
    assert messages_of(r) == ["You signed in with a recovery code; 9 left. Each works only once."]
    assert client.session[DEVICE_ID_SESSION_KEY].startswith("otp_static.staticdevice/")
    assert StaticToken.objects.count() == 9

    again = Client()
    sign_in(again, admin.email)
    r = again.post("/accounts/sign-in/code/", {"code": codes[0]})
    assert FIELD_ERROR.format("The code is not valid.") in r.content.decode()
    assert signed_in_as(again) is None


def test_pending_sign_in_expires(admin, monkeypatch):
    enrol(admin)
    client = Client()
    sign_in(client, admin.email)
    monkeypatch.setattr(mfa, "PENDING_MAX_AGE", -1)
    r = client.get("/accounts/sign-in/code/", follow=True)
    assert r.redirect_chain == [("/accounts/sign-in/", 302)]
    assert "The sign-in timed out. Enter your password again." in r.content.decode()
    assert mfa.PENDING_SESSION_KEY not in client.session


def test_pending_sign_in_ends_when_the_password_changes(admin):
    device, _ = enrol(admin)
    client = Client()
    sign_in(client, admin.email)
    admin.set_password("a-brand-new-password-1")
    admin.save()
    r = client.post("/accounts/sign-in/code/", {"code": code_for(device)})
    assert r.url == "/accounts/sign-in/" and signed_in_as(client) is None


def test_code_page_without_a_password_step_goes_to_sign_in(admin):
    assert Client().get("/accounts/sign-in/code/").url == "/accounts/sign-in/"
    r = Client().post("/accounts/sign-in/code/", {"code": "123456"})
    assert r.url == "/accounts/sign-in/"


def test_axes_lockout_still_guards_the_password_step(admin):
    enrol(admin)
    client = Client()
    r = sign_in(client, admin.email, "wrong")
    assert "E-mail or password is wrong." in r.content.decode()
    for _ in range(4):
        sign_in(client, admin.email, "wrong")
    r = sign_in(client, admin.email)
    assert r.status_code == 429 and mfa.PENDING_SESSION_KEY not in client.session


def test_user_without_authenticator_signs_in_with_the_password_only(admin, labeler):
    enrol(admin)
    client = Client()
    sign_in(client, admin.email)  # an unfinished two-step sign-in in the same browser...
    r = sign_in(client, labeler.email)
    assert (r.status_code, r.url) == (302, "/") and signed_in_as(client) == str(labeler.pk)
    assert mfa.PENDING_SESSION_KEY not in client.session  # ...ends there


# --- the workspace rule ----------------------------------------------------------------------


def test_unenrolled_admin_is_sent_to_enrol_before_admin_pages(web, admin, labeler, strict):
    for url in ("/audit-log/", "/invitations/", "/workspace/settings/"):
        r = web.get(url)
        assert (r.status_code, r.url) == (
            302,
            f"/accounts/profile/?next={quote(url, safe='')}#mfa",
        ), url
    assert set(messages_of(r)) == {ENROL}
    # Viewing members is for every member; the management actions are guarded.
    assert web.get("/members/").status_code == 200
    assert web.get("/").status_code == 200
    m = Membership.objects.get(user=labeler)
    r = web.post("/members/", {"action": "role", "membership": str(m.pk), "role": "reviewer"})
    assert (r.status_code, r.url) == (302, "/accounts/profile/?next=%2Fmembers%2F#mfa")
    r = web.post("/members/", {"action": "invite", "email": "x@alpha.test", "role": "labeler"})
    assert r.url == "/accounts/profile/?next=%2Fmembers%2F#mfa"
    m.refresh_from_db()
    assert m.role == Role.LABELER and not AuditLogEntry.objects.filter(verb="member.role_changed")
    page = web.get("/accounts/profile/?next=/audit-log/").content.decode()
    assert ENROL in page and 'name="next" value="/audit-log/"' in page

    # Enrolling on the profile verifies this session: the admin pages open.
    web.post("/accounts/profile/?next=/audit-log/", {"action": "mfa-start", "next": "/audit-log/"})
    device = TOTPDevice.objects.get(user=admin)
    r = web.post(
        "/accounts/profile/",
        {"action": "mfa-confirm", "code": code_for(device), "next": "/audit-log/"},
    )
    assert 'href="/audit-log/">I saved them — continue</a>' in r.content.decode()
    assert web.get("/audit-log/").status_code == 200
    r = web.post("/members/", {"action": "role", "membership": str(m.pk), "role": "reviewer"})
    assert r.url == "/members/"
    m.refresh_from_db()
    assert m.role == Role.REVIEWER


def test_every_admin_console_page_is_guarded(web, strict):
    # Roles and groups pages come from the access app: the ConsoleView base guards them too.
    for url in ("/roles/", "/groups/", "/groups/history.csv"):
        r = web.get(url)
        assert (r.status_code, r.url) == (
            302,
            f"/accounts/profile/?next={quote(url, safe='')}#mfa",
        ), url


def test_enrolled_but_unverified_session_is_asked_for_the_code(admin, strict):
    device, _ = enrol(admin)
    client = Client()
    client.force_login(admin)  # a session that never gave the second factor
    r = client.get("/audit-log/?verb=x")
    assert (r.status_code, r.url) == (
        302,
        "/accounts/sign-in/code/?next=%2Faudit-log%2F%3Fverb%3Dx",
    )
    assert messages_of(r) == [VERIFY]
    page = client.get(r.url).content.decode()
    assert "Enter the code from your authenticator" in page
    assert '<input type="hidden" name="next" value="/audit-log/?verb=x">' in page
    r = client.post(
        "/accounts/sign-in/code/", {"code": code_for(device), "next": "/audit-log/?verb=x"}
    )
    assert r.url == "/audit-log/?verb=x"
    assert client.get("/audit-log/").status_code == 200
    # Verified sessions are sent on from the code page.
    assert client.get("/accounts/sign-in/code/?next=/members/").url == "/members/"


def test_api_refuses_admin_calls_of_unverified_sessions(admin_client, admin, labeler, strict):
    m = Membership.objects.get(user=labeler)
    r = admin_client.patch(f"/api/v1/members/{m.pk}/", {"role": "reviewer"}, format="json")
    assert r.status_code == 403
    assert r.json()["error"] == {"code": "mfa_required", "message": ENROL, "details": {}}
    assert admin_client.get("/api/v1/audit-log/").json()["error"]["code"] == "mfa_required"
    assert admin_client.get("/api/v1/members/").status_code == 200  # not an admin call
    m.refresh_from_db()
    assert m.role == Role.LABELER

    enrol(admin)  # enrolled elsewhere; this session still has not given the code
    r = admin_client.patch(f"/api/v1/members/{m.pk}/", {"role": "reviewer"}, format="json")
    assert (r.status_code, r.json()["error"]["message"]) == (403, VERIFY)


def test_api_allows_admin_calls_of_verified_sessions(admin, labeler, strict):
    device, _ = enrol(admin)
    from rest_framework.test import APIClient

    client = APIClient()
    sign_in(client, admin.email)
    client.post("/accounts/sign-in/code/", {"code": code_for(device)})
    m = Membership.objects.get(user=labeler)
    r = client.patch(f"/api/v1/members/{m.pk}/", {"role": "reviewer"}, format="json")
    assert r.status_code == 200 and r.json()["role"] == "reviewer"


def test_api_keys_are_exempt(admin, workspace, strict):
    key = ApiKey(workspace=workspace, owner=admin, name="ci")
    mfa_policy.api_check(SimpleNamespace(auth=key, user=admin), workspace)  # no MfaRequired
    with pytest.raises(mfa_policy.MfaRequired):
        mfa_policy.api_check(SimpleNamespace(auth=None, user=admin), workspace)


def test_api_key_request_is_exempt_end_to_end(admin, labeler, workspace, strict):
    from labelhub.access.services.api_keys import api_key_create

    _, secret = api_key_create(workspace=workspace, actor=admin, name="ci")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    m = Membership.objects.get(user=labeler)
    r = client.patch(f"/api/v1/members/{m.pk}/", {"role": "reviewer"}, format="json")
    assert r.status_code == 200


def test_labeler_and_team_manager_are_not_affected(labeler, labeler_client, workspace, strict):
    manager = make_member(workspace, Role.TEAM_MANAGER, email="tm@alpha.test")
    for user in (labeler, manager):
        client = Client()
        client.force_login(user)
        assert client.get("/members/").status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/audit-log/").status_code == 403  # no permission, no 2FA detour
    assert labeler_client.get("/api/v1/members/").status_code == 200
    m = Membership.objects.get(user=labeler)
    r = labeler_client.patch(f"/api/v1/members/{m.pk}/", {"role": "admin"}, format="json")
    assert r.json()["error"]["code"] == "permission_denied"


def test_setting_off_means_no_rule(web, admin_client, labeler, workspace):
    assert workspace.require_mfa_for_admins is False
    assert web.get("/audit-log/").status_code == 200
    assert web.get("/workspace/settings/").status_code == 200
    m = Membership.objects.get(user=labeler)
    r = admin_client.patch(f"/api/v1/members/{m.pk}/", {"role": "reviewer"}, format="json")
    assert r.status_code == 200


def test_rule_is_per_workspace(web, admin, strict):
    relaxed = make_workspace("Zeta", tenant=strict.tenant)
    make_member(relaxed, Role.ADMIN, user=admin)
    assert web.get("/audit-log/").status_code == 302
    web.post("/workspace/switch/", {"workspace": str(relaxed.pk)})
    assert web.get("/audit-log/").status_code == 200


# --- workspace settings ----------------------------------------------------------------------


def test_settings_page_changes_name_and_rule_with_audit(web, admin, workspace):
    assert 'href="/workspace/settings/"' in web.get("/").content.decode()
    page = web.get("/workspace/settings/").content.decode()
    assert 'value="Alpha"' in page and "Require two-factor authentication for admins" in page
    r = web.post(
        "/workspace/settings/", {"name": "  Alpha   Prime ", "require_mfa_for_admins": "on"}
    )
    assert r.url == "/workspace/settings/"
    assert messages_of(r) == ["Workspace settings saved."]
    workspace.refresh_from_db()
    assert (workspace.name, workspace.require_mfa_for_admins) == ("Alpha Prime", True)
    entry = AuditLogEntry.objects.get(verb="workspace.settings_changed")
    assert (entry.actor, entry.target_label) == (admin, "Alpha Prime")
    assert entry.before == {"name": "Alpha", "require_mfa_for_admins": False}
    assert entry.after == {"name": "Alpha Prime", "require_mfa_for_admins": True}
    # The admin who just turned the rule on is asked to enrol before the page opens again.
    r = web.get("/workspace/settings/")
    assert r.url == "/accounts/profile/?next=%2Fworkspace%2Fsettings%2F#mfa"


def test_settings_page_shows_errors_beside_fields(web, workspace):
    make_workspace("Zeta", tenant=workspace.tenant)
    r = web.post("/workspace/settings/", {"name": "zeta"})
    assert r.status_code == 200
    assert (
        FIELD_ERROR.format("A workspace with this name already exists in the tenant.")
        in r.content.decode()
    )
    r = web.post("/workspace/settings/", {"name": ""})
    assert FIELD_ERROR.format("This field is required.") in r.content.decode()
    workspace.refresh_from_db()
    assert workspace.name == "Alpha"
    assert not AuditLogEntry.objects.filter(verb="workspace.settings_changed").exists()


def test_settings_page_is_for_settings_managers_only(labeler):
    client = Client()
    client.force_login(labeler)
    assert 'href="/workspace/settings/"' not in client.get("/").content.decode()
    assert client.get("/workspace/settings/").status_code == 403
    assert client.post("/workspace/settings/", {"name": "Mine"}).status_code == 403


def test_settings_service_rules(admin, labeler, workspace):
    with pytest.raises(PermissionDenied):
        workspace_settings_update(workspace=workspace, actor=labeler, require_mfa_for_admins=True)
    with pytest.raises(ValidationFailed) as exc:
        workspace_settings_update(workspace=workspace, actor=admin, require_mfa_for_admins="yes")
    assert exc.value.details == {"require_mfa_for_admins": ["Choose true or false."]}
    with pytest.raises(ValidationFailed):
        workspace_settings_update(workspace=workspace, actor=admin, name=" ")
    # Nothing changes: nothing is written.
    ws = workspace_settings_update(workspace=workspace, actor=admin, name="Alpha")
    assert ws.name == "Alpha" and not AuditLogEntry.objects.exists()
    ws = workspace_settings_update(workspace=workspace, actor=admin, require_mfa_for_admins=True)
    entry = AuditLogEntry.objects.get()
    assert (entry.verb, entry.before, entry.after) == (
        "workspace.settings_changed",
        {"require_mfa_for_admins": False},
        {"require_mfa_for_admins": True},
    )
