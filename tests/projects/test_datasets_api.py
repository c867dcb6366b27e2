"""Datasets and data rows through the API: CRUD, bulk create (JSON and NDJSON, sync and job),
upsert, duplicates, filters, data row detail, the metadata schema, cross-workspace 404s.
"""

from __future__ import annotations

import json

import pytest

from labelhub.core.models import AuditLogEntry
from labelhub.projects import jobs
from labelhub.projects.jobs import DATA_ROW_ENGINE
from labelhub.projects.models import (
    DataRow,
    DataRowJob,
    DataRowPayloadChunk,
    Dataset,
    MetadataField,
)
from labelhub.projects.services import datasets as services
from labelhub.projects.services.datasets import InputRow

pytestmark = pytest.mark.django_db

IMG = "https://cdn.example.com/cams/{}.jpg"


def img(n, **extra):
    return {"row_data": IMG.format(n), "media_type": "image", **extra}


@pytest.fixture
def dataset(workspace, admin):
    return services.dataset_create(workspace=workspace, actor=admin, name="Street cams")


@pytest.fixture
def camera_field(workspace, admin):
    return services.metadata_field_create(
        workspace=workspace, actor=admin, name="camera", kind="enum", options=["north", "south"]
    )


def rows_url(dataset, query=""):
    return f"/api/v1/datasets/{dataset.pk}/data-rows/{query}"


def post_rows(client, dataset, rows, query=""):
    return client.post(rows_url(dataset, query), rows, format="json")


def post_ndjson(client, dataset, text, query=""):
    return client.post(rows_url(dataset, query), text, content_type="application/x-ndjson")


def stored(dataset):
    rows = DataRow.objects.filter(dataset=dataset).values_list(
        "global_key", "row_data", "media_type", "external_id", "metadata"
    )
    return sorted(rows, key=lambda r: (r[0] is None, r[0] or "", r[1]))


def verbs(workspace):
    return list(
        AuditLogEntry.objects.filter(workspace=workspace)
        .order_by("created_at", "id")
        .values_list("verb", flat=True)
    )


# --- datasets -------------------------------------------------------------------------------


