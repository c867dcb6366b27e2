"""Datasets in a real browser: an admin creates a dataset, uploads a small CSV with one bad
row, sees the created count and the error row, filters the data row table, and deletes the
dataset by typing its name (a wrong name first: refused beside the field, nothing deleted).

Runs against the demo data (``seed_demo``) served by the real ASGI app; see conftest.py.
Screenshots of each step land in ARTIFACTS_DIR. Row data URLs point at example.com hosts
and are only linked, never loaded.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from labelhub.projects.models import DataRow, Dataset
from tests.browser.support import ADMIN_EMAIL, run_in_thread, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]

CSV = (
    "row_data,global_key,external_id,metadata.camera,metadata.split\n"
    "https://cdn.example.com/harbour/1.jpg,harbour-1,H-1,north,train\n"
    "https://cdn.example.com/harbour/2.jpg,harbour-2,H-2,south,valid\n"
    "ftp://cdn.example.com/harbour/3.jpg,harbour-3,H-3,north,test\n"
    "https://cdn.example.com/harbour/4.jpg,harbour-4,H-4,north,train\n"
)


def heading(page: Page):
    return page.locator("main h1")


def messages(page: Page):
    return page.locator("#messages .message")


def table_keys(page: Page):
    return page.get_by_test_id("data-rows").locator("tbody tr td:first-child")


def test_admin_creates_uploads_filters_and_deletes_a_dataset(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(heading(page)).to_have_text("Vision")  # sign-in lands in the busiest workspace

    # --- the list, with the demo datasets ---------------------------------------------------
    page.locator("nav.sidenav").get_by_role("link", name="Datasets").click()
    expect(heading(page)).to_have_text("Datasets")
    expect(page.locator("nav.sidenav a.active")).to_have_text("Datasets")
    table = page.get_by_test_id("datasets-table")
    expect(table.locator("tbody tr td:first-child a")).to_have_text(["Receipts", "Street cams"])
    expect(table.locator('tr[data-dataset="Street cams"] td').nth(1)).to_have_text("24")
    screenshot(page, "01-datasets")

    # --- create -------------------------------------------------------------------------------
    form = page.get_by_test_id("dataset-form")
    form.get_by_label("Name").fill("Harbour cams")
    form.get_by_label("Description").fill("Quay cameras, spring batch")
    form.get_by_role("button", name="Create dataset").click()
    expect(heading(page)).to_have_text("Harbour cams")
    expect(messages(page)).to_have_text(["Dataset Harbour cams created."])
    expect(page.get_by_test_id("row-count")).to_have_text("0")
    expect(table_keys(page)).to_have_text(["No data rows yet."])

    # --- upload a CSV with one bad row --------------------------------------------------------
    upload = page.get_by_test_id("upload-form")
    upload.get_by_label("File (CSV, JSON or NDJSON)").set_input_files(
        {"name": "harbour.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    upload.get_by_label("Media type of rows that give none").select_option(label="Image")
    upload.get_by_role("button", name="Upload").click()
    result = page.get_by_test_id("upload-result")
    expect(result.get_by_test_id("created-count")).to_have_text("3")
    expect(result.get_by_test_id("updated-count")).to_have_text("0")
    expect(result.get_by_test_id("error-count")).to_have_text("1")
    expect(result.locator("tbody tr td")).to_have_text(
        ["4", "harbour-3", "row_data: Only http and https URLs are supported."]
    )
    expect(page.get_by_test_id("row-count")).to_have_text("3")
    expect(table_keys(page)).to_have_text(["harbour-4", "harbour-2", "harbour-1"])
    row = page.get_by_test_id("data-rows").locator("tbody tr").nth(1)
    expect(row.locator("td")).to_have_text(
        [
            "harbour-2",
            "H-2",
            "Image",
            "https://cdn.example.com/harbour/2.jpg",
            "camera: southsplit: valid",  # two badges
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"),
        ]
    )
    expect(row.locator("td .badge")).to_have_text(["camera: south", "split: valid"])
    screenshot(page, "02-upload-result")

    # --- filter the table ---------------------------------------------------------------------
    filters = page.get_by_test_id("row-filters")
    filters.get_by_label("Metadata field").select_option("camera")
    filters.get_by_label("Value").fill("north")
    filters.get_by_role("button", name="Filter").click()
    expect(table_keys(page)).to_have_text(["harbour-4", "harbour-1"])
    expect(page).to_have_url(re.compile(r"metadata_field=camera&metadata_value=north"))
    filters = page.get_by_test_id("row-filters")
    filters.get_by_label("Global key").fill("harbour-1")
    filters.get_by_role("button", name="Filter").click()
    expect(table_keys(page)).to_have_text(["harbour-1"])
    screenshot(page, "03-filtered")
    page.get_by_test_id("row-filters").get_by_role("link", name="Clear").click()
    expect(table_keys(page)).to_have_text(["harbour-4", "harbour-2", "harbour-1"])

    # --- delete: the wrong name is refused beside the field -----------------------------------
    delete = page.get_by_test_id("delete-form")
    delete.get_by_label("Type the dataset's name to confirm").fill("harbour cams")
    delete.get_by_role("button", name="Delete dataset").click()
    delete = page.get_by_test_id("delete-form")
    expect(delete.locator(".field-error")).to_have_text(
        ["Type the dataset's name (Harbour cams) to delete it."]
    )
    expect(heading(page)).to_have_text("Harbour cams")
    assert run_in_thread(lambda: DataRow.objects.filter(dataset__name="Harbour cams").count()) == 3
    screenshot(page, "04-delete-refused")

    delete.get_by_label("Type the dataset's name to confirm").fill("Harbour cams")
    delete.get_by_role("button", name="Delete dataset").click()
    expect(heading(page)).to_have_text("Datasets")
    expect(messages(page)).to_have_text(["Dataset Harbour cams deleted (3 data rows)."])
    expect(page.get_by_test_id("datasets-table").locator("tbody tr td:first-child a")).to_have_text(
        ["Receipts", "Street cams"]
    )
    screenshot(page, "05-deleted")
    assert run_in_thread(lambda: Dataset.objects.filter(name="Harbour cams").exists()) is False


def test_demo_dataset_page_and_metadata_schema(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(page.locator("main h1")).to_have_text("Vision")  # the busiest workspace
    page.goto("/datasets/")
    page.get_by_role("link", name="Street cams").click()
    expect(heading(page)).to_have_text("Street cams")
    expect(page.get_by_test_id("row-count")).to_have_text("24")
    expect(table_keys(page)).to_have_count(24)
    expect(table_keys(page).first).to_have_text("street-cam-024")
    screenshot(page, "01-street-cams")
    page.get_by_role("link", name="← Datasets").click()
    page.get_by_role("link", name="Metadata schema").click()
    expect(heading(page)).to_have_text("Metadata schema")
    expect(page.get_by_test_id("metadata-table").locator("tbody tr td:first-child")).to_have_text(
        ["tag reserved", "split reserved", "captureDateTime reserved", "camera"]
    )
    screenshot(page, "02-metadata-schema")


def test_a_large_upload_runs_as_a_background_job(new_page, screenshot, settings):
    settings.DATA_ROWS_SYNC_LIMIT = 5  # the server runs in this process: it reads this
    settings.DATA_ROWS_CHUNK_SIZE = 3
    rows = "".join(f"https://cdn.example.com/q/{n}.jpg,q-{n}\n" for n in range(1, 8))
    csv_text = "row_data,global_key\n" + rows + "not-a-url,q-8\n"
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(page.locator("main h1")).to_have_text("Vision")  # the busiest workspace
    page.goto("/datasets/")
    page.get_by_role("link", name="Street cams").click()
    upload = page.get_by_test_id("upload-form")
    upload.get_by_label("File (CSV, JSON or NDJSON)").set_input_files(
        {"name": "quay.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}
    )
    upload.get_by_label("Media type of rows that give none").select_option(label="Image")
    upload.get_by_role("button", name="Upload").click()
    expect(messages(page)).to_have_text(
        ["8 rows are being added in the background; progress shows below."]
    )
    job = page.get_by_test_id("jobs").locator("tbody tr")
    expect(job.locator('[data-job-field="state"]')).to_have_text("Finished with errors")
    expect(job.locator("td").nth(2)).to_have_text("8 of 8 rows")
    expect(job.locator('[data-job-field="created"]')).to_have_text("7")
    expect(page.get_by_test_id("job-errors").locator("tbody td")).to_have_text(
        ["9", "q-8", "row_data: Image rows need an http(s) URL."]
    )
    expect(page.get_by_test_id("row-count")).to_have_text("31")
    screenshot(page, "01-background-upload")
