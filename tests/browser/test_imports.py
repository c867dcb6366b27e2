"""Label imports in a real browser: the admin opens the *Import labels* tab of the demo
project "Street scenes", is refused an empty upload beside the file field, uploads an NDJSON
file with valid and invalid lines, lands on the job page with the counts and the error
table, filters it by an error name; then watches a second import's progress bar move live
(websocket events, no reload) to its final state, when the page reloads once to show the
errors. The demo's own imports (pre-labels on street-cam-004…013) are already listed.

Runs against the demo data (``seed_demo``: ontology "Street objects" with Car/Road/
Pedestrian and Weather, rows ``street-cam-001``… in batches of the project) served by the
real ASGI app; screenshots land in ARTIFACTS_DIR.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest
from playwright.sync_api import Page, expect

from labelhub.accounts.models import User
from labelhub.core.live import project_group, send_event_now
from labelhub.imports import events, services, tasks
from labelhub.imports.models import ImportJob
from labelhub.labeling.models import Annotation
from labelhub.projects.models import Project
from tests.browser.support import ADMIN_EMAIL, expect_live, run_in_thread, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]


def lines() -> bytes:
    """Lines 1, 2 and 6 are valid; 3 names a missing row, 4 is not JSON, 5 an unknown tool."""
    box = {"top": 40, "left": 60, "height": 120, "width": 200}
    rows = [
        {"uuid": "car-1", "dataRow": {"globalKey": "street-cam-001"}, "name": "Car", "bbox": box},
        {
            "uuid": "weather-1",
            "dataRow": {"globalKey": "street-cam-002"},
            "name": "Weather",
            "answer": [{"name": "rain"}],
        },
        {"uuid": "car-2", "dataRow": {"globalKey": "no-such-row"}, "name": "Car", "bbox": box},
        '{"uuid": "broken",',
        {"uuid": "bike-1", "dataRow": {"globalKey": "street-cam-003"}, "name": "Bike", "bbox": box},
        {
            "uuid": "ped-1",
            "dataRow": {"globalKey": "street-cam-003"},
            "name": "Pedestrian",
            "point": {"x": 10, "y": 20},
        },
    ]
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()


def queued_import(project, name: str):
    """The admin's pre-label import, created (as a script would) but left queued: the test
    runs it by hand."""
    admin = User.objects.get(email=ADMIN_EMAIL)
    with mock.patch.object(tasks.run_import_job_task, "delay"):
        return run_in_thread(
            services.import_job_create,
            project=project,
            actor=admin,
            name=name,
            kind="prelabels",
            payload=lines(),
        )


def summary(page: Page):
    return page.get_by_test_id("import-job")


def error_cells(page: Page, column: int):
    return page.get_by_test_id("errors-table").locator(f"tbody tr td:nth-child({column})")


def test_admin_imports_labels_and_reads_the_errors(new_page, screenshot, settings):
    settings.IMPORTS_CHUNK_SIZE = 2
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(page.locator("main h1")).to_have_text("Vision")  # the busiest workspace
    project = Project.objects.get(name="Street scenes")

    # --- the tab: empty list, form, code samples -------------------------------------------
    page.goto(f"/projects/{project.pk}/")
    page.locator("nav.tabs").get_by_role("link", name="Import labels").click()
    expect(page.locator("nav.tabs a.active")).to_have_text("Import labels")
    # the demo's own imports (seed_demo) are listed
    expect(page.get_by_test_id("import-jobs-table").locator("tbody tr")).to_have_count(3)
    expect(page.locator('tr[data-job-name="Model v1 pre-labels"]')).to_be_visible()
    expect(page.get_by_test_id("sample-curl")).to_contain_text(f"/api/v1/projects/{project.pk}/")
    expect(page.get_by_test_id("sample-python")).to_contain_text('"name": "Car"')
    screenshot(page, "01-imports-tab")

    # --- an upload without a file is refused beside the field ---------------------------------
    form = page.get_by_test_id("import-form")
    form.get_by_label("Name").fill("Model v1")
    form.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-form").locator(".field-error")).to_have_text(
        ["Choose an NDJSON file to import."]
    )
    expect(page.get_by_test_id("import-form").get_by_label("Name")).to_have_value("Model v1")
    assert not ImportJob.objects.filter(name="Model v1").exists()
    screenshot(page, "02-missing-file")

    # --- upload: lands on the finished job -------------------------------------------------------
    form = page.get_by_test_id("import-form")
    form.get_by_label("NDJSON file").set_input_files(
        {"name": "model-v1.ndjson", "mimeType": "application/x-ndjson", "buffer": lines()}
    )
    form.get_by_label("Kind").select_option(label="Pre-labels (MAL)")
    form.get_by_role("button", name="Import").click()
    expect(summary(page).get_by_test_id("job-name")).to_have_text("Model v1")
    expect(summary(page).get_by_test_id("job-state")).to_have_text("Finished with errors")
    progress = summary(page).get_by_test_id("job-progress")
    expect(progress).to_have_attribute("value", "6")
    expect(progress).to_have_attribute("max", "6")
    expect(summary(page).locator("dl dd")).to_have_text(["6", "3", "3", "3", "0"])
    expect(error_cells(page, 1)).to_have_text(["3", "4", "5"])
    expect(error_cells(page, 4)).to_have_text(["DataRowNotFound", "InvalidJson", "FeatureNotFound"])
    assert Annotation.objects.filter(job__name="Model v1").count() == 3
    screenshot(page, "03-job-with-errors")

    # --- filter by error name -------------------------------------------------------------------
    with page.expect_navigation():
        page.get_by_label("Error").select_option("InvalidJson")
    expect(error_cells(page, 1)).to_have_text(["4"])
    expect(error_cells(page, 4)).to_have_text(["InvalidJson"])
    expect(page.locator("#error-name option:checked")).to_have_text("InvalidJson (1)")
    screenshot(page, "04-errors-filtered")

    # --- the list shows the job -------------------------------------------------------------
    page.get_by_role("link", name="← Imports").click()
    row = page.locator('tr[data-job-name="Model v1"] td')
    expect(row.nth(3)).to_have_text("Finished with errors")
    expect(row.nth(5)).to_have_text("3")
    screenshot(page, "05-job-list")

    # --- live: a queued import moves without reload, then reloads once when it ends -----------
    job = queued_import(project, "Model v2")
    page.goto(f"/projects/{project.pk}/imports/{job.pk}/")
    expect_live(page)
    expect(summary(page)).to_have_attribute("data-live-subscribed", "1")
    expect(summary(page).get_by_test_id("job-state")).to_have_text("Queued")
    expect(page.get_by_test_id("job-errors")).to_have_count(0)
    # a mid-way event, as the worker sends after each chunk
    page.evaluate("window.__notReloaded = true")
    halfway = ImportJob.objects.get(pk=job.pk)
    halfway.state, halfway.processed, halfway.lines_read, halfway.lines_valid = "running", 2, 2, 2
    run_in_thread(send_event_now, events.import_job_event(halfway), [project_group(project.pk)])
    expect(summary(page).get_by_test_id("job-state")).to_have_text("Running")
    expect(summary(page).get_by_test_id("job-progress")).to_have_attribute("value", "2")
    expect(summary(page).get_by_test_id("job-processed")).to_have_text("2")
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "06-live-progress")

    run_in_thread(services.import_job_run, workspace_id=project.workspace_id, job_id=job.pk)
    expect(page.get_by_test_id("job-errors")).to_be_visible()  # after the one reload
    assert page.evaluate("window.__notReloaded === undefined") is True
    expect(summary(page).get_by_test_id("job-state")).to_have_text("Finished with errors")
    expect(summary(page).get_by_test_id("job-progress")).to_have_attribute("value", "6")
    expect(error_cells(page, 4)).to_have_text(["DataRowNotFound", "InvalidJson", "FeatureNotFound"])
    screenshot(page, "07-live-finished")


def notices(page: Page):
    """Every notice a live event put on the page: banners and notification toasts."""
    return page.locator('#messages .message[data-live], [data-testid="notification-toast"]')


def test_an_import_started_elsewhere_appears_live_and_ends_with_one_notice(new_page, screenshot):
    """One finished import showed three identical notices (the event reached the socket
    once through the importer's group and once through the project's, and the importer's
    notification popped a toast), and an import started elsewhere stayed out of the table
    until a reload."""
    project = Project.objects.get(name="Street scenes")
    importer = new_page("admin")
    sign_in(importer, ADMIN_EMAIL)
    viewer = new_page("manager")
    sign_in(viewer, "manager@demo.labelhub.local")
    for page in (importer, viewer):
        page.goto(f"/projects/{project.pk}/imports/")
        expect_live(page)
        expect(page.get_by_test_id("import-jobs")).to_have_attribute("data-live-subscribed", "1")
        expect(page.get_by_test_id("import-jobs-table").locator("tbody tr")).to_have_count(3)
        page.evaluate("window.__notReloaded = true")

    # the admin starts an import from another client (a script, through the service)
    job = queued_import(project, "From a script")
    for page in (importer, viewer):
        row = page.locator('tr[data-job-name="From a script"]')
        expect(row).to_be_visible()
        expect(row.locator('[data-job-field="state"]')).to_have_text("Queued")
        expect(
            page.get_by_test_id("import-jobs-table").locator("tbody tr").first
        ).to_have_attribute("data-job-name", "From a script")
    screenshot(importer, "08-started-elsewhere")

    run_in_thread(services.import_job_run, workspace_id=project.workspace_id, job_id=job.pk)
    for page in (importer, viewer):
        row = page.locator('tr[data-job-name="From a script"]')
        expect(row.locator('[data-job-field="state"]')).to_have_text("Finished with errors")
    # the importer's notification is their one notice; the other viewer gets one banner
    expect(importer.get_by_test_id("notification-toast")).to_have_count(1)
    expect(viewer.locator("#messages .message[data-live]")).to_have_count(1)
    importer.wait_for_timeout(1500)  # anything else the events would add has arrived by now
    expect(notices(importer)).to_have_count(1)
    expect(notices(viewer)).to_have_text(
        ["Import From a script finished: 3 valid, 3 invalid, 3 written."]
    )
    for page in (importer, viewer):
        assert page.evaluate("window.__notReloaded") is True
    screenshot(importer, "09-one-notice-importer")
    screenshot(viewer, "10-one-notice-viewer")
