"""The README's *Tour*, walked in a real browser as each demo account on the seeded demo.

Each step asserts what the README says you see, and leaves a screenshot in ARTIFACTS_DIR
(``tour_<account>--NN-<step>.png``). When the demo or the pages change, this test and the
Tour change together.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from labelhub.projects.models import DataRow
from tests.browser.support import DEMO_PASSWORD, expect_live, sign_in, switch_workspace

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]


def email(account: str) -> str:
    return f"{account}@demo.labelhub.local"


def heading(page: Page):
    return page.locator("main h1")


def nav(page: Page, name: str) -> None:
    page.locator("nav.sidenav").get_by_role("link", name=name, exact=True).click()


def tab(page: Page, name: str) -> None:
    page.locator("nav.tabs").get_by_role("link", name=name, exact=True).click()


def open_project(page: Page, name: str) -> None:
    nav(page, "Projects")
    page.get_by_test_id("projects-table").get_by_role("link", name=name).click()
    expect(heading(page)).to_contain_text(name)


def signed_in(new_page, account: str) -> Page:
    """A page signed in as ``account``: every demo account lands in Vision."""
    page = new_page(account)
    sign_in(page, email(account), DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(heading(page)).to_have_text("Vision")
    expect_live(page)
    return page


def tiles(page: Page) -> dict[str, str]:
    """The overview's status tiles, label → value."""
    out = {}
    for tile in page.get_by_test_id("status-counts").locator(".tile").all():
        out[tile.locator(".tile-label").inner_text()] = tile.locator(".tile-value").inner_text()
    return out


def task_key(page: Page) -> str:
    """The global key of the data row the task page shows (from its URL)."""
    row_id = re.search(r"/tasks/([^/]+)/", page.url).group(1)
    return DataRow.objects.get(pk=row_id).global_key


def leave_task(page: Page) -> None:
    """Go back to the overview, so no task page beats its timer while the test ends."""
    page.get_by_role("link", name="← Street scenes").click()
    expect(page.get_by_test_id("status-counts")).to_be_visible()