def test_dataset_create_list_rename_delete(admin_client, workspace):
    r = admin_client.post("/api/v1/datasets/", {"name": "  Street   cams "}, format="json")
    assert r.status_code == 201
    body = r.json()
    assert (body["name"], body["description"], body["row_count"], body["created_by"]) == (
        "Street cams",
        "",
        0,
        "admin@alpha.test",
    )
    ds_id = body["id"]
    assert [d["name"] for d in admin_client.get("/api/v1/datasets/").json()["results"]] == [
        "Street cams"
    ]

    r = admin_client.post("/api/v1/datasets/", {"name": "STREET CAMS"}, format="json")
    assert r.status_code == 409
    assert r.json()["error"] == {
        "code": "conflict",
        "message": "A dataset with this name already exists in the workspace.",
        "details": {"name": ["A dataset with this name already exists in the workspace."]},
    }

    r = admin_client.patch(f"/api/v1/datasets/{ds_id}/", {"name": "Cams"}, format="json")
    assert (r.status_code, r.json()["name"]) == (200, "Cams")

    r = admin_client.delete(f"/api/v1/datasets/{ds_id}/", {"confirm": "cams"}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {
        "confirm": ["Type the dataset's name (Cams) to delete it."]
    }
    r = admin_client.delete(f"/api/v1/datasets/{ds_id}/", format="json")
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {"confirm": ["This field is required."]}
    assert Dataset.objects.count() == 1

    r = admin_client.delete(f"/api/v1/datasets/{ds_id}/", {"confirm": "Cams"}, format="json")
    assert r.status_code == 204
    assert Dataset.objects.count() == 0
    assert verbs(workspace) == ["dataset.created", "dataset.renamed", "dataset.deleted"]
    deleted = AuditLogEntry.objects.get(verb="dataset.deleted")
    assert deleted.before == {"name": "Cams", "rows": 0}


def test_delete_removes_rows_and_jobs(admin_client, dataset, workspace, admin):
    services.data_rows_create(
        workspace=workspace,
        actor=admin,
        dataset=dataset,
        rows=[InputRow(i, img(i)) for i in range(1, 4)],
    )
    DataRowJob.objects.create(workspace=workspace, dataset=dataset, total=0)
    r = admin_client.delete(
        f"/api/v1/datasets/{dataset.pk}/", {"confirm": "Street cams"}, format="json"
    )
    assert r.status_code == 204
    assert (DataRow.objects.count(), DataRowJob.objects.count()) == (0, 0)
    assert AuditLogEntry.objects.get(verb="dataset.deleted").before == {
        "name": "Street cams",
        "rows": 3,
    }


def test_dataset_name_rules(admin_client):
    r = admin_client.post("/api/v1/datasets/", {"name": "   "}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {"name": ["This field may not be blank."]}
    r = admin_client.post("/api/v1/datasets/", {"name": "x", "owner": "me"}, format="json")
    assert r.json()["error"]["details"] == {"owner": ["Unknown field."]}


# --- bulk create: synchronous -------------------------------------------------------------


def test_json_list_creates_rows_and_reports_per_row_errors(admin_client, dataset, workspace):
    rows = [
        img(1, global_key="cam-1", metadata=[{"name": "split", "value": "train"}]),
        img(2, global_key="cam-2", metadata={"colour": "red"}),
        {"row_data": "Plain text", "media_type": "text", "external_id": "t-1"},
        img(3, global_key="cam-1"),
        {"row_data": "ftp://x.example.com/4.jpg", "media_type": "image", "global_key": "cam-4"},
    ]
    r = post_rows(admin_client, dataset, rows)
    assert r.status_code == 201
    assert r.json() == {
        "created": 2,
        "updated": 0,
        "errors": [
            {
                "line": 2,
                "global_key": "cam-2",
                "message": "metadata.colour: Unknown metadata field.",
            },
            {
                "line": 4,
                "global_key": "cam-1",
                "message": "global_key: 'cam-1' is given twice in this upload (first on line 1).",
            },
            {
                "line": 5,
                "global_key": "cam-4",
                "message": "row_data: Only http and https URLs are supported.",
            },
        ],
    }
    assert stored(dataset) == [
        ("cam-1", IMG.format(1), "image", "", {"split": "train"}),
        (None, "Plain text", "text", "t-1", {}),
    ]
    dataset.refresh_from_db()
    assert dataset.row_count == 2
    entry = AuditLogEntry.objects.get(verb="data_rows.bulk_created")
    assert (entry.target_id, entry.after) == (
        str(dataset.pk),
        {"rows": 5, "created": 2, "updated": 0, "errors": 3},
    )


def test_ndjson_body_with_a_broken_line(admin_client, dataset):
    text = "\n".join(
        [
            json.dumps(img(1, global_key="a")),
            "",
            '{"row_data": "https://x.example.com/2.jpg", ',
            json.dumps({"row_data": "https://x.example.com/3.jpg", "global_key": "c"}),
        ]
    )
    r = post_ndjson(admin_client, dataset, text, "?media_type=image")
    assert r.status_code == 201
    assert r.json() == {
        "created": 2,
        "updated": 0,
        "errors": [
            {
                "line": 3,
                "global_key": None,
                "message": "Not valid JSON: Expecting property name enclosed in double quotes (column 45).",
            }
        ],
    }
    assert [k for k, *_ in stored(dataset)] == ["a", "c"]


def test_upsert_by_global_key_updates_rows_of_the_same_dataset(admin_client, dataset, camera_field):
    post_rows(admin_client, dataset, [img(1, global_key="k1", external_id="old")])
    before = DataRow.objects.get(global_key="k1")
    r = post_rows(
        admin_client,
        dataset,
        [
            img(
                9,
                global_key="k1",
                metadata={"camera": "north"},
                attachments=[{"type": "TEXT", "value": "n"}],
            ),
            img(2, global_key="k2"),
        ],
    )
    assert r.json() == {"created": 1, "updated": 1, "errors": []}
    after = DataRow.objects.get(global_key="k1")
    assert (after.pk, after.row_data, after.external_id, after.metadata, after.attachments) == (
        before.pk,
        IMG.format(9),
        "",
        {"camera": "north"},
        [{"type": "TEXT", "value": "n"}],
    )
    assert after.updated_at > before.updated_at
    dataset.refresh_from_db()
    assert dataset.row_count == 2


def test_keys_of_another_dataset_and_media_type_changes_are_row_errors(
    admin_client, dataset, workspace, admin
):
    other = services.dataset_create(workspace=workspace, actor=admin, name="Receipts")
    post_rows(
        admin_client, other, [{"row_data": "Total 3", "media_type": "text", "global_key": "r1"}]
    )
    post_rows(admin_client, dataset, [img(1, global_key="k1")])
    r = post_rows(
        admin_client,
        dataset,
        [
            img(2, global_key="r1"),
            {"row_data": "now text", "media_type": "text", "global_key": "k1"},
            img(3, global_key="k3"),
        ],
    )
    assert r.status_code == 201
    assert r.json() == {
        "created": 1,
        "updated": 0,
        "errors": [
            {
                "line": 1,
                "global_key": "r1",
                "message": "global_key: 'r1' is already used by a data row in another dataset.",
            },
            {
                "line": 2,
                "global_key": "k1",
                "message": "media_type: the existing data row 'k1' is image; it cannot become text.",
            },
        ],
    }
    assert DataRow.objects.get(global_key="r1").dataset_id == other.pk


def test_nothing_stored_is_400_with_the_row_errors(admin_client, dataset):
    r = post_rows(admin_client, dataset, [{"row_data": IMG.format(1)}])
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "code": "invalid",
            "message": "No row was stored.",
            "details": {
                "rows": [
                    {
                        "line": 1,
                        "global_key": None,
                        "message": "media_type: This field is required (or give a default media type).",
                    }
                ]
            },
        }
    }
    assert DataRow.objects.count() == 0
    assert AuditLogEntry.objects.filter(verb="data_rows.bulk_created").get().after == {
        "rows": 1,
        "created": 0,
        "updated": 0,
        "errors": 1,
    }


