"""Console: sign-in/out, throttling, password reset, profile, invitation page, first-run setup."""

import re

import pytest
from django.core import mail
from django.test import Client

from labelhub.access.models import Invitation
from labelhub.access.services.invitations import invitation_create
from labelhub.accounts.models import User
from labelhub.workspaces.models import Membership, Role, Tenant, TenantAdmin
from tests.factories import PASSWORD, make_member, make_user

pytestmark = pytest.mark.django_db


def _sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/sign-in/", {"username": email, "password": password})


def test_sign_in_rotates_session_and_sign_out_kills_it(admin):
    client = Client()
    client.get("/accounts/sign-in/")
    client.cookies["sessionid"] = "attacker-fixed-session"
    r = _sign_in(client, "ADMIN@alpha.test")
    assert (r.status_code, r.url) == (302, "/")
    key = client.cookies["sessionid"].value
    assert key != "attacker-fixed-session"
    assert client.get("/").status_code == 200
    # GET sign-out is refused; POST flushes the session server-side.
    assert client.get("/accounts/sign-out/").status_code == 405
    assert client.post("/accounts/sign-out/").status_code == 302
    from django.contrib.sessions.backends.db import SessionStore

    assert SessionStore().exists(key) is False
    stale = Client()
    stale.cookies["sessionid"] = key
    assert stale.get("/members/").status_code == 302


def test_wrong_password_shows_error_beside_form(admin):
    r = _sign_in(Client(), "admin@alpha.test", "wrong")
    assert r.status_code == 200
    assert "E-mail or password is wrong." in r.content.decode()


def test_repeated_failures_lock_out(admin, settings):
    client = Client()
    for _ in range(5):
        _sign_in(client, "admin@alpha.test", "wrong")
    r = _sign_in(client, "admin@alpha.test", PASSWORD)
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.content.decode()


def test_lockout_holds_for_every_letter_case_of_the_address(admin):
    # Given the account is locked after failures with the lower-case address,
    client = Client()
    for _ in range(5):
        _sign_in(client, "admin@alpha.test", "wrong")
    # the right password under another spelling of the same address is refused too.
    for variant in ("ADMIN@alpha.test", "Admin@Alpha.Test", "  admin@ALPHA.test "):
        r = _sign_in(client, variant, PASSWORD)
        assert r.status_code == 429, variant
        assert "_auth_user_id" not in client.session


def test_failures_spread_over_case_variants_lock_the_account(admin):
    client = Client()
    variants = ["admin@alpha.test", "ADMIN@alpha.test", "Admin@alpha.test", "aDmin@alpha.test"]
    for variant in variants:  # four failures: not locked yet
        assert _sign_in(client, variant, "wrong").status_code == 200
    assert _sign_in(client, "admin@ALPHA.TEST", "wrong").status_code == 429  # the fifth locks
    from axes.models import AccessAttempt

    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [
        ("admin@alpha.test", 5)
    ]
    assert _sign_in(client, "admin@alpha.test", PASSWORD).status_code == 429


def test_sign_in_post_without_csrf_is_403(admin):
    client = Client(enforce_csrf_checks=True)
    r = client.post("/accounts/sign-in/", {"username": "admin@alpha.test", "password": PASSWORD})
    assert r.status_code == 403


def test_password_reset_by_email(admin):
    client = Client()
    r = client.post("/accounts/password-reset/", {"email": "admin@alpha.test"})
    assert r.url == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Reset your LabelHub password"
    link = re.search(
        r"http://testserver(/accounts/password-reset/\S+/)", mail.outbox[0].body
    ).group(1)
    r = client.get(link, follow=True)
    form_url = r.redirect_chain[-1][0]
    r = client.post(
        form_url, {"new_password1": "brand-new-pass-42", "new_password2": "brand-new-pass-42"}
    )
    assert r.url == "/accounts/password-reset/complete/"
    admin.refresh_from_db()
    assert admin.check_password("brand-new-pass-42")
    # The link is single-use.
    assert "invalid or has already been used" in client.get(link, follow=True).content.decode()


def test_password_reset_for_unknown_email_reveals_nothing():
    r = Client().post("/accounts/password-reset/", {"email": "ghost@x.test"})
    assert r.url == "/accounts/password-reset/sent/" and mail.outbox == []


