"""Projects in a real browser: create a project with an ontology, send a batch from a
dataset, see the overview counts, filter the data rows tab and change priorities.

Runs against the demo data (``seed_demo``: ontology "Street objects", dataset "Street cams"
with 24 image rows) served by the real ASGI app; screenshots land in ARTIFACTS_DIR.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Task
from labelhub.projects.models import Project
from tests.browser.support import ADMIN_EMAIL, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]


def test_create_project_send_batch_and_see_counts(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(page.locator("main h1")).to_have_text("Vision")  # the busiest workspace
    page.locator("nav.sidenav").get_by_role("link", name="Projects").click()
    expect(page.locator("main h1")).to_have_text("Projects")
    expect(page.locator('tr[data-project="Street scenes"]')).to_be_visible()
    screenshot(page, "01-project-list")

    form = page.get_by_test_id("project-form")
    form.get_by_label("Name").fill("Night drives")
    form.get_by_label("Media type (fixed once created)").select_option(label="Image")
    form.get_by_label("Ontology").select_option(label="Street objects")
    form.get_by_label("cars").check()
    form.get_by_role("button", name="Create project").click()
    expect(page.locator("main h1")).to_contain_text("Night drives")
    expect(page.locator("#messages .message")).to_have_text(["Project Night drives created."])
    expect(page.locator('[data-status="to_label"] .tile-value')).to_have_text("0")
    screenshot(page, "02-new-project-overview")

    page.locator("nav.tabs").get_by_role("link", name="Batches").click()
    batch = page.get_by_test_id("batch-form")
    batch.get_by_label("Name").fill("Night 1")
    batch.get_by_label("Source").select_option(label="From a dataset")
    batch.get_by_label("Dataset").select_option(label="Street cams")
    batch.get_by_label("Sample").select_option(label="Oldest N")
    batch.get_by_label("N", exact=True).fill("5")
    batch.get_by_label("Priority (1 highest … 5)").fill("2")
    batch.get_by_role("button", name="Create batch").click()
    expect(page.locator("#messages .message")).to_have_text(["Batch Night 1: 5 data rows added."])
    row = page.locator('tr[data-batch="Night 1"]')
    expect(row.locator("td")).to_have_text(
        ["Night 1", "2", "5", "5", "0", "off", row.locator("td").nth(6).inner_text()]
    )
    screenshot(page, "03-batch-created")

    page.locator("nav.tabs").get_by_role("link", name="Overview").click()
    expect(page.locator('[data-status="to_label"] .tile-value')).to_have_text("5")
    expect(page.locator('[data-status="done"] .tile-value')).to_have_text("0")
    screenshot(page, "04-overview-counts")

    page.locator("nav.tabs").get_by_role("link", name="Data rows").click()
    table = page.get_by_test_id("data-rows-table")
    expect(table.locator("tbody tr")).to_have_count(5)
    page.get_by_label("Status").select_option(label="Done")
    page.get_by_role("button", name="Filter").click()
    expect(table.locator("tbody tr")).to_have_text(["No data rows match."])
    page.get_by_label("Combine").select_option(label="Match any (OR)")
    page.get_by_label("Global key").fill(
        Task.objects.filter(project__name="Night drives").order_by("id").first().data_row.global_key
    )
    page.get_by_role("button", name="Filter").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    screenshot(page, "05-data-rows-or-filter")

    page.goto(page.url.split("?")[0])
    boxes = table.locator('tbody input[type="checkbox"]')
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_label("Set priority of selected rows to").select_option("1")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#messages .message")).to_have_text(["Priority changed for 2 data rows."])
    project = Project.objects.get(name="Night drives")
    assert sorted(Task.objects.filter(project=project).values_list("priority", flat=True)) == [
        1,
        1,
        2,
        2,
        2,
    ]
    screenshot(page, "06-priorities-changed")

    page.locator("nav.tabs").get_by_role("link", name="Settings").click()
    delete = page.get_by_test_id("delete-form")
    delete.get_by_label("Type Night drives to confirm").fill("night drives")
    delete.get_by_role("button", name="Delete project").click()
    expect(page.get_by_test_id("delete-form").locator(".field-error")).to_have_text(
        "Type the project's name to confirm."
    )
    assert Project.objects.filter(name="Night drives").exists()
    screenshot(page, "07-delete-needs-the-name")
