"""Console pages of datasets: list and create, the dataset page (table, filters, upload with
per-row errors, background uploads, rename, typed-name delete) and the metadata schema page.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from labelhub.core.models import AuditLogEntry
from labelhub.projects.models import DataRow, DataRowJob, Dataset, MetadataField
from labelhub.projects.services import datasets as services
from labelhub.projects.services.datasets import InputRow
from tests.access.test_views import dom, messages

pytestmark = pytest.mark.django_db

CSV = (
    "row_data,global_key,external_id,media_type,metadata.split,metadata.camera\r\n"
    "https://cdn.example.com/1.jpg,cam-1,e1,image,train,north\r\n"
    "https://cdn.example.com/2.jpg,cam-2,,image,valid,east\r\n"
    "Receipt total 12.50,rec-1,,text,,\r\n"
)


@pytest.fixture
def web(admin, workspace) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def labeler_web(labeler) -> Client:
    client = Client()
    client.force_login(labeler)
    return client


@pytest.fixture
def dataset(workspace, admin):
    return services.dataset_create(workspace=workspace, actor=admin, name="Street cams")


@pytest.fixture
def camera(workspace, admin):
    return services.metadata_field_create(
        workspace=workspace, actor=admin, name="camera", kind="enum", options=["north", "south"]
    )


def upload(client, dataset, name, content, media_type=""):
    return client.post(
        f"/datasets/{dataset.pk}/",
        {"action": "upload", "media_type": media_type, "file": SimpleUploadedFile(name, content)},
    )


def table_keys(doc):
    return [
        tr.all("td")[0].text for tr in doc.one("table", data_testid="data-rows").all("tr", None)[1:]
    ]


# --- list -----------------------------------------------------------------------------------


def test_list_and_create(web, workspace, dataset):
    doc = dom(web.get("/datasets/"))
    rows = doc.one("table", data_testid="datasets-table").all("tr")[1:]
    assert [r.texts("td")[:2] for r in rows] == [["Street cams", "0"]]
    assert doc.one("nav").one("a", cls="active").text == "Datasets"

    r = web.post("/datasets/", {"name": "street CAMS"})
    doc = dom(r)
    assert (
        doc.one("form", data_testid="dataset-form")
        .one("div", cls="has-error")
        .text.endswith("A dataset with this name already exists in the workspace.")
    )
    r = web.post("/datasets/", {"name": "Receipts", "description": "Scans"})
    created = Dataset.objects.get(name="Receipts")
    assert r.status_code == 302 and r["Location"] == f"/datasets/{created.pk}/"
    assert messages(dom(web.get(r["Location"]))) == ["Dataset Receipts created."]


def test_labeler_sees_datasets_without_forms(labeler_web, dataset):
    doc = dom(labeler_web.get("/datasets/"))
    assert doc.all("form", data_testid="dataset-form") == []
    page = dom(labeler_web.get(f"/datasets/{dataset.pk}/"))
    assert page.all("form", data_testid="upload-form") == []
    assert page.all("form", data_testid="delete-form") == []
    r = labeler_web.post("/datasets/", {"name": "Sneaky"})
    assert r.status_code == 403
    assert "You do not have permission to perform this action." in r.content.decode()
    r = labeler_web.post(f"/datasets/{dataset.pk}/", {"action": "delete", "confirm": "Street cams"})
    assert r.status_code == 403
    assert list(Dataset.objects.values_list("name", flat=True)) == ["Street cams"]


# --- the dataset page -----------------------------------------------------------------------


def test_csv_upload_shows_counts_and_row_errors(web, dataset, camera):
    r = upload(web, dataset, "rows.csv", CSV.encode())
    assert r.status_code == 200
    doc = dom(r)
    result = doc.one("section", data_testid="upload-result")
    assert result.one("strong", data_testid="created-count").text == "2"
    assert result.one("strong", data_testid="updated-count").text == "0"
    assert result.one("strong", data_testid="error-count").text == "1"
    assert [tr.texts("td") for tr in result.one("table").all("tr")[1:]] == [
        ["3", "cam-2", "metadata.camera: Choose one of north, south."]
    ]
    assert doc.one("strong", data_testid="row-count").text == "2"
    assert table_keys(doc) == ["rec-1", "cam-1"]
    first = doc.one("tr", data_row_id=str(DataRow.objects.get(global_key="cam-1").pk))
    assert first.texts("td")[1:3] == ["e1", "Image"]
    assert first.texts("span", cls="badge") == ["camera: north", "split: train"]
    # the row's name opens its page; the row data links the asset
    assert (
        first.all("a")[0].attrs["href"]
        == f"/datasets/{dataset.pk}/rows/{first.attrs['data-row-id']}/"
    )
    assert first.all("a")[1].attrs["href"] == "https://cdn.example.com/1.jpg"


def test_upload_again_updates_by_global_key(web, dataset, camera):
    upload(web, dataset, "rows.csv", CSV.encode())
    again = "row_data,global_key\r\nhttps://cdn.example.com/1b.jpg,cam-1\r\n"
    doc = dom(upload(web, dataset, "again.csv", again.encode(), media_type="image"))
    assert doc.one("strong", data_testid="updated-count").text == "1"
    assert DataRow.objects.get(global_key="cam-1").row_data == "https://cdn.example.com/1b.jpg"


def test_ndjson_and_json_files(web, dataset):
    ndjson = b'{"row_data": "hello", "global_key": "n1"}\n{"row_data": \n'
    doc = dom(upload(web, dataset, "rows.ndjson", ndjson, media_type="text"))
    assert doc.one("strong", data_testid="created-count").text == "1"
    assert doc.one("table", data_testid="upload-errors").all("tr")[1].texts("td") == [
        "2",
        "—",
        "Not valid JSON: Expecting value (column 14).",
    ]
    doc = dom(upload(web, dataset, "rows.json", b'[{"row_data": "bye", "media_type": "text"}]'))
    assert doc.one("strong", data_testid="created-count").text == "1"
    assert DataRow.objects.count() == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "rows.csv",
            b"row_data,colour\r\nx,y\r\n",
            "Unknown column: colour. Columns: row_data, global_key, external_id, media_type and metadata.<field name>.",
        ),
        ("rows.csv", b"\xff\xfe\x00", "The file must be UTF-8 text."),
        ("rows.json", b"[]", "Give at least one row."),
        (
            "rows.json",
            b'[{"row_data": "x", "global_key": "\\ud800"}]',
            "Not valid JSON: a string holds a lone surrogate (\\ud800 to \\udfff without its "
            "pair), which is not valid Unicode: line 1 column 35.",
        ),
        ("rows.json", b"[" * 100_000, "Not valid JSON: nested deeper than 64 levels."),
    ],
)
def test_unreadable_files_say_why_beside_the_field(web, dataset, name, content, message):
    doc = dom(upload(web, dataset, name, content))
    form = doc.one("form", data_testid="upload-form")
    shown = form.texts("p", cls="field-error") + form.texts("div", cls="form-errors")
    assert shown == [message]
    assert DataRow.objects.count() == 0


def test_missing_file(web, dataset):
    doc = dom(web.post(f"/datasets/{dataset.pk}/", {"action": "upload"}))
    assert doc.one("form", data_testid="upload-form").texts("p", cls="field-error") == [
        "Choose a file to upload."
    ]


def test_large_upload_goes_to_a_job_with_progress(
    web, dataset, settings, django_capture_on_commit_callbacks
):
    settings.DATA_ROWS_SYNC_LIMIT = 2
    settings.DATA_ROWS_CHUNK_SIZE = 2
    content = "row_data\r\n" + "".join(f"https://cdn.example.com/{i}.jpg\r\n" for i in range(4))
    content += "not a url\r\n"
    with django_capture_on_commit_callbacks(execute=True):
        r = upload(web, dataset, "big.csv", content.encode(), media_type="image")
    job = DataRowJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/datasets/{dataset.pk}/?job={job.pk}"
    doc = dom(web.get(r["Location"]))
    assert messages(doc) == ["5 rows are being added in the background; progress shows below."]
    row = doc.one("tr", data_job_id=str(job.pk))
    assert row.one("span", data_job_field="state").text == "Finished with errors"
    assert row.all("td")[2].text == "5 of 5 rows"
    assert [row.one("td", data_job_field=f).text for f in ("created", "updated")] == ["4", "0"]
    assert row.one("span", data_job_field="error_count").text == "1"
    errors = doc.one("section", data_testid="job-errors")
    assert [tr.texts("td") for tr in errors.one("table").all("tr")[1:]] == [
        ["6", "—", "row_data: Image rows need an http(s) URL."]
    ]
    assert doc.all("p", data_testid="job-running") == []


def test_running_job_says_so(web, dataset, workspace, admin, settings):
    job = DataRowJob.objects.create(workspace=workspace, dataset=dataset, total=10, processed=4)
    DataRowJob.objects.filter(pk=job.pk).update(state="running")
    doc = dom(web.get(f"/datasets/{dataset.pk}/"))
    assert doc.one("tr", data_job_id=str(job.pk)).all("td")[2].text == "4 of 10 rows"
    assert doc.one("p", data_testid="job-running").text.startswith("An upload is running")


@pytest.fixture
def filled(dataset, workspace, admin, camera):
    rows = [
        {
            "row_data": "https://cdn.example.com/a.jpg",
            "media_type": "image",
            "global_key": "a",
            "external_id": "x1",
            "metadata": {"camera": "north"},
        },
        {
            "row_data": "https://cdn.example.com/b.jpg",
            "media_type": "image",
            "global_key": "b",
            "metadata": {"camera": "south"},
        },
        {"row_data": "Plain words", "media_type": "text", "global_key": "c"},
    ]
    services.data_rows_create(
        workspace=workspace,
        actor=admin,
        dataset=dataset,
        rows=[InputRow(i, r) for i, r in enumerate(rows, 1)],
    )
    dataset.refresh_from_db()
    return dataset


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("", ["c", "b", "a"]),
        ("?global_key=b", ["b"]),
        ("?external_id=x1", ["a"]),
        ("?media_type=text", ["c"]),
        ("?metadata_field=camera&metadata_value=north", ["a"]),
        ("?metadata_field=camera&metadata_value=", ["c", "b", "a"]),
        ("?global_key=zzz", ["No data row matches."]),
    ],
)
def test_table_filters(web, filled, query, keys):
    assert table_keys(dom(web.get(f"/datasets/{filled.pk}/{query}"))) == keys


def test_bad_filter_value_is_explained(web, filled):
    doc = dom(web.get(f"/datasets/{filled.pk}/?metadata_field=camera&metadata_value=east"))
    assert doc.one("div", data_testid="filter-error").text == (
        "metadata.camera: Choose one of north, south."
    )
    assert table_keys(doc) == ["c", "b", "a"]


def test_table_pages_through_the_row_count(web, filled, monkeypatch):
    monkeypatch.setattr("labelhub.projects.views.datasets.ROWS_PER_PAGE", 2)
    with CaptureQueriesContext(connection) as queries:
        doc = dom(web.get(f"/datasets/{filled.pk}/"))
    # Unfiltered, the pager trusts Dataset.row_count: no COUNT(*) over the data rows.
    assert [q["sql"] for q in queries if "COUNT(" in q["sql"] and "datarow" in q["sql"]] == []
    assert table_keys(doc) == ["c", "b"]
    assert doc.one("nav", cls="pager").text == "Page 1 of 2 Next →"
    doc = dom(web.get(f"/datasets/{filled.pk}/?page=2"))
    assert table_keys(doc) == ["a"]


def test_rename(web, dataset):
    r = web.post(f"/datasets/{dataset.pk}/", {"action": "rename", "name": "Cams"})
    assert r.status_code == 302
    dataset.refresh_from_db()
    assert dataset.name == "Cams"
    services.dataset_create(workspace=dataset.workspace, actor=dataset.created_by, name="Other")
    doc = dom(web.post(f"/datasets/{dataset.pk}/", {"action": "rename", "name": "other"}))
    assert doc.one("form", data_testid="rename-form").texts("p", cls="field-error") == [
        "A dataset with this name already exists in the workspace."
    ]


def test_delete_needs_the_typed_name(web, filled):
    doc = dom(web.post(f"/datasets/{filled.pk}/", {"action": "delete", "confirm": "street cams"}))
    assert doc.one("form", data_testid="delete-form").texts("p", cls="field-error") == [
        "Type the dataset's name (Street cams) to delete it."
    ]
    assert (Dataset.objects.count(), DataRow.objects.count()) == (1, 3)
    doc = dom(web.post(f"/datasets/{filled.pk}/", {"action": "delete", "confirm": ""}))
    assert doc.one("form", data_testid="delete-form").texts("p", cls="field-error") == [
        "Type the dataset's name to delete it."
    ]
    r = web.post(f"/datasets/{filled.pk}/", {"action": "delete", "confirm": "Street cams"})
    assert r.status_code == 302 and r["Location"] == "/datasets/"
    assert messages(dom(web.get("/datasets/"))) == ["Dataset Street cams deleted (3 data rows)."]
    assert (Dataset.objects.count(), DataRow.objects.count()) == (0, 0)
    assert AuditLogEntry.objects.filter(verb="dataset.deleted").count() == 1


def test_other_workspace_dataset_is_not_found(web, other_workspace, other_admin):
    foreign = services.dataset_create(workspace=other_workspace, actor=other_admin, name="Theirs")
    assert web.get(f"/datasets/{foreign.pk}/").status_code == 404
    r = web.post(f"/datasets/{foreign.pk}/", {"action": "delete", "confirm": "Theirs"})
    assert r.status_code == 404
    assert web.get("/datasets/not-an-id/").status_code == 404
    assert Dataset.objects.filter(pk=foreign.pk).exists()


# --- metadata schema page -------------------------------------------------------------------


def test_metadata_page(web, workspace, dataset):
    doc = dom(web.get("/metadata/"))
    assert [
        tr.texts("td")[:2] for tr in doc.one("table", data_testid="metadata-table").all("tr")[1:]
    ] == [
        ["tag reserved", "string"],
        ["split reserved", "enum"],
        ["captureDateTime reserved", "datetime"],
    ]
    r = web.post(
        "/metadata/",
        {"action": "create", "name": "camera", "kind": "enum", "options": "north, south"},
    )
    assert r.status_code == 302
    created = MetadataField.objects.get()
    assert (created.kind, created.options) == ("enum", ["north", "south"])
    doc = dom(web.post("/metadata/", {"action": "create", "name": "split", "kind": "string"}))
    assert doc.one("form", data_testid="metadata-form").texts("p", cls="field-error") == [
        "split is a reserved field; it always exists."
    ]
    services.data_rows_create(
        workspace=workspace,
        actor=dataset.created_by,
        dataset=dataset,
        rows=[
            InputRow(1, {"row_data": "t", "media_type": "text", "metadata": {"camera": "north"}})
        ],
    )
    r = web.post("/metadata/", {"action": "delete", "field": str(created.pk)})
    assert messages(dom(web.get(r["Location"]))) == [
        "Data rows hold values for camera; remove them before deleting the field."
    ]
    DataRow.objects.all().delete()
    r = web.post("/metadata/", {"action": "delete", "field": str(created.pk)})
    assert messages(dom(web.get(r["Location"]))) == ["Metadata field camera deleted."]
    assert MetadataField.objects.count() == 0


def test_labeler_cannot_change_the_schema(labeler_web, workspace):
    r = labeler_web.post("/metadata/", {"action": "create", "name": "camera", "kind": "string"})
    assert r.status_code == 403
    assert "You do not have permission to perform this action." in r.content.decode()
    assert MetadataField.objects.count() == 0
    assert dom(labeler_web.get("/metadata/")).all("form", data_testid="metadata-form") == []


def test_member_of_another_workspace_sees_only_its_own(other_admin, dataset):
    client = Client()
    client.force_login(other_admin)
    doc = dom(client.get("/datasets/"))
    assert doc.all("table", data_testid="datasets-table") == []
    assert "No datasets yet" in doc.one(data_testid="empty-state").text