def test_profile_changes_name_and_password(admin):
    client = Client()
    client.force_login(admin)
    client.post("/accounts/profile/", {"action": "profile", "name": "Ada"})
    admin.refresh_from_db()
    assert admin.name == "Ada"
    r = client.post(
        "/accounts/profile/",
        {
            "action": "password",
            "old_password": PASSWORD,
            "new_password1": "1234",
            "new_password2": "1234",
        },
    )
    html = r.content.decode()
    assert "This password is too short." in html and 'class="field-error"' in html
    r = client.post(
        "/accounts/profile/",
        {
            "action": "password",
            "old_password": PASSWORD,
            "new_password1": "another-good-pw-7",
            "new_password2": "another-good-pw-7",
        },
    )
    assert r.status_code == 302
    admin.refresh_from_db()
    assert admin.check_password("another-good-pw-7")
    assert client.get("/accounts/profile/").status_code == 200  # still signed in


def test_first_run_setup_page_creates_tenant_and_signs_in(db):
    client = Client()
    assert client.get("/").url == "/setup/"
    assert client.get("/accounts/sign-in/").url == "/setup/"
    bad = client.post(
        "/setup/",
        {"tenant": "", "workspace": "W", "email": "x", "password1": "a", "password2": "b"},
    )
    html = bad.content.decode()
    assert "This field is required." in html and "Enter a valid email address." in html
    assert Tenant.objects.count() == 0
    r = client.post(
        "/setup/",
        {
            "tenant": "Acme",
            "workspace": "Images",
            "email": "boss@acme.test",
            "name": "Boss",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert r.url == "/"
    assert TenantAdmin.objects.get().user.email == "boss@acme.test"
    assert "Images" in client.get("/").content.decode()
    assert Client().get("/setup/").status_code == 404


def test_accept_page_creates_account(workspace, admin):
    _, token = invitation_create(
        workspace=workspace, actor=admin, email="nia@x.test", role=Role.REVIEWER
    )
    client = Client()
    page = client.get(f"/invitations/{token}/").content.decode()
    assert "Join Alpha" in page and "Reviewer" in page
    r = client.post(
        f"/invitations/{token}/", {"name": "Nia", "password1": "short", "password2": "short"}
    )
    assert "This password is too short" in r.content.decode()
    assert not User.objects.filter(email="nia@x.test").exists()
    r = client.post(
        f"/invitations/{token}/", {"name": "Nia", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert r.url == "/"
    assert Membership.objects.get(user__email="nia@x.test").role == Role.REVIEWER
    assert client.get(f"/invitations/{token}/").status_code == 409


def test_accept_page_for_existing_signed_in_user(workspace, admin, other_workspace):
    person = make_member(other_workspace, Role.LABELER, email="person@x.test")
    _, token = invitation_create(
        workspace=workspace, actor=admin, email="person@x.test", role=Role.LABELER
    )
    client = Client()
    assert "Sign in</a> to accept" in client.get(f"/invitations/{token}/").content.decode()
    client.force_login(person)
    assert client.post(f"/invitations/{token}/").url == "/"
    assert Membership.objects.filter(user=person).count() == 2


def test_unknown_invitation_link_is_404():
    assert Client().get("/invitations/not-a-token/").status_code == 404


def test_manage_command_create_tenant(capsys, monkeypatch):
    import io

    from django.core.management import CommandError, call_command

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    call_command(
        "create_tenant",
        "--name",
        "Acme",
        "--workspace",
        "Images",
        "--admin-email",
        "Boss@Acme.test",
        "--password-stdin",
    )
    assert "Created tenant 'Acme'" in capsys.readouterr().out
    user = User.objects.get(email="boss@acme.test")
    assert user.check_password(PASSWORD)
    assert TenantAdmin.objects.get().user == user
    monkeypatch.setattr("sys.stdin", io.StringIO("weak\n"))
    with pytest.raises(CommandError, match="This password is too short"):
        call_command(
            "create_tenant",
            "--name",
            "Other",
            "--workspace",
            "W",
            "--admin-email",
            "x@y.test",
            "--password-stdin",
        )
    assert Tenant.objects.count() == 1 and not User.objects.filter(email="x@y.test").exists()


def test_seed_demo_is_idempotent(capsys):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "Demo data already present." in out and "admin@demo.labelhub.local" in out
    assert Tenant.objects.count() == 1
    assert sorted(User.objects.values_list("email", flat=True)) == [
        "admin@demo.labelhub.local",
        "labeler1@demo.labelhub.local",
        "labeler2@demo.labelhub.local",
        "manager@demo.labelhub.local",
    ]
    assert Invitation.objects.filter(status="pending").count() == 2


def test_signed_out_pages_redirect_to_sign_in(workspace):
    make_user()
    for url in (
        "/members/",
        "/invitations/",
        "/audit-log/",
        "/tenant/workspaces/",
        "/accounts/profile/",
    ):
        r = Client().get(url)
        assert r.status_code == 302 and r.url.startswith("/accounts/sign-in/?next="), url
