"""The console in a real browser: sign-in, workspace switch, invitations, live events, sign-out.

Every test runs against the demo data (``seed_demo``) served by the real ASGI app; see
conftest.py. Screenshots of each key step land in ARTIFACTS_DIR.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from labelhub.access.models import Invitation
from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Membership, Role
from tests.browser.support import (
    ADMIN_EMAIL,
    LABELER_EMAIL,
    expect_live,
    sign_in,
    switch_workspace,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]

TITLE_SUFFIX = " · LabelHub"


def heading(page: Page):
    return page.locator("main h1")


def messages(page: Page):
    return page.locator("#messages .message")


def invite_form(page: Page):
    return page.get_by_test_id("invite-form")


def expect_overview(page: Page, workspace: str, *, role: str, members: str) -> None:
    """The Overview page of a workspace: heading, title, active nav item, role, member count."""
    expect(heading(page)).to_have_text(workspace)
    expect(page).to_have_title(workspace + TITLE_SUFFIX)
    expect(page.locator("nav.sidenav a.active")).to_have_text("Overview")
    expect(page.get_by_test_id("my-role")).to_have_text(role)
    expect(page.get_by_test_id("member-count")).to_have_text(members)


def test_admin_switches_workspace_and_invites_a_reviewer(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)

    # Never having chosen a workspace, the admin lands in the one with the most work in it
    # (Vision), not in the empty one first by name (Text & Documents).
    expect(page).to_have_url(re.compile(r"/$"))
    expect_overview(page, "Vision", role="Admin", members="4")
    expect(page.locator("header.topbar")).to_contain_text("Ada Admin")
    expect_live(page)
    screenshot(page, "01-overview-after-sign-in")

    switch_workspace(page, "Text & Documents")
    expect_overview(page, "Text & Documents", role="Admin", members="3")
    expect(messages(page)).to_have_text(["Now working in Text & Documents."])
    screenshot(page, "02-overview-text-and-documents")

    switch_workspace(page, "Vision")
    expect_overview(page, "Vision", role="Admin", members="4")
    expect(messages(page)).to_have_text(["Now working in Vision."])
    screenshot(page, "03-overview-vision")

    switch_workspace(page, "Text & Documents")
    expect_overview(page, "Text & Documents", role="Admin", members="3")

    page.locator("nav.sidenav").get_by_role("link", name="Members").click()
    expect(heading(page)).to_have_text("Members")
    expect(page.locator("nav.sidenav a.active")).to_have_text("Members")
    expect(page.get_by_test_id("members-table").locator("tbody tr")).to_have_count(3)
    expect(invite_form(page).get_by_label("Role", exact=True)).to_have_value(Role.LABELER)
    screenshot(page, "04-members-text-and-documents")

    email = "rita.reviewer@demo.labelhub.local"
    invite_form(page).get_by_label("E-mail").fill(email)
    invite_form(page).get_by_label("Role", exact=True).select_option(label="Reviewer")
    invite_form(page).get_by_role("button", name="Send invitation").click()

    expect(page).to_have_url(re.compile(r"/members/$"))
    expect(messages(page)).to_have_count(1)
    expect(messages(page)).to_have_class("message message-success")
    expect(messages(page)).to_have_text(
        f"Invitation sent to {email}; the link to join goes to them by e-mail."
    )
    expect(invite_form(page).get_by_label("E-mail")).to_have_value("")
    screenshot(page, "05-invitation-sent")

    page.locator("nav.sidenav").get_by_role("link", name="Invitations").click()
    expect(heading(page)).to_have_text("Invitations")
    row = page.locator(f'tr[data-email="{email}"]')
    expect(row).to_have_count(1)
    expect(row.locator("td")).to_have_text(
        [
            email,
            "Reviewer",
            "pending",
            ADMIN_EMAIL,
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"),
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"),
            "Revoke",
        ]
    )
    expect(row.locator(".badge")).to_have_class("badge badge-pending")
    screenshot(page, "06-invitations-new-row")

    invitation = Invitation.objects.get(email=email)
    assert invitation.workspace.name == "Text & Documents"
    assert (invitation.role, invitation.status) == (Role.REVIEWER, Invitation.Status.PENDING)
    assert invitation.invited_by.email == ADMIN_EMAIL


@pytest.mark.parametrize(
    ("email", "error", "rows_listed"),
    [
        pytest.param("not-an-email", "Enter a valid email address.", 0, id="invalid-email"),
        pytest.param(
            LABELER_EMAIL, "This person is already a member of the workspace.", 0, id="member"
        ),
        # Seeded: a pending invitation to Text & Documents; it stays the only one.
        pytest.param(
            "reviewer@demo.labelhub.local",
            "A pending invitation for this e-mail already exists.",
            1,
            id="pending",
        ),
    ],
)
def test_bad_invite_shows_the_error_beside_the_field(
    new_page, screenshot, email, error, rows_listed
):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(heading(page)).to_have_text("Vision")
    switch_workspace(page, "Text & Documents")
    invitations_before = Invitation.objects.count()
    audit_before = AuditLogEntry.objects.count()

    page.goto("/members/")
    invite_form(page).get_by_label("E-mail").fill(email)
    invite_form(page).get_by_label("Role", exact=True).select_option(label="Reviewer")
    invite_form(page).get_by_role("button", name="Send invitation").click()

    # The form comes back with the error under the e-mail field and the input kept.
    expect(heading(page)).to_have_text("Members")
    email_field = invite_form(page).locator(".field", has=page.locator("#id_email"))
    expect(email_field).to_have_class("field has-error")
    expect(email_field.locator("p.field-error")).to_have_text(error)
    # Beside the field on screen too: right under the input, left edges aligned.
    box = invite_form(page).get_by_label("E-mail").bounding_box()
    err = email_field.locator("p.field-error").bounding_box()
    assert 0 <= err["y"] - (box["y"] + box["height"]) <= 12
    assert abs(err["x"] - box["x"]) <= 1
    expect(invite_form(page).locator("p.field-error")).to_have_count(1)
    expect(invite_form(page).locator(".form-errors")).to_have_count(0)
    expect(invite_form(page).get_by_label("E-mail")).to_have_value(email)
    expect(invite_form(page).get_by_label("Role", exact=True)).to_have_value(Role.REVIEWER)
    expect(messages(page)).to_have_count(0)
    screenshot(page, "01-error-beside-email")

    assert Invitation.objects.count() == invitations_before
    assert AuditLogEntry.objects.count() == audit_before
    page.goto("/invitations/")
    expect(heading(page)).to_have_text("Invitations")
    expect(page.locator(f'tr[data-email="{email}"]')).to_have_count(rows_listed)


def test_role_change_reaches_the_member_live(new_page, screenshot):
    labeler = new_page("labeler")
    sign_in(labeler, LABELER_EMAIL)
    expect_overview(labeler, "Vision", role="Labeler", members="4")
    expect_live(labeler)
    # Nav for a Labeler: no admin pages (Invitations, Roles, Groups, Audit log, Settings),
    # no tenant section.
    nav = labeler.locator("nav.sidenav a").all_inner_texts()
    assert {"Overview", "Members", "API keys", "API docs"} <= set(nav)
    assert not {"Invitations", "Roles", "Groups", "Audit log", "Settings", "Workspaces"} & set(nav)
    labeler.evaluate("window.__sameDocument = true")
    screenshot(labeler, "01-labeler-overview-live")

    admin = new_page("admin")
    sign_in(admin, ADMIN_EMAIL)
    expect(heading(admin)).to_have_text("Vision")
    admin.goto("/members/")
    expect(heading(admin)).to_have_text("Members")
    row = admin.locator(f'tr[data-email="{LABELER_EMAIL}"]')
    row.get_by_label(f"Role of {LABELER_EMAIL}").select_option(label="Reviewer")
    row.get_by_role("button", name="Change").click()
    expect(messages(admin)).to_have_text([f"{LABELER_EMAIL} is now Reviewer."])
    expect(
        admin.locator(f'tr[data-email="{LABELER_EMAIL}"]').get_by_label(f"Role of {LABELER_EMAIL}")
    ).to_have_value(Role.REVIEWER)
    screenshot(admin, "02-admin-changed-role")

    live_message = labeler.locator("#messages .message[data-live]")
    expect(live_message).to_have_text("Your role in Vision is now Reviewer.")
    expect(live_message).to_have_class("message message-live")
    # The page's own role label follows the event, still without a reload.
    expect(labeler.get_by_test_id("my-role")).to_have_text("Reviewer")
    assert labeler.evaluate("window.__sameDocument") is True  # no reload happened
    screenshot(labeler, "03-labeler-live-message")

    membership = Membership.objects.get(user__email=LABELER_EMAIL, workspace__name="Vision")
    assert membership.role == Role.REVIEWER
    labeler.reload()
    expect(labeler.get_by_test_id("my-role")).to_have_text("Reviewer")


def test_sign_out_and_wrong_password(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(heading(page)).to_have_text("Vision")
    switch_workspace(page, "Text & Documents")  # remembered across the sign-out below

    page.locator(".user-menu summary").click()
    expect(page.locator(".user-menu .menu")).to_be_visible()
    screenshot(page, "01-user-menu-open")
    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/accounts/sign-in/$"))
    expect(heading(page)).to_have_text("Sign in to LabelHub")
    expect(page.get_by_label("E-mail")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.locator("header.topbar")).to_have_count(0)
    expect(page.locator("#live-indicator")).to_have_count(0)
    screenshot(page, "02-signed-out")

    # The session is gone: console pages send the visitor back to sign in.
    page.goto("/members/")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/\?next=/members/$"))
    expect(heading(page)).to_have_text("Sign in to LabelHub")

    sign_in(page, ADMIN_EMAIL, password="not-the-password")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/$"))
    expect(page.locator(".form-errors")).to_have_text("E-mail or password is wrong.")
    expect(page.get_by_label("E-mail")).to_have_value(ADMIN_EMAIL)
    expect(page.get_by_label("Password")).to_have_value("")
    screenshot(page, "03-wrong-password")

    sign_in(page, ADMIN_EMAIL)
    expect(heading(page)).to_have_text("Text & Documents")  # the workspace last chosen


def test_admin_pages_render(new_page, screenshot):
    """The other console pages an admin reaches from the navigation render with their data."""
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(heading(page)).to_have_text("Vision")
    nav = page.locator("nav.sidenav")

    nav.get_by_role("link", name="Audit log").click()
    expect(heading(page)).to_have_text("Audit log")
    table = page.get_by_test_id("audit-table")
    # Seeding changed labeler2's role twice (Labeler -> Reviewer -> Labeler) in Vision.
    expect(table.locator("tbody tr", has_text="member.role_changed")).to_have_count(2)
    expect(table.locator("tbody tr", has_text="invitation.created")).to_have_count(1)
    screenshot(page, "01-audit-log-vision")

    page.get_by_label("Action").select_option("member.role_changed")
    page.get_by_role("button", name="Filter").click()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr td:nth-child(4)")).to_have_text(
        ["labeler2@demo.labelhub.local", "labeler2@demo.labelhub.local"]
    )
    screenshot(page, "02-audit-log-filtered")

    nav.get_by_role("link", name="Workspaces").click()
    expect(heading(page)).to_have_text("Workspaces of Demo Labs")
    expect(
        page.get_by_test_id("tenant-workspaces-table").locator("tbody td:first-child")
    ).to_have_text(["Text & Documents", "Vision"])
    screenshot(page, "03-tenant-workspaces")

    page.locator(".user-menu summary").click()
    page.locator(".user-menu").get_by_role("link", name="Profile").click()
    expect(heading(page)).to_have_text("Profile")
    expect(page.locator("main p.muted")).to_have_text(ADMIN_EMAIL)
    screenshot(page, "04-profile")