@pytest.mark.parametrize(
    ("body", "content_type", "status", "details"),
    [
        ([], "application/json", 400, {"rows": ["Give at least one row."]}),
        (
            {"row_data": "x"},
            "application/json",
            400,
            {"rows": ["Send a JSON list of rows, or NDJSON (one row per line)."]},
        ),
        ("", "application/x-ndjson", 400, {"rows": ["Give at least one row."]}),
    ],
)
def test_bodies_that_are_not_lists(admin_client, dataset, body, content_type, status, details):
    data = json.dumps(body) if content_type == "application/json" else body
    r = admin_client.post(rows_url(dataset), data, content_type=content_type)
    assert r.status_code == status
    assert r.json()["error"]["details"] == details


def test_bad_default_media_type(admin_client, dataset):
    r = post_rows(admin_client, dataset, [img(1)], "?media_type=photo")
    assert r.status_code == 400
    assert list(r.json()["error"]["details"]) == ["media_type"]


def test_limits_answer_413(admin_client, dataset, settings):
    settings.DATA_ROWS_MAX_PER_REQUEST = 3
    r = post_rows(admin_client, dataset, [img(i) for i in range(4)])
    assert r.status_code == 413
    assert r.json()["error"] == {
        "code": "too_large",
        "message": "At most 3 rows per upload; this one has 4.",
        "details": {"rows": ["At most 3 rows per upload."]},
    }
    settings.DATA_ROWS_MAX_BODY_BYTES = 100
    r = post_rows(admin_client, dataset, [img(i) for i in range(3)])
    assert r.status_code == 413
    assert r.json()["error"]["message"] == "At most 0 MB per upload."
    assert DataRow.objects.count() == 0


def test_text_plain_is_415(admin_client, dataset):
    r = admin_client.post(rows_url(dataset), "row_data", content_type="text/plain")
    assert r.status_code == 415


# --- bulk create: background job ----------------------------------------------------------


@pytest.fixture
def small_limits(settings):
    settings.DATA_ROWS_SYNC_LIMIT = 3
    settings.DATA_ROWS_CHUNK_SIZE = 2


def job_rows():
    return [
        img(1, global_key="j1", metadata={"split": "valid"}),
        img(2, global_key="j2"),
        img(3, global_key="j1"),
        {"row_data": "x", "media_type": "image", "global_key": "j4"},
        img(5),
    ]


