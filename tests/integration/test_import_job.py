"""An annotation import run by the real Celery worker against PostgreSQL.

The API answers 202 and the job is enqueued after commit; the worker validates and writes
the lines in chunks (default 500 per chunk), reports each line, and moves the ground-truth
rows' tasks to done; running the task again changes nothing.
"""

import time

import pytest
from rest_framework.test import APIClient

from labelhub.core.models import AuditLogEntry
from labelhub.imports.models import Annotation, ImportJob
from labelhub.imports.tasks import run_import_job_task
from labelhub.projects.models import Task
from labelhub.workspaces.models import Role
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.factories import make_member, make_workspace
from tests.imports.helpers import make_import_project
from tests.imports.test_jobs import report_of
from tests.imports.test_validation import TREE, line

ROWS = 30
LINES = 1_200  # three chunks of 500, 500 and 200


def wait_for_job(job_id, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.defer("payload").get(pk=job_id)
        if job.state in {"finished", "finished_with_errors", "failed"}:
            return job
        time.sleep(0.2)
    raise AssertionError(f"the worker did not finish the job within {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_ground_truth_import_runs_on_the_worker():
    ws = make_workspace("Import WS")
    admin = make_member(ws, Role.ADMIN)
    keys = [f"r-{n}" for n in range(ROWS)]
    project, _ = make_import_project(ws, admin, TREE, keys=keys, outside=["r-out"])
    client = APIClient()
    client.force_login(admin)
    session = client.session
    session[SESSION_WORKSPACE_KEY] = str(ws.pk)
    session.save()
    lines = [line(uuid=f"u{n}", dataRow={"globalKey": keys[n % ROWS]}) for n in range(LINES)]
    lines[700] = line(uuid="bad", dataRow={"globalKey": "r-out"})  # line 701

    r = client.post(
        f"/api/v1/projects/{project.pk}/imports/",
        {"name": "Worker GT", "kind": "ground_truth", "lines": lines},
        format="json",
    )
    assert r.status_code == 202, r.content
    job = wait_for_job(r.json()["id"])

    assert (
        job.state,
        job.total,
        job.processed,
        job.lines_read,
        job.lines_valid,
        job.lines_invalid,
        job.lines_written,
    ) == ("finished_with_errors", LINES, LINES, LINES, LINES - 1, 1, LINES - 1)
    failures = [s for s in report_of(job) if s["status"] == "FAILURE"]
    assert [(s["line"], s["uuid"], [e["name"] for e in s["errors"]]) for s in failures] == [
        (701, "bad", ["DataRowNotInProject"])
    ]
    assert len(report_of(job)) == LINES
    assert Annotation.objects.filter(project=project, source="ground_truth").count() == LINES - 1
    assert set(Task.objects.filter(project=project).values_list("status", "labeled")) == {
        ("done", True)
    }
    assert AuditLogEntry.objects.get(verb="import.finished").after["state"] == (
        "finished_with_errors"
    )
    report = client.get(f"/api/v1/projects/{project.pk}/imports/{job.pk}/report.ndjson")
    assert len(b"".join(report.streaming_content).decode().splitlines()) == LINES

    # Delivered again (a redelivery after a lost ack): nothing changes.
    snapshot = sorted(Annotation.objects.values_list("pk", "uuid", "updated_at"))
    result = run_import_job_task.delay(workspace_id=str(ws.pk), job_id=str(job.pk))
    assert result.get(timeout=60) == "finished_with_errors"
    assert sorted(Annotation.objects.values_list("pk", "uuid", "updated_at")) == snapshot
    assert AuditLogEntry.objects.filter(verb="import.finished").count() == 1
