"""An annotation import run by the real Celery worker against PostgreSQL.

The API answers 202 and the job is enqueued after commit; the worker validates and writes
the lines chunk by chunk (the upload stored them in chunks of ``IMPORTS_CHUNK_SIZE``; the
worker's writer thread commits chunk k while chunk k+1 is checked), reports each line,
creates the ground-truth labels and moves the rows' tasks to done; running the task again
changes nothing. Progress reaches the project's viewers through the Redis channel layer.
"""

import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from rest_framework.test import APIClient

from labelhub.core.models import AuditLogEntry
from labelhub.imports.models import ImportJob
from labelhub.imports.tasks import run_import_job_task
from labelhub.labeling.models import Annotation, Label, Task
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
        job = ImportJob.objects.get(pk=job_id)
        if job.state in {"finished", "finished_with_errors", "failed"}:
            return job
        time.sleep(0.2)
    raise AssertionError(f"the worker did not finish the job within {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_ground_truth_import_runs_on_the_worker(settings):
    settings.IMPORTS_CHUNK_SIZE = 500  # the upload (this process) cuts the chunks
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
    assert set(Label.objects.filter(project=project).values_list("author", "origin", "status")) == {
        (admin.pk, "imported", "submitted")
    }
    assert Label.objects.filter(project=project).count() == ROWS
    assert not Annotation.objects.filter(project=project, label__isnull=True).exists()
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


@pytest.mark.django_db(transaction=True)
def test_progress_reaches_project_viewers_through_redis(settings):
    settings.IMPORTS_CHUNK_SIZE = 100
    ws = make_workspace("Live import WS")
    admin = make_member(ws, Role.ADMIN)
    keys = [f"k-{n}" for n in range(10)]
    project, _ = make_import_project(ws, admin, TREE, keys=keys)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"project.{project.pk}", channel)
    client = APIClient()
    client.force_login(admin)
    session = client.session
    session[SESSION_WORKSPACE_KEY] = str(ws.pk)
    session.save()
    lines = [line(uuid=f"p{n}", dataRow={"globalKey": keys[n % 10]}) for n in range(300)]
    r = client.post(
        f"/api/v1/projects/{project.pk}/imports/",
        {"name": "Live", "kind": "prelabels", "lines": lines},
        format="json",
    )
    assert r.status_code == 202, r.content
    events = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        message = async_to_sync(layer.receive)(channel)
        event = message["event"]
        if event["type"] == "import_job.progress":
            events.append(event)
            if event["state"] in {"finished", "finished_with_errors", "failed"}:
                break
    assert [(e["state"], e["processed"], e["lines_written"]) for e in events] == [
        ("running", 100, 100),
        ("running", 200, 200),
        ("running", 300, 300),
        ("finished", 300, 300),
    ]
    assert events[-1]["message"] == "Import Live finished: 300 valid, 0 invalid, 300 written."
    assert {e["job"] for e in events} == {r.json()["id"]}