def test_more_rows_than_the_sync_limit_become_a_job(
    admin_client,
    admin,
    dataset,
    workspace,
    small_limits,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    sent = []
    monkeypatch.setattr(
        "labelhub.core.live.send_event_now", lambda event, groups: sent.append((event, groups))
    )
    with django_capture_on_commit_callbacks(execute=True):
        r = post_rows(admin_client, dataset, job_rows())
    assert r.status_code == 202
    job = DataRowJob.objects.get()
    assert r.json() == {"job": str(job.pk)}
    assert r["Location"] == f"/api/v1/data-row-jobs/{job.pk}/"

    body = admin_client.get(f"/api/v1/data-row-jobs/{job.pk}/").json()
    assert body | {"created_at": None, "finished_at": None} == {
        "id": str(job.pk),
        "dataset": str(dataset.pk),
        "state": "finished_with_errors",
        "total": 5,
        "processed": 5,
        "created": 3,
        "updated": 0,
        "error_count": 2,
        "errors": [
            {
                "line": 3,
                "global_key": "j1",
                "message": "global_key: 'j1' is given twice in this upload (first on line 1).",
            },
            {"line": 4, "global_key": "j4", "message": "row_data: Image rows need an http(s) URL."},
        ],
        "created_at": None,
        "finished_at": None,
    }
    assert body["finished_at"] is not None
    assert DataRowPayloadChunk.objects.filter(job=job).count() == 0  # the rows are stored
    dataset.refresh_from_db()
    assert dataset.row_count == 3
    assert AuditLogEntry.objects.get(verb="data_rows.bulk_created").after == {
        "rows": 5,
        "created": 3,
        "updated": 0,
        "errors": 2,
        "job": str(job.pk),
    }
    # Progress after each chunk of 2, then the final event with a message, to the creator.
    progress = [
        (e["state"], e["processed"], e["created"], e["error_count"], groups)
        for e, groups in sent
        if e["type"] == "data_row_job.progress"
    ]
    assert progress == [
        ("running", 2, 2, 0, [f"user.{admin.pk}"]),
        ("running", 4, 2, 2, [f"user.{admin.pk}"]),
        ("running", 5, 3, 2, [f"user.{admin.pk}"]),
        ("finished_with_errors", 5, 3, 2, [f"user.{admin.pk}"]),
    ]
    assert sent[-1][0]["message"] == (
        "Upload to Street cams finished: 3 created, 0 updated, 2 with errors."
    )


def test_running_a_job_twice_writes_its_rows_once(workspace, admin, dataset, small_limits):
    rows = [InputRow(i, r) for i, r in enumerate(job_rows(), start=1)]
    job = services.data_row_job_create(workspace=workspace, actor=admin, dataset=dataset, rows=rows)
    first = DATA_ROW_ENGINE.run(workspace_id=workspace.pk, job_id=job.pk)
    snapshot = sorted(DataRow.objects.values_list("pk", "global_key", "row_data"))
    second = DATA_ROW_ENGINE.run(workspace_id=workspace.pk, job_id=job.pk)
    assert first.state == second.state == "finished_with_errors"
    assert sorted(DataRow.objects.values_list("pk", "global_key", "row_data")) == snapshot
    assert len(snapshot) == 3
    job.refresh_from_db()
    assert (job.processed, job.created, job.updated, len(job.errors)) == (5, 3, 0, 2)
    assert AuditLogEntry.objects.filter(verb="data_rows.bulk_created").count() == 1


def test_an_interrupted_job_continues_from_its_last_chunk(workspace, admin, dataset, small_limits):
    rows = [InputRow(i, img(i, global_key=f"g{i}")) for i in range(1, 6)]
    job = services.data_row_job_create(workspace=workspace, actor=admin, dataset=dataset, rows=rows)
    # given: the first chunk was committed before the worker died
    first = DataRow.objects.bulk_create(
        [
            DataRow(
                workspace=workspace,
                dataset=dataset,
                row_data=IMG.format(i),
                media_type="image",
                global_key=f"g{i}",
            )
            for i in (1, 2)
        ]
    )
    Dataset.objects.filter(pk=dataset.pk).update(row_count=2)
    DataRowJob.objects.filter(pk=job.pk).update(
        state="running", processed=2, created=2, next_chunk=1
    )
    # when: the task is delivered again
    DATA_ROW_ENGINE.run(workspace_id=workspace.pk, job_id=job.pk)
    # then: only the rest is written; the first rows are untouched
    job.refresh_from_db()
    assert (job.state, job.processed, job.created, job.updated) == ("finished", 5, 5, 0)
    assert sorted(DataRow.objects.values_list("global_key", flat=True)) == [
        "g1",
        "g2",
        "g3",
        "g4",
        "g5",
    ]
    assert set(
        DataRow.objects.filter(global_key__in=["g1", "g2"]).values_list("pk", flat=True)
    ) == {r.pk for r in first}
    dataset.refresh_from_db()
    assert dataset.row_count == 5


def test_rerun_after_rows_were_written_upserts_instead_of_duplicating(
    workspace, admin, dataset, small_limits
):
    """Even if the counter were lost, global keys make a chunk's re-run harmless."""
    rows = [InputRow(i, img(i, global_key=f"g{i}")) for i in range(1, 5)]
    job = services.data_row_job_create(workspace=workspace, actor=admin, dataset=dataset, rows=rows)
    stored = list(
        DataRowPayloadChunk.objects.filter(job=job).values("seq", "first_line", "count", "text")
    )
    DATA_ROW_ENGINE.run(workspace_id=workspace.pk, job_id=job.pk)
    # as if the job's progress (and its finished state) had been lost
    DataRowPayloadChunk.objects.bulk_create([DataRowPayloadChunk(job=job, **c) for c in stored])
    DataRowJob.objects.filter(pk=job.pk).update(
        state="running", processed=0, created=0, updated=0, next_chunk=0
    )
    DATA_ROW_ENGINE.run(workspace_id=workspace.pk, job_id=job.pk)
    job.refresh_from_db()
    assert (job.created, job.updated) == (0, 4)
    assert DataRow.objects.count() == 4


def test_a_job_of_a_deleted_dataset_is_a_no_op(workspace, admin, dataset, small_limits):
    rows = [InputRow(i, img(i)) for i in range(1, 5)]
    job = services.data_row_job_create(workspace=workspace, actor=admin, dataset=dataset, rows=rows)
    services.dataset_delete(
        workspace=workspace, actor=admin, dataset=dataset, confirm="Street cams"
    )
    assert DATA_ROW_ENGINE.run(workspace_id=workspace.pk, job_id=job.pk) is None
    assert DATA_ROW_ENGINE.run(workspace_id=workspace.pk, job_id="garbage") is None
    assert DataRow.objects.count() == 0


def test_a_job_in_another_workspace_is_not_run(
    workspace, other_workspace, admin, dataset, small_limits
):
    rows = [InputRow(i, img(i)) for i in range(1, 5)]
    job = services.data_row_job_create(workspace=workspace, actor=admin, dataset=dataset, rows=rows)
    assert DATA_ROW_ENGINE.run(workspace_id=other_workspace.pk, job_id=job.pk) is None
    assert DataRow.objects.count() == 0


def test_a_failing_job_is_marked_failed(workspace, admin, dataset, small_limits, monkeypatch):
    from labelhub.projects.tasks import run_data_row_job_task

    rows = [InputRow(i, img(i)) for i in range(1, 5)]
    job = services.data_row_job_create(workspace=workspace, actor=admin, dataset=dataset, rows=rows)

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(jobs, "process_rows", boom)
    with pytest.raises(RuntimeError):
        run_data_row_job_task.apply(
            kwargs={"workspace_id": str(workspace.pk), "job_id": str(job.pk)}
        ).get()
    job.refresh_from_db()
    assert (job.state, job.message) == ("failed", "an internal error (RuntimeError)")
    assert job.finished_at is not None


def test_stored_job_errors_are_capped_but_counted(workspace, admin, dataset, settings):
    settings.DATA_ROWS_CHUNK_SIZE = 3
    settings.DATA_ROW_JOB_MAX_ERRORS = 4
    rows = [InputRow(i, {"row_data": ""}) for i in range(1, 8)]
    job = services.data_row_job_create(workspace=workspace, actor=admin, dataset=dataset, rows=rows)
    job = DATA_ROW_ENGINE.run(workspace_id=workspace.pk, job_id=job.pk)
    job.refresh_from_db()
    assert [e["line"] for e in job.errors] == [1, 2, 3, 4]
    assert (job.state, job.processed, job.created) == ("finished_with_errors", 7, 0)


def test_job_rows_take_the_default_media_type(workspace, admin, dataset, small_limits):
    rows = [InputRow(i, {"row_data": IMG.format(i)}) for i in range(1, 5)]
    job = services.data_row_job_create(
        workspace=workspace, actor=admin, dataset=dataset, rows=rows, media_type="image"
    )
    DATA_ROW_ENGINE.run(workspace_id=workspace.pk, job_id=job.pk)
    assert sorted(DataRow.objects.values_list("media_type", flat=True)) == ["image"] * 4


def test_create_returns_ids_in_input_order(workspace, admin, dataset):
    existing = services.data_rows_create(
        workspace=workspace,
        actor=admin,
        dataset=dataset,
        rows=[InputRow(1, img(1, global_key="b"))],
    ).ids[0]
    result = services.data_rows_create(
        workspace=workspace,
        actor=admin,
        dataset=dataset,
        rows=[
            InputRow(1, img(1, global_key="a")),
            InputRow(2, img(2, global_key="b")),
            InputRow(3, {}),
        ],
    )
    by_key = dict(DataRow.objects.values_list("global_key", "pk"))
    assert result.ids == [by_key["a"], existing]
    assert (result.created, result.updated, len(result.errors)) == (1, 1, 1)


# --- listing and filters ------------------------------------------------------------------


@pytest.fixture
def listed(admin_client, dataset, camera_field):
    post_rows(
        admin_client,
        dataset,
        [
            img(
                1, global_key="a", external_id="e1", metadata={"camera": "north", "split": "train"}
            ),
            img(2, global_key="b", metadata={"camera": "south"}),
            {
                "row_data": "hello",
                "media_type": "text",
                "global_key": "c",
                "metadata": {"tag": "x"},
            },
        ],
    )
    return dataset


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("", ["c", "b", "a"]),
        ("?global_key=b", ["b"]),
        ("?external_id=e1", ["a"]),
        ("?media_type=text", ["c"]),
        ("?metadata.camera=north", ["a"]),
        ("?metadata.camera=south&media_type=image", ["b"]),
        ("?metadata.split=train&metadata.camera=north", ["a"]),
        ("?metadata.tag=x", ["c"]),
        ("?metadata.camera=", ["c", "b", "a"]),
    ],
)
def test_list_filters(admin_client, listed, query, keys):
    r = admin_client.get(rows_url(listed, query))
    assert r.status_code == 200
    assert [row["global_key"] for row in r.json()["results"]] == keys


