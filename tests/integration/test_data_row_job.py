"""A bulk data row upload run by the real Celery worker against PostgreSQL.

The upload is larger than the sync limit, so the API answers 202 and the job is enqueued
after commit; the worker writes it in chunks (its own default chunk size, 2,000 rows),
stores the valid rows and reports the others; running the task again changes nothing.
"""

import time

import pytest
from rest_framework.test import APIClient

from labelhub.core.models import AuditLogEntry
from labelhub.projects.models import DataRow, DataRowJob, Dataset
from labelhub.projects.services.datasets import dataset_create
from labelhub.projects.tasks import run_data_row_job_task
from labelhub.workspaces.models import Role
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.factories import make_member, make_workspace

ROWS = 4_500


def wait_for_job(job_id, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = DataRowJob.objects.get(pk=job_id)
        if job.state in {"finished", "finished_with_errors", "failed"}:
            return job
        time.sleep(0.2)
    raise AssertionError(f"the worker did not finish the job within {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_large_upload_runs_on_the_worker():
    ws = make_workspace("Job WS")
    admin = make_member(ws, Role.ADMIN)
    dataset = dataset_create(workspace=ws, actor=admin, name="Worker cams")
    client = APIClient()
    client.force_login(admin)
    session = client.session
    session[SESSION_WORKSPACE_KEY] = str(ws.pk)
    session.save()
    rows = [
        {
            "row_data": f"https://cdn.example.com/w/{n}.jpg",
            "global_key": f"w-{n}",
            "metadata": {"split": "train" if n % 2 else "test"},
        }
        for n in range(ROWS)
    ]
    rows[10]["metadata"] = {"split": "holdout"}  # line 11
    rows[3000]["global_key"] = "w-5"  # line 3001: the key of line 6 again

    r = client.post(
        f"/api/v1/datasets/{dataset.pk}/data-rows/?media_type=image", rows, format="json"
    )
    assert r.status_code == 202, r.content
    job = wait_for_job(r.json()["job"])

    assert (job.state, job.total, job.processed, job.created, job.updated) == (
        "finished_with_errors",
        ROWS,
        ROWS,
        ROWS - 2,
        0,
    )
    assert job.errors == [
        {
            "line": 11,
            "global_key": "w-10",
            "message": "metadata.split: Choose one of train, valid, test.",
        },
        {
            "line": 3001,
            "global_key": "w-5",
            "message": "global_key: 'w-5' is given twice in this upload (first on line 6).",
        },
    ]
    assert DataRow.objects.filter(dataset=dataset).count() == ROWS - 2
    assert Dataset.objects.get(pk=dataset.pk).row_count == ROWS - 2
    assert AuditLogEntry.objects.get(verb="data_rows.bulk_created").after == {
        "rows": ROWS,
        "created": ROWS - 2,
        "updated": 0,
        "errors": 2,
        "job": str(job.pk),
    }
    seen = r.json()["job"]
    body = client.get(f"/api/v1/data-row-jobs/{seen}/").json()
    assert (body["state"], body["error_count"]) == ("finished_with_errors", 2)

    # Delivered again (a redelivery after a lost ack): nothing changes.
    snapshot = sorted(DataRow.objects.values_list("pk", "global_key"))
    result = run_data_row_job_task.delay(workspace_id=str(ws.pk), job_id=str(job.pk))
    assert result.get(timeout=60) == "finished_with_errors"
    assert sorted(DataRow.objects.values_list("pk", "global_key")) == snapshot
    assert AuditLogEntry.objects.filter(verb="data_rows.bulk_created").count() == 1
