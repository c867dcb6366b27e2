"""Access control in a real browser: a custom project role built with the scope filter, a group
with that default role, a member, its history exported as CSV, and an API key's one-time secret.

Runs against the demo data (``seed_demo``) served by the real ASGI app; see conftest.py.
Screenshots of each step land in ARTIFACTS_DIR.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from labelhub.access.models import ApiKey, CustomRole, Group
from labelhub.access.permissions import COMING, Permission
from tests.browser.support import ADMIN_EMAIL, LABELER_EMAIL, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
WORKSPACE_LABELS = [p.label for p in Permission if p.scope == "workspace"]
PROJECT_LABELS = [p.label for p in Permission if p.scope == "project"]


def heading(page: Page) -> Locator:
    return page.locator("main h1")


def messages(page: Page) -> Locator:
    return page.locator("#messages .message")


def permission(form: Locator, label: str) -> Locator:
    """The checkbox of one permission in a picker, found by its label's text."""
    row = form.locator("label.perm").filter(
        has=form.page.locator("span", has_text=re.compile(rf"^{re.escape(label)}$"))
    )
    return row.locator('input[type="checkbox"]')


def test_admin_builds_a_role_a_group_and_a_key(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(heading(page)).to_have_text("Vision")  # sign-in lands in the busiest workspace
    nav = page.locator("nav.sidenav")

    # --- Roles: a project role built with the scope filter --------------------------------
    nav.get_by_role("link", name="Roles").click()
    expect(heading(page)).to_have_text("Roles")
    expect(page.locator("nav.sidenav a.active")).to_have_text("Roles")
    expect(page.get_by_test_id("system-roles").locator("tbody td:first-child")).to_have_text(
        ["Admin", "Team Manager", "Project-based", "Reviewer", "Labeler"]
    )
    # Seeded: one workspace role, one project role.
    expect(page.get_by_test_id("custom-roles").locator("tbody tr td:first-child")).to_have_text(
        ["Ops Analyst", "Senior Reviewer"]
    )
    screenshot(page, "01-roles")

    form = page.get_by_test_id("role-form")
    picker = form.locator("[data-permission-picker]")
    perms = picker.locator("label.perm")
    expect(perms).to_have_count(len(Permission))
    form.get_by_label("Name").fill("QA Reviewer")
    form.get_by_label("Description").fill("Reviews QA batches.")
    permission(form, "Manage groups").check()  # chosen before the scope: cleared by it
    form.get_by_label("Scope").select_option(label="Project")

    # Workspace permissions are now unchecked and disabled; the filter shows project ones.
    workspace_boxes = picker.locator('label.perm[data-scope="workspace"] input')
    expect(workspace_boxes).to_have_count(len(WORKSPACE_LABELS))
    for i in range(len(WORKSPACE_LABELS)):
        expect(workspace_boxes.nth(i)).to_be_disabled()
        expect(workspace_boxes.nth(i)).not_to_be_checked()
    expect(picker.locator('label.perm[data-scope="workspace"]').first).to_have_class(
        "perm disabled"
    )
    # project permissions stay open, except those whose feature has not landed yet
    expect(
        picker.locator('label.perm[data-scope="project"]:not([data-coming]) input:disabled')
    ).to_have_count(0)
    expect(picker.locator('label.perm[data-scope="project"][data-coming] input')).to_have_count(
        len([p for p in COMING if p.scope == "project"])
    )

    # The filter buttons: All shows everything (workspace ones greyed out), Project hides them.
    picker.get_by_role("button", name="All").click()
    expect(picker.get_by_role("button", name="All")).to_have_class("on")
    expect(perms.locator("visible=true")).to_have_count(len(Permission))
    screenshot(page, "02-role-project-scope-workspace-disabled")

    picker.get_by_role("button", name="Project", exact=True).click()
    expect(picker.get_by_role("button", name="Project", exact=True)).to_have_class("on")
    expect(picker.get_by_role("button", name="All")).not_to_have_class("on")
    expect(perms.locator("visible=true").locator("span")).to_have_text(PROJECT_LABELS)
    permission(form, "Review").check()
    permission(form, "View project").check()
    expect(picker.locator("input:checked")).to_have_count(2)
    screenshot(page, "03-role-project-filter-ticked")

    form.get_by_role("button", name="Create role").click()
    expect(messages(page)).to_have_text(["Role QA Reviewer created."])
    row = page.get_by_test_id("custom-roles").locator('tr[data-role="QA Reviewer"]')
    expect(row.locator("td")).to_have_text(
        ["QA Reviewer", "Project", "2", "0 members, 0 groups, 0 project grants"]
    )
    screenshot(page, "04-role-created")
    role = CustomRole.objects.get(name="QA Reviewer")
    assert (role.workspace.name, role.scope, role.permissions, role.description) == (
        "Vision",
        "project",
        ["review", "view_project"],
        "Reviews QA batches.",
    )

    # The role's own page: scope locked, workspace permissions still locked out.
    row.get_by_role("link", name="QA Reviewer").click()
    expect(heading(page)).to_have_text(re.compile(r"^QA Reviewer\s+project role$"))
    detail = page.get_by_test_id("role-form")
    expect(detail.get_by_label("Scope")).to_be_disabled()
    expect(detail.get_by_label("Scope")).to_have_value("project")
    expect(permission(detail, "Review")).to_be_checked()
    expect(permission(detail, "View project")).to_be_checked()
    expect(permission(detail, "Manage roles")).to_be_disabled()
    screenshot(page, "05-role-detail")

    # --- Groups: the custom project role as default role ------------------------------------
    nav.get_by_role("link", name="Groups").click()
    expect(heading(page)).to_have_text("Groups")
    expect(page.locator("nav.sidenav a.active")).to_have_text("Groups")
    group_form = page.get_by_test_id("group-form")
    default_role = group_form.get_by_label("Default role")
    expect(default_role.locator("option")).to_have_text(
        [
            "Choose a role",
            "Admin",
            "Team Manager",
            "Project-based",
            "Reviewer",
            "Labeler",
            "QA Reviewer",
            "Senior Reviewer",
        ]
    )
    screenshot(page, "06-groups")

    group_form.get_by_label("Name").fill("Night shift")
    group_form.get_by_label("Description").fill("Reviews overnight")
    default_role.select_option(label="QA Reviewer")
    group_form.get_by_role("button", name="Create group").click()

    expect(heading(page)).to_have_text("Night shift")
    expect(page).to_have_url(re.compile(r"/groups/[0-9a-f-]{36}/$"))
    expect(messages(page)).to_have_text(["Group Night shift created."])
    expect(page.get_by_test_id("default-role")).to_have_text("QA Reviewer")
    expect(page.get_by_test_id("group-members").locator("tbody tr")).to_have_text(
        ["No members yet."]
    )
    screenshot(page, "07-group-created")

    add = page.get_by_test_id("add-member-form")
    add.get_by_label("Member").select_option(label=LABELER_EMAIL)
    add.get_by_role("button", name="Add member").click()
    expect(messages(page)).to_have_text(["Member added."])
    members = page.get_by_test_id("group-members").locator("tbody tr")
    expect(members).to_have_count(1)
    expect(members.first).to_have_attribute("data-email", LABELER_EMAIL)
    expect(members.first.locator("td").first).to_have_text(LABELER_EMAIL)
    expect(add.get_by_label("Member").locator(f'option:text-is("{LABELER_EMAIL}")')).to_have_count(
        0
    )
    history = page.get_by_test_id("group-history").locator("tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(0).locator("td")).to_have_text(
        [
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"),
            ADMIN_EMAIL,
            "created",
            "default role QA Reviewer",
        ]
    )
    expect(history.nth(1).locator("td")).to_have_text(
        [
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"),
            ADMIN_EMAIL,
            "member_added",
            LABELER_EMAIL,
        ]
    )
    screenshot(page, "08-group-member-added")

    group = Group.objects.get(name="Night shift")
    assert group.default_custom_role == role
    assert list(group.auth_group.user_set.values_list("email", flat=True)) == [LABELER_EMAIL]

    with page.expect_download() as info:
        page.get_by_test_id("export-history").click()
    download = info.value
    assert download.suggested_filename == f"group-{group.pk}-history.csv"
    with open(download.path(), encoding="utf-8") as f:
        lines = list(csv.reader(io.StringIO(f.read())))
    assert lines[0] == ["time", "group", "actor", "action", "detail"]
    assert [line[1:] for line in lines[1:]] == [
        ["Night shift", ADMIN_EMAIL, "created", "default role QA Reviewer"],
        ["Night shift", ADMIN_EMAIL, "member_added", LABELER_EMAIL],
    ]
    assert all(TIMESTAMP.match(line[0]) for line in lines[1:])
    expect(heading(page)).to_have_text("Night shift")  # the download left the page in place

    nav.get_by_role("link", name="Groups").click()
    expect(page.locator('tr[data-group="Night shift"] td')).to_have_text(
        ["Night shift", "QA Reviewer", "1", "Reviews overnight"]
    )
    screenshot(page, "09-groups-with-night-shift")

    # The members page shows the group beside the member.
    nav.get_by_role("link", name="Members").click()
    expect(heading(page)).to_have_text("Members")
    expect(page.locator(f'tr[data-email="{LABELER_EMAIL}"] td.groups .badge')).to_have_text(
        ["Night shift", "Vendors"]
    )
    screenshot(page, "10-members-with-groups")

    # --- API keys: the secret is shown once ---------------------------------------------------
    nav.get_by_role("link", name="API keys").click()
    expect(heading(page)).to_have_text("API keys")
    expect(page.get_by_test_id("new-secret")).to_have_count(0)
    screenshot(page, "11-api-keys")

    key_form = page.get_by_test_id("key-form")
    # The permission list shows only while "restrict" is ticked.
    key_perms = key_form.locator(".key-perms")
    expect(key_perms).to_be_hidden()
    restrict = key_form.get_by_label("Restrict the key to these permissions")
    restrict.check()
    expect(key_perms).to_be_visible()
    expect(permission(key_form, "Manage all API keys")).to_be_visible()
    screenshot(page, "12-api-key-restrict-open")
    restrict.uncheck()
    expect(key_perms).to_be_hidden()
    key_form.get_by_label("Name").fill("Night shift bot")
    key_form.get_by_role("button", name="Create key").click()
    secret_box = page.get_by_test_id("new-secret")
    expect(secret_box).to_be_visible()
    key = ApiKey.objects.get(name="Night shift bot")
    secret = secret_box.locator(".secret-value").inner_text()
    assert re.fullmatch(rf"{re.escape(key.prefix)}_[A-Za-z0-9_-]{{43}}", secret)
    expect(messages(page)).to_have_text(
        [f"Key {key.prefix} created. Copy the secret now: it is shown only once."]
    )
    own_row = page.get_by_test_id("own-keys").locator(f'tr[data-prefix="{key.prefix}"]')
    expect(own_row.locator("td").nth(0)).to_have_text("Night shift bot")
    expect(own_row.locator(".badge")).to_have_text("active")
    expect(
        page.get_by_test_id("all-keys").locator(f'tr[data-prefix="{key.prefix}"]')
    ).to_have_count(1)
    screenshot(page, "13-api-key-secret-once")

    nav.get_by_role("link", name="API keys").click()
    expect(heading(page)).to_have_text("API keys")
    expect(page.get_by_test_id("new-secret")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(secret)
    expect(own_row).to_have_count(1)
    screenshot(page, "14-api-keys-secret-gone")


def test_deleting_a_role_in_use_asks_for_a_replacement(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(heading(page)).to_have_text("Vision")  # sign-in lands in the busiest workspace
    page.locator("nav.sidenav").get_by_role("link", name="Roles").click()
    page.get_by_test_id("custom-roles").get_by_role("link", name="Senior Reviewer").click()
    expect(heading(page)).to_have_text(re.compile(r"^Senior Reviewer\s+project role$"))
    # Seeded: the Vendors group holds it as default role and on the Street scenes project.
    expect(page.get_by_test_id("usage")).to_have_text(
        "Held by 0 members, 0 pending invitations, 1 groups (default role), 1 project grants."
    )

    delete_form = page.locator("form", has=page.get_by_label("Give its holders this role"))
    page.once("dialog", lambda dialog: dialog.accept())
    delete_form.get_by_role("button", name="Delete role").click()
    expect(delete_form.locator(".form-errors")).to_have_text(
        "The role 'Senior Reviewer' is in use (1 groups, 1 project grants); "
        "choose a replacement role."
    )
    replacement = delete_form.locator(".field", has=page.get_by_label("Give its holders this role"))
    expect(replacement).to_have_class("field has-error")
    expect(replacement.locator(".field-error")).to_have_text(
        "Choose the role to give to those who hold this one."
    )
    screenshot(page, "01-role-in-use-conflict")
    assert CustomRole.objects.filter(name="Senior Reviewer").exists()

    delete_form.get_by_label("Give its holders this role").select_option(label="Reviewer")
    page.once("dialog", lambda dialog: dialog.accept())
    delete_form.get_by_role("button", name="Delete role").click()
    expect(heading(page)).to_have_text("Roles")
    expect(messages(page)).to_have_text(["Role Senior Reviewer deleted."])
    expect(page.get_by_test_id("custom-roles").locator("tbody tr td:first-child")).to_have_text(
        ["Ops Analyst"]
    )
    screenshot(page, "02-role-deleted")
    assert not CustomRole.objects.filter(name="Senior Reviewer").exists()
    vendors = Group.objects.get(name="Vendors")
    assert (vendors.default_role, vendors.default_custom_role) == ("reviewer", None)