@pytest.mark.parametrize(
    ("query", "details"),
    [
        (
            "?media_type=photo",
            {
                "media_type": [
                    "Unknown media type 'photo'; choose one of image, video, text, audio, document, html, conversational, geospatial, llm_chat."
                ]
            },
        ),
        ("?metadata.lens=wide", {"metadata.lens": ["Unknown metadata field 'lens'."]}),
        (
            "?metadata.camera=east",
            {"metadata.camera": ["metadata.camera: Choose one of north, south."]},
        ),
    ],
)
def test_bad_filters_are_400(admin_client, listed, query, details):
    r = admin_client.get(rows_url(listed, query))
    assert r.status_code == 400
    assert r.json()["error"]["details"] == details


def test_number_and_datetime_filters_read_typed_values(admin_client, dataset, workspace, admin):
    services.metadata_field_create(workspace=workspace, actor=admin, name="speed", kind="number")
    post_rows(
        admin_client,
        dataset,
        [
            img(
                1,
                global_key="slow",
                metadata={"speed": 3, "captureDateTime": "2024-05-01T12:00:00+02:00"},
            ),
            img(2, global_key="fast", metadata={"speed": 7.5}),
        ],
    )
    assert [
        r["global_key"]
        for r in admin_client.get(rows_url(dataset, "?metadata.speed=3.0")).json()["results"]
    ] == ["slow"]
    assert [
        r["global_key"]
        for r in admin_client.get(rows_url(dataset, "?metadata.speed=7.5")).json()["results"]
    ] == ["fast"]
    found = admin_client.get(
        rows_url(dataset, "?metadata.captureDateTime=2024-05-01T10:00:00Z")
    ).json()
    assert [r["global_key"] for r in found["results"]] == ["slow"]
    r = admin_client.get(rows_url(dataset, "?metadata.speed=fast"))
    assert r.json()["error"]["details"] == {"metadata.speed": ["metadata.speed: Enter a number."]}


