"""Two-factor authentication in a real browser: the workspace rule, enrolment, sign-in with a code.

The test reads the secret the profile page shows for manual entry and computes the codes an
authenticator app would show with django-otp's own TOTP (RFC 6238).
"""

from __future__ import annotations

import re
import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Workspace
from tests.browser.support import ADMIN_EMAIL, sign_in, switch_workspace

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]

ENROL = (
    "This workspace requires two-factor authentication for admins. "
    "Enrol an authenticator to continue."
)


def heading(page: Page):
    return page.locator("main h1")


def messages(page: Page):
    return page.locator("#messages .message")


def authenticator_code(secret: str, *, at: float | None = None) -> str:
    """What an authenticator app holding ``secret`` shows at time ``at`` (default: now)."""
    totp = TOTP(b32decode(secret.replace(" ", "")))
    if at is not None:
        totp.time = at
    return f"{totp.token():06d}"


def test_admin_enrols_then_signs_in_with_the_code(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(heading(page)).to_have_text("Vision")
    switch_workspace(page, "Text & Documents")  # remembered: the code sign-in lands there
    nav = page.locator("nav.sidenav")

    # The admin turns the rule on for the workspace...
    nav.get_by_role("link", name="Settings").click()
    expect(heading(page)).to_have_text("Workspace settings")
    expect(page.locator("nav.sidenav a.active")).to_have_text("Settings")
    expect(page.get_by_label("Workspace name")).to_have_value("Text & Documents")
    rule = page.get_by_label("Require two-factor authentication for admins")
    expect(rule).not_to_be_checked()
    screenshot(page, "01-workspace-settings")
    rule.check()
    page.get_by_role("button", name="Save").click()

    # ...and, holding manage-members, is sent to enrol before the settings page opens again.
    expect(page).to_have_url(
        re.compile(r"/accounts/profile/\?next=%2Fworkspace%2Fsettings%2F#mfa$")
    )
    expect(messages(page)).to_have_text(["Workspace settings saved.", ENROL])
    expect(messages(page).nth(1)).to_have_class("message message-warning")
    card = page.get_by_test_id("mfa-card")
    expect(card.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    screenshot(page, "02-asked-to-enrol")

    card.get_by_role("button", name="Set up an authenticator").click()
    expect(card.get_by_test_id("mfa-qr").locator("svg")).to_be_visible()
    secret = card.get_by_test_id("mfa-secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret), secret
    screenshot(page, "03-qr-code-and-secret")

    code_input = card.get_by_label("Code from the app")
    code_input.fill("000000")
    card.get_by_role("button", name="Confirm").click()
    field = card.locator(".field", has=page.locator("#id_code"))
    expect(field).to_have_class("field has-error")
    expect(field.locator("p.field-error")).to_have_text("The code is not valid.")
    screenshot(page, "04-wrong-code")
    page.wait_for_timeout(1100)  # django-otp's back-off after one wrong code is 1 s

    code_input.fill(authenticator_code(secret))
    card.get_by_role("button", name="Confirm").click()
    expect(messages(page)).to_have_text(["Two-factor authentication is on."])
    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    expect(codes.first).to_have_text(re.compile(r"^[a-z2-7]{8}$"))
    screenshot(page, "05-recovery-codes")

    # Enrolling verified this session: the settings page opens, the rule is on.
    page.get_by_role("link", name="I saved them — continue").click()
    expect(heading(page)).to_have_text("Workspace settings")
    expect(page.get_by_label("Require two-factor authentication for admins")).to_be_checked()

    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(heading(page)).to_have_text("Sign in to LabelHub")

    # The password alone no longer signs in: the code page asks for the authenticator's code.
    sign_in(page, ADMIN_EMAIL)
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/code/$"))
    expect(heading(page)).to_have_text("Enter the code from your authenticator")
    expect(page.locator("header.topbar")).to_have_count(0)
    screenshot(page, "06-code-page")
    # The enrolment's code cannot be replayed; the app shows the next one 30 s later.
    page.get_by_label("Code", exact=True).fill(authenticator_code(secret, at=time.time() + 30))
    page.get_by_role("button", name="Verify").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(heading(page)).to_have_text("Text & Documents")
    expect(page.get_by_test_id("my-role")).to_have_text("Admin")
    screenshot(page, "07-overview-after-code")

    page.goto("/accounts/profile/")
    card = page.get_by_test_id("mfa-card")
    expect(card.locator(".badge-on")).to_have_text("On")
    expect(card.get_by_test_id("recovery-codes-left")).to_have_text("10 unused recovery codes.")
    expect(card.get_by_role("button", name="Turn off two-factor authentication")).to_be_visible()
    screenshot(page, "08-profile-two-factor-on")
    nav.get_by_role("link", name="Audit log").click()
    expect(heading(page)).to_have_text("Audit log")
    table = page.get_by_test_id("audit-table")
    expect(table.locator("tbody tr", has_text="mfa.enrolled")).to_have_count(1)
    expect(table.locator("tbody tr", has_text="workspace.settings_changed")).to_have_count(1)
    screenshot(page, "09-audit-log")

    device = TOTPDevice.objects.get(user__email=ADMIN_EMAIL)
    assert device.confirmed is True
    assert Workspace.objects.get(name="Text & Documents").require_mfa_for_admins is True
    entry = AuditLogEntry.objects.get(verb="workspace.settings_changed")
    assert (entry.before, entry.after) == (
        {"require_mfa_for_admins": False},
        {"require_mfa_for_admins": True},
    )