def test_tour_admin(new_page, screenshot):
    page = signed_in(new_page, "admin")

    # Workspaces: the overview, then the switcher.
    expect(page.get_by_test_id("my-role")).to_have_text("Admin")
    expect(page.locator(".tile")).to_have_text(
        ["4 Members", "1 Admins", "1 Pending invitations"], use_inner_text=True
    )
    expect(page.get_by_test_id("start-here").get_by_role("link")).to_have_text(
        ["Projects", "Datasets", "Ontologies", "Members", "API keys", "API docs"]
    )
    screenshot(page, "01-overview-vision")
    switch_workspace(page, "Text & Documents")
    expect(page.get_by_test_id("member-count")).to_have_text("3")
    nav(page, "Projects")
    state = page.get_by_test_id("empty-state")
    expect(state.locator("h2")).to_have_text("No projects yet")
    expect(state.get_by_role("link", name="Create a project")).to_be_visible()
    screenshot(page, "02-text-and-documents-projects-empty")
    switch_workspace(page, "Vision")

    # Members and invitations.
    nav(page, "Members")
    expect(page.get_by_test_id("members-table").locator("tbody tr td:nth-child(2)")).to_have_text(
        [email("admin"), email("manager"), email("labeler1"), email("labeler2")]
    )
    for labeler in ("labeler1", "labeler2"):
        expect(page.locator(f'tr[data-email="{email(labeler)}"] td.groups .badge')).to_have_text(
            "Vendors"
        )
    screenshot(page, "03-members")
    nav(page, "Invitations")
    expect(page.get_by_test_id("invitations-table").locator("tbody tr")).to_have_count(1)
    expect(page.locator('tr[data-email="new.labeler@demo.labelhub.local"] .badge')).to_have_text(
        "pending"
    )
    screenshot(page, "04-invitations")

    # Custom roles and groups.
    nav(page, "Roles")
    expect(page.get_by_test_id("custom-roles").locator("tbody tr td:first-child")).to_have_text(
        ["Ops Analyst", "Senior Reviewer"]
    )
    nav(page, "Groups")
    expect(page.locator('tr[data-group="Vendors"] td')).to_have_text(
        ["Vendors", "Senior Reviewer", "2", "External labeling team"]
    )
    screenshot(page, "05-groups")

    # Datasets and data rows.
    nav(page, "Datasets")
    expect(page.locator('tr[data-dataset="Street cams"] td.num')).to_have_text("24")
    expect(page.locator('tr[data-dataset="Receipts"] td.num')).to_have_text("12")
    page.get_by_role("link", name="Street cams").click()
    expect(page.get_by_test_id("row-count")).to_have_text("24")
    expect(page.get_by_test_id("data-rows").locator("tbody tr td:first-child").first).to_have_text(
        "street-cam-024"
    )
    screenshot(page, "06-dataset-street-cams")

    # Ontologies.
    nav(page, "Ontologies")
    expect(page.locator('tr[data-ontology="Street objects"] td:nth-child(3)')).to_have_text("17")
    page.get_by_role("link", name="Street objects").click()
    tools = page.get_by_test_id("tools-tree")
    for name in ("Car", "Occluded", "Road", "Pedestrian"):
        expect(tools.get_by_text(name, exact=True)).to_be_visible()
    expect(
        page.get_by_test_id("classifications-tree").get_by_text("Weather", exact=True)
    ).to_be_visible()
    screenshot(page, "07-ontology-street-objects")

    # Imports and pre-labels.
    open_project(page, "Street scenes")
    tab(page, "Import labels")
    expect(page.get_by_test_id("import-jobs-table").locator("tbody tr")).to_have_count(3)
    screenshot(page, "08-import-labels")
    page.get_by_role("link", name="Model v1 pre-labels").click()
    expect(page.get_by_test_id("job-state")).to_have_text("Finished with errors")
    counts = page.get_by_test_id("job-counts")
    for field, value in (("lines_read", "40"), ("lines_valid", "37"), ("lines_invalid", "3")):
        expect(counts.locator(f'[data-job-field="{field}"]')).to_have_text(value)
    expect(page.get_by_test_id("errors-table").locator("tbody tr td:nth-child(4)")).to_have_text(
        ["FeatureNotFound", "InvalidGeometry", "DataRowNotFound"]
    )
    screenshot(page, "09-import-errors")
    tab(page, "Data rows")
    expect(page.get_by_test_id("data-rows-table")).to_contain_text("street-cam-004")
    row = DataRow.objects.get(global_key="street-cam-004")
    page.goto(f"{page.url}{row.pk}/")  # the row's page (the tab links each row to it)
    expect(page.locator("h2.row-title code")).to_have_text("street-cam-004")
    # Model v1's and v2's pre-labels (5 cars, the pedestrian), and the approved label's 5 (with a Follows arrow).
    objects = page.get_by_test_id("objects")
    expect(objects.locator("h2 .small")).to_have_text("11")
    expect(objects.locator(".badge-source-prelabel")).to_have_count(6)
    expect(objects.locator(".badge-source-human")).to_have_count(5)
    expect(page.locator(".overlay .source-prelabel")).to_have_count(6)
    screenshot(page, "10-data-row-prelabels")

    # Audit log.
    nav(page, "Audit log")
    table = page.get_by_test_id("audit-table")
    page.get_by_label("Action").select_option("member.role_changed")
    page.get_by_role("button", name="Filter").click()
    expect(table.locator("tbody tr td:nth-child(4)")).to_have_text([email("labeler2")] * 2)
    screenshot(page, "11-audit-log-role-changes")

    # API keys and API docs.
    nav(page, "API keys")
    expect(page.get_by_test_id("own-keys").locator("tbody tr td:first-child")).to_have_text(
        "Demo CI pipeline"
    )
    screenshot(page, "12-api-keys")
    nav(page, "API docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LabelHub API")
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/me/").first
    operation.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    response = page.locator(".live-responses-table tr.response").first
    expect(response.locator(".response-col_status")).to_contain_text("200")
    expect(response.locator(".response-col_description")).to_contain_text(email("admin"))
    operation.scroll_into_view_if_needed()
    screenshot(page, "13-api-docs-me", full_page=False)


def test_tour_manager(new_page, screenshot):
    page = signed_in(new_page, "manager")
    expect(page.get_by_test_id("my-role")).to_have_text("Team Manager")

    # Projects and batches.
    nav(page, "Projects")
    expect(page.get_by_test_id("projects-table").locator("tbody tr")).to_have_count(2)
    open_project(page, "Street scenes")
    assert tiles(page) == {
        "To label": "9",
        "In review": "4",
        "In rework": "1",
        "Done": "10",
        "Skipped": "0",
        "Data rows": "24",
    }
    expect(page.get_by_test_id("waiting-review")).to_have_text("4")
    screenshot(page, "01-street-scenes-overview")
    tab(page, "Batches")
    expect(page.locator('tr[data-batch="Week 1"] td')).to_have_text(
        ["Week 1", "3", "16", "1", "10", "off", re.compile(r"^\d{4}-")]
    )
    expect(page.locator('tr[data-batch="Week 2"] td').nth(2)).to_have_text("8")
    screenshot(page, "02-batches")

    # The workflow tab.
    tab(page, "Workflow")
    steps = page.get_by_test_id("workflow-steps").locator("li")
    expect(steps.locator(".step-name")).to_have_text(
        ["Initial labeling", "Initial review", "Night check", "Rework", "Done"]
    )
    expect(steps.locator(".step-count")).to_have_text(["9", "3", "1", "1", "10"])
    night = page.get_by_test_id("step-card").filter(has_text="Night check").first
    expect(night).to_contain_text("Max Manager")
    expect(night.get_by_test_id("step-filters")).to_contain_text("night")
    screenshot(page, "03-workflow")

    # Review.
    tab(page, "Overview")
    page.get_by_test_id("start-review").click()
    expect(page).to_have_url(re.compile(r"/tasks/[^/]+/\?mode=review$"))
    assert task_key(page) == "street-cam-013"
    expect(page.locator("main")).to_contain_text("Task 1 of 4 reserved")
    expect(page.locator("main")).to_contain_text(email("labeler1"))  # the label's author
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    expect(page.get_by_role("button", name="Reject")).to_be_visible()
    # the label on the canvas: three cars, the pedestrian, and "Follows" between two cars
    expect(page.locator("[data-editor]")).to_have_attribute("data-ready", "true")
    # (one submission's objects have no order among themselves: compare them sorted)
    expect(page.get_by_test_id("object-item")).to_have_count(5)
    names = sorted(page.get_by_test_id("object-item").locator(".object-name").all_inner_texts())
    assert names[:3] == ["Car 1", "Car 2", "Car 3"] and names[4] == "Pedestrian 1"
    assert re.fullmatch(r"Follows: Car [123] → Car [123]", names[3])
    screenshot(page, "04-review-task")
    leave_task(page)