def test_list_shape_and_pagination(admin_client, listed, django_assert_num_queries):
    with django_assert_num_queries(7):  # session, user, workspaces x2, membership, dataset, page
        r = admin_client.get(rows_url(listed, "?page_size=2"))
    body = r.json()
    assert [row["global_key"] for row in body["results"]] == ["c", "b"]
    first = body["results"][1]
    assert set(first) == {
        "id",
        "dataset",
        "row_data",
        "media_type",
        "global_key",
        "external_id",
        "metadata",
        "attachments",
        "created_at",
        "updated_at",
    }
    assert (first["dataset"], first["row_data"], first["metadata"]) == (
        str(listed.pk),
        IMG.format(2),
        {"camera": "south"},
    )
    rest = admin_client.get(body["next"]).json()
    assert [row["global_key"] for row in rest["results"]] == ["a"]


def test_labeler_reads_but_cannot_write(labeler_client, listed):
    assert labeler_client.get(rows_url(listed)).status_code == 200
    r = post_rows(labeler_client, listed, [img(9)])
    assert r.status_code == 403
    assert DataRow.objects.count() == 3


# --- one data row -------------------------------------------------------------------------


def test_data_row_detail_patch_delete(admin_client, listed, workspace):
    row = DataRow.objects.get(global_key="a")
    url = f"/api/v1/data-rows/{row.pk}/"
    assert admin_client.get(url).json()["global_key"] == "a"

    r = admin_client.patch(
        url, {"metadata": {"camera": "south"}, "external_id": "e9"}, format="json"
    )
    assert r.status_code == 200
    assert (r.json()["metadata"], r.json()["external_id"], r.json()["row_data"]) == (
        {"camera": "south"},
        "e9",
        IMG.format(1),
    )

    r = admin_client.patch(url, {"metadata": {"camera": "east"}, "row_data": "nope"}, format="json")
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": "invalid",
        "message": "row_data: Image rows need an http(s) URL.; metadata.camera: Choose one of north, south.",
        "details": {
            "row_data": ["row_data: Image rows need an http(s) URL."],
            "metadata": ["metadata.camera: Choose one of north, south."],
        },
    }

    r = admin_client.patch(url, {"global_key": "b"}, format="json")
    assert r.status_code == 409
    assert r.json()["error"]["details"] == {
        "global_key": ["The global key 'b' is already used by another data row of the workspace."]
    }
    r = admin_client.patch(url, {"media_type": "text"}, format="json")
    assert r.json()["error"]["details"] == {"media_type": ["Unknown field."]}

    r = admin_client.patch(url, {"global_key": None}, format="json")
    assert (r.status_code, r.json()["global_key"]) == (200, None)

    assert admin_client.delete(url).status_code == 204
    assert admin_client.get(url).status_code == 404
    listed.refresh_from_db()
    assert listed.row_count == 2


