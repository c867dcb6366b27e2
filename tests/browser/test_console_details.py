"""Details a new user meets in the first hour, in a real browser over the demo data: the
batch form shows only the fields of the chosen source, the project settings' checkboxes sit
in their labels, the data rows tab shows thumbnails and links each row by its global key,
dataset rows open their page, and instructions read as formatted text.

Screenshots land in ARTIFACTS_DIR.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from labelhub.projects.models import Project
from tests.browser.support import ADMIN_EMAIL, sign_in, switch_workspace

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]


def open_project(page, tab: str = ""):
    sign_in(page, ADMIN_EMAIL)
    switch_workspace(page, "Vision")
    project = Project.objects.get(name="Street scenes")
    page.goto(f"/projects/{project.pk}/{tab}")
    return project


def test_batch_form_shows_the_fields_of_the_chosen_source(new_page, screenshot):
    page = new_page("admin")
    open_project(page, "batches/")
    form = page.get_by_test_id("batch-form")
    dataset, sample = form.get_by_label("Dataset"), form.get_by_label("Sample")
    count, keys = (
        form.get_by_label("N", exact=True),
        form.get_by_label("Global keys (one per line)"),
    )

    # From a dataset, all rows: no N, no global keys
    expect(form.get_by_label("Source")).to_have_value("dataset")
    expect(dataset).to_be_visible()
    expect(sample).to_be_visible()
    expect(count).to_be_hidden()
    expect(keys).to_be_hidden()
    screenshot(page, "01-batch-form-dataset")

    sample.select_option(label="Random N")
    expect(count).to_be_visible()
    screenshot(page, "02-batch-form-random-n")

    form.get_by_label("Source").select_option(label="By global keys")
    expect(keys).to_be_visible()
    for hidden in (dataset, sample, count):
        expect(hidden).to_be_hidden()
    screenshot(page, "03-batch-form-global-keys")

    # the server answers (the demo's rows are all in batches already) with the form as sent
    form.get_by_label("Name").fill("Keys batch")
    keys.fill("street-cam-020\nstreet-cam-021")
    form.get_by_role("button", name="Create batch").click()
    form = page.get_by_test_id("batch-form")
    expect(form.locator(".form-errors")).to_contain_text("already in another batch")
    expect(form.get_by_label("Global keys (one per line)")).to_be_visible()
    expect(form.get_by_label("Dataset")).to_be_hidden()


def test_settings_checkboxes_sit_beside_their_labels(new_page, screenshot):
    page = new_page("admin")
    open_project(page, "settings/")
    form = page.get_by_test_id("settings-form")
    box = form.get_by_label("Labelers may skip")
    expect(box).to_have_attribute("type", "checkbox")
    label = form.locator('label[for="id_allow_skip"]')
    box_at, label_at = box.bounding_box(), label.bounding_box()
    # on the label's line, not on a line of its own under it
    assert abs((box_at["y"] + box_at["height"] / 2) - (label_at["y"] + label_at["height"] / 2)) < 6
    was = box.is_checked()
    label.get_by_text("Labelers may skip").click()  # the words toggle the box
    expect(box).to_be_checked(checked=not was)
    screenshot(page, "04-settings-checkboxes")

    # the instructions form shows the field of the chosen kind only
    kind = page.get_by_label("Instructions", exact=True)
    expect(kind).to_have_value("markdown")
    expect(page.get_by_label("Markdown")).to_be_visible()
    expect(page.get_by_label("Video link")).to_be_hidden()
    expect(page.get_by_label("PDF or HTML file")).to_be_hidden()
    kind.select_option(label="Video link")
    expect(page.get_by_label("Video link")).to_be_visible()
    expect(page.get_by_label("Markdown")).to_be_hidden()
    kind.select_option(label="None")
    expect(
        page.get_by_label("Labelers must acknowledge before labeling (and after changes)")
    ).to_be_hidden()


def test_data_rows_show_thumbnails_and_reach_their_pages(new_page, screenshot):
    page = new_page("admin")
    project = open_project(page, "data-rows/")
    table = page.get_by_test_id("data-rows-table")
    first = table.locator('tr[data-key="street-cam-001"]')
    thumb = first.locator("img.thumb")
    expect(thumb).to_have_attribute("loading", "lazy")
    thumb.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    assert thumb.bounding_box()["width"] == 64 and thumb.bounding_box()["height"] == 48
    names = table.locator(".row-name")
    expect(names.first).to_have_text("street-cam-001")
    screenshot(page, "05-data-rows-thumbnails")

    first.get_by_role("link", name="street-cam-001").click()
    expect(page.locator("h2.row-title code")).to_have_text("street-cam-001")
    details = page.get_by_test_id("row-details")
    expect(details.get_by_test_id("row-metadata")).to_contain_text("mediaAttributes")
    expect(details.get_by_test_id("row-metadata")).to_contain_text("width640height480")
    screenshot(page, "06-data-row-page-metadata")

    # the dataset's page of the same row, and back to the project from it
    details.get_by_role("link", name="Street cams").click()
    expect(page.locator("h1 code")).to_have_text("street-cam-001")
    expect(page.get_by_test_id("row-metadata")).to_contain_text("split")
    screenshot(page, "07-dataset-row-page")
    page.get_by_test_id("row-projects").get_by_role("link", name="Street scenes").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/data-rows/[0-9a-f-]+/$"))
    expect(page.locator("h2.row-title code")).to_have_text("street-cam-001")


def test_dataset_rows_open_their_page(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    switch_workspace(page, "Vision")
    page.locator("nav.sidenav").get_by_role("link", name="Datasets").click()
    page.get_by_role("link", name="Street cams").click()
    table = page.get_by_test_id("data-rows")
    first = table.locator("img.thumb").first
    expect(first).to_have_attribute("width", "64")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
    )
    screenshot(page, "08-dataset-thumbnails")
    table.get_by_role("link", name="street-cam-024").click()
    expect(page.locator("h1 code")).to_have_text("street-cam-024")
    expect(page.get_by_test_id("asset").locator("img")).to_be_visible()


def test_overview_shows_instructions_as_formatted_text(new_page, screenshot):
    page = new_page("admin")
    open_project(page)
    instructions = page.get_by_test_id("instructions")
    expect(instructions.locator("h3")).to_have_text("Street scenes")
    expect(instructions).not_to_contain_text("# Street scenes")
    screenshot(page, "09-overview-instructions")


def test_role_editor_offers_only_permissions_that_exist(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    switch_workspace(page, "Vision")
    page.goto("/roles/")
    form = page.get_by_test_id("role-form")
    usage = form.locator('input[type="checkbox"][value="view_usage"]')
    export = form.locator('input[type="checkbox"][value="export_labels"]')
    expect(usage).to_be_disabled()
    expect(export).to_be_disabled()
    expect(form.locator("label", has_text="View usage").locator(".coming")).to_have_text(
        "coming with usage figures"
    )
    expect(form.locator('input[type="checkbox"][value="move_tasks"]')).to_be_enabled()
    # project scope locks workspace permissions; back to workspace, the coming ones stay off
    form.get_by_label("Scope").select_option(label="Project")
    form.get_by_label("Scope").select_option(label="Workspace")
    expect(usage).to_be_disabled()
    expect(form.locator('input[type="checkbox"][value="manage_members"]')).to_be_enabled()
    screenshot(page, "10-role-editor-coming")


def test_audit_log_reads_changes_and_the_address(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    switch_workspace(page, "Vision")
    page.goto("/members/")
    page.get_by_label("Role of labeler2@demo.labelhub.local").select_option(label="Reviewer")
    page.get_by_label("Role of labeler2@demo.labelhub.local").locator("xpath=..").get_by_role(
        "button", name="Change"
    ).click()
    page.goto("/audit-log/")
    newest = page.get_by_test_id("audit-table").locator("tbody tr").first
    expect(newest.locator("td").nth(2)).to_have_text("member.role_changed")
    expect(newest.locator(".changes li.change-changed").last).to_have_text(
        "role label Labeler → Reviewer"
    )
    expect(newest.locator("td.ip")).to_have_text("127.0.0.1")  # the request's address
    expect(page.get_by_test_id("audit-table").locator("code.json")).to_have_count(0)
    screenshot(page, "11-audit-log", full_page=False)