def test_tour_labeler1(new_page, screenshot):
    page = signed_in(new_page, "labeler1")
    expect(page.get_by_test_id("my-role")).to_have_text("Labeler")
    open_project(page, "Street scenes")
    for mode, waiting in (("label", "6"), ("review", "2"), ("rework", "1")):
        expect(page.get_by_test_id(f"waiting-{mode}")).to_have_text(waiting)
    screenshot(page, "01-street-scenes-overview")

    # Rework: the rejected label, with the reason.
    page.get_by_test_id("start-rework").click()
    expect(page).to_have_url(re.compile(r"/tasks/[^/]+/\?mode=rework$"))
    assert task_key(page) == "street-cam-009"
    expect(page.get_by_text("The occluded car is marked as not occluded.")).to_be_visible()
    screenshot(page, "02-rework-task")
    leave_task(page)

    # In Text & Documents (a Reviewer there) the empty pages explain themselves.
    switch_workspace(page, "Text & Documents")
    nav(page, "Projects")
    state = page.get_by_test_id("empty-state")
    expect(state.locator("h2")).to_have_text("No projects yet")
    expect(state.get_by_role("link")).to_have_count(0)
    screenshot(page, "03-text-and-documents-projects-empty")


def test_tour_labeler2(new_page, screenshot):
    page = signed_in(new_page, "labeler2")
    open_project(page, "Street scenes")
    for mode, waiting in (("label", "7"), ("review", "1"), ("rework", "0")):
        expect(page.get_by_test_id(f"waiting-{mode}")).to_have_text(waiting)

    # Labeling: the rows they held come first.
    page.get_by_test_id("start-label").click()
    expect(page).to_have_url(re.compile(r"/tasks/[^/]+/\?mode=label$"))
    assert task_key(page) == "street-cam-016"
    expect(page.locator("main")).to_contain_text("Task 1 of 4 reserved · 5 more waiting")
    expect(page.get_by_test_id("timer-value")).to_be_visible()
    expect(page.get_by_text("Weather", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Submit")).to_be_visible()
    # the editor: the ontology's tools with their hotkeys; 1 and a drag draw a car
    expect(page.locator("[data-editor]")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("toolbar").locator("[data-tool]")).to_have_text(
        ["SelectV", "Car1", "Road2", "Pedestrian3", "Lane marking4", "Follows5"]
    )
    expect(page.get_by_test_id("objects-count")).to_have_text("0")
    page.keyboard.press("1")
    box = page.get_by_test_id("canvas").bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 120)
    page.mouse.down()
    page.mouse.move(box["x"] + 220, box["y"] + 200, steps=5)
    page.mouse.up()
    expect(page.get_by_test_id("objects-count")).to_have_text("1")
    expect(page.get_by_test_id("selected-object").locator("h2")).to_have_text("Car 1")
    expect(page.get_by_test_id("draft-status")).to_contain_text("Draft saved at")
    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcuts-help")).to_be_visible()
    screenshot(page, "01-label-task")
    page.keyboard.press("Escape")
    leave_task(page)

    # Notifications, and a live event from the admin.
    page.get_by_test_id("notifications-link").click()
    titles = page.get_by_test_id("notifications-table").locator(".notification-title")
    expect(titles).to_have_text(
        ["You were taken out of the queue of Receipts", "Your label in Street scenes was rejected"]
    )
    expect(page.get_by_test_id("notifications-table")).to_contain_text(
        "average review score 64.0 is below the threshold 70"
    )
    expect_live(page)
    screenshot(page, "02-notifications")

    admin = signed_in(new_page, "admin")
    nav(admin, "Members")
    row = admin.locator(f'tr[data-email="{email("labeler2")}"]')
    row.get_by_label(f"Role of {email('labeler2')}").select_option(label="Reviewer")
    row.get_by_role("button", name="Change").click()
    expect(admin.locator("#messages .message")).to_have_text(
        [f"{email('labeler2')} is now Reviewer."]
    )
    expect(page.locator("#messages .message[data-live]")).to_have_text(
        "Your role in Vision is now Reviewer."
    )
    screenshot(page, "03-live-role-change")