# --- metadata schema ----------------------------------------------------------------------


def test_metadata_schema_api(admin_client, workspace):
    r = admin_client.post(
        "/api/v1/metadata-fields/",
        {"name": "camera", "kind": "enum", "options": ["north", " south "]},
        format="json",
    )
    assert r.status_code == 201
    field_id = r.json()["id"]
    assert r.json() == {
        "id": field_id,
        "name": "camera",
        "kind": "enum",
        "options": ["north", "south"],
        "reserved": False,
    }
    assert admin_client.get("/api/v1/metadata-fields/").json() == {
        "results": [
            {"id": None, "name": "tag", "kind": "string", "options": [], "reserved": True},
            {
                "id": None,
                "name": "split",
                "kind": "enum",
                "options": ["train", "valid", "test"],
                "reserved": True,
            },
            {
                "id": None,
                "name": "captureDateTime",
                "kind": "datetime",
                "options": [],
                "reserved": True,
            },
            {
                "id": field_id,
                "name": "camera",
                "kind": "enum",
                "options": ["north", "south"],
                "reserved": False,
            },
        ]
    }
    assert admin_client.delete(f"/api/v1/metadata-fields/{field_id}/").status_code == 204
    assert MetadataField.objects.count() == 0
    assert verbs(workspace) == ["metadata_field.created", "metadata_field.deleted"]


@pytest.mark.parametrize(
    ("body", "status", "details"),
    [
        (
            {"name": "Split", "kind": "string"},
            400,
            {"name": ["Split is a reserved field; it always exists."]},
        ),
        (
            {"name": "cam era", "kind": "string"},
            400,
            {"name": ["Use up to 100 letters, digits and underscores, starting with a letter."]},
        ),
        ({"name": "camera", "kind": "bool"}, 400, {"kind": ['"bool" is not a valid choice.']}),
        (
            {"name": "camera", "kind": "enum"},
            400,
            {"options": ["An enum field needs at least one option."]},
        ),
        (
            {"name": "camera", "kind": "enum", "options": ["a", "a"]},
            400,
            {"options": ["The option 'a' is given twice."]},
        ),
        (
            {"name": "camera", "kind": "string", "options": ["a"]},
            400,
            {"options": ["Only enum fields have options."]},
        ),
        (
            {"name": "CAMERA", "kind": "string"},
            409,
            {"name": ["A metadata field with this name already exists."]},
        ),
    ],
)
def test_metadata_field_rules(admin_client, camera_field, body, status, details):
    r = admin_client.post("/api/v1/metadata-fields/", body, format="json")
    assert r.status_code == status
    assert r.json()["error"]["details"] == details
    assert MetadataField.objects.count() == 1


def test_a_field_in_use_cannot_be_deleted(admin_client, dataset, camera_field):
    post_rows(admin_client, dataset, [img(1, metadata={"camera": "north"})])
    r = admin_client.delete(f"/api/v1/metadata-fields/{camera_field.pk}/")
    assert r.status_code == 409
    assert r.json()["error"]["message"] == (
        "Data rows hold values for camera; remove them before deleting the field."
    )
    assert MetadataField.objects.count() == 1


# --- across workspaces --------------------------------------------------------------------


def test_other_workspace_objects_answer_404_and_never_list(
    api_client_for,
    other_admin,
    other_workspace,
    admin_client,
    listed,
    camera_field,
    workspace,
    admin,
):
    job = DataRowJob.objects.create(workspace=workspace, dataset=listed, total=0)
    row = DataRow.objects.get(global_key="a")
    outsider = api_client_for(other_admin, other_workspace)
    before = (stored(listed), Dataset.objects.count(), MetadataField.objects.count())
    calls = [
        ("get", f"/api/v1/datasets/{listed.pk}/", None),
        ("patch", f"/api/v1/datasets/{listed.pk}/", {"name": "Mine"}),
        ("delete", f"/api/v1/datasets/{listed.pk}/", {"confirm": "Street cams"}),
        ("get", rows_url(listed), None),
        ("post", rows_url(listed), [img(7)]),
        ("get", f"/api/v1/data-rows/{row.pk}/", None),
        ("patch", f"/api/v1/data-rows/{row.pk}/", {"external_id": "x"}),
        ("delete", f"/api/v1/data-rows/{row.pk}/", None),
        ("get", f"/api/v1/data-row-jobs/{job.pk}/", None),
        ("delete", f"/api/v1/metadata-fields/{camera_field.pk}/", None),
    ]
    for method, url, body in calls:
        r = getattr(outsider, method)(url, body, format="json")
        assert (method, url, r.status_code) == (method, url, 404)
        assert r.json()["error"]["code"] == "not_found"
    assert outsider.get("/api/v1/datasets/").json()["results"] == []
    assert [f["name"] for f in outsider.get("/api/v1/metadata-fields/").json()["results"]] == [
        "tag",
        "split",
        "captureDateTime",
    ]
    assert (stored(listed), Dataset.objects.count(), MetadataField.objects.count()) == before
    assert AuditLogEntry.objects.filter(
        workspace=other_workspace, verb="access.cross_workspace_refused"
    ).count() == len(calls)
    # The outsider's own rows cannot claim this workspace's global keys' rows either.
    mine = services.dataset_create(workspace=other_workspace, actor=other_admin, name="Mine")
    r = post_rows(outsider, mine, [img(1, global_key="a")])
    assert r.json() == {"created": 1, "updated": 0, "errors": []}
    assert DataRow.objects.filter(global_key="a").count() == 2


# --- bodies larger than Django's in-memory limit, strict JSON -----------------------------


def test_json_bodies_above_data_upload_max_memory_size_are_read(
    admin_client, dataset, settings, django_capture_on_commit_callbacks
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000  # DRF's JSONParser would refuse this body
    rows = [img(i, global_key=f"big-{i}", external_id="x" * 150) for i in range(80)]
    with django_capture_on_commit_callbacks(execute=True):
        r = post_rows(admin_client, dataset, rows)
    assert (r.status_code, r.json()) == (201, {"created": 80, "updated": 0, "errors": []})


def test_nan_and_infinity_are_not_json(admin_client, dataset):
    r = admin_client.post(
        rows_url(dataset),
        '[{"row_data": "x", "media_type": "text", "metadata": {"tag": NaN}}]',
        content_type="application/json",
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed"
    r = post_ndjson(admin_client, dataset, '{"row_data": "x", "media_type": "text"}\n[Infinity]')
    assert r.json()["errors"] == [
        {"line": 2, "global_key": None, "message": "Not valid JSON: Infinity is not valid JSON."}
    ]


def test_a_key_inserted_concurrently_turns_into_an_update(workspace, admin, dataset, monkeypatch):
    """Another upload committed the same new global key after our lookup: the insert fails
    on the unique constraint, the chunk is retried, and the row becomes an update."""
    DataRow.objects.create(
        workspace=workspace, dataset=dataset, row_data="old", media_type="text", global_key="k"
    )
    real_lookup = services._existing_keys
    lookups = []

    def stale_then_real(workspace, keys):
        lookups.append(list(keys))
        return {} if len(lookups) == 1 else real_lookup(workspace, keys)

    monkeypatch.setattr(services, "_existing_keys", stale_then_real)
    result = services.data_rows_create(
        workspace=workspace,
        actor=admin,
        dataset=dataset,
        rows=[
            InputRow(1, {"row_data": "new", "media_type": "text", "global_key": "k"}),
            InputRow(2, {"row_data": "other", "media_type": "text"}),
        ],
    )
    assert (result.created, result.updated, result.errors) == (1, 1, [])
    assert lookups == [["k"], ["k"]]
    assert sorted(DataRow.objects.values_list("global_key", "row_data"), key=str) == [
        ("k", "new"),
        (None, "other"),
    ]


def test_dataset_names_that_no_database_stores_are_refused(admin_client):
    r = admin_client.post("/api/v1/datasets/", {"name": "a\u0000b"}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {"name": ["Null characters are not allowed."]}
    r = admin_client.post(
        "/api/v1/datasets/",
        {"name": "Cams", "description": " line one\n\nline two "},
        format="json",
    )
    assert r.json()["description"] == "line one\n\nline two"


def test_service_refuses_names_no_database_stores(workspace, admin):
    from labelhub.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        services.dataset_create(workspace=workspace, actor=admin, name="a\ud800b")
    assert exc.value.details == {"name": ["Contains characters that are not valid Unicode."]}
