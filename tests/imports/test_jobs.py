"""Import jobs: create, run chunk by chunk, counters, report, dry run, re-run, ground truth."""

from __future__ import annotations

import json

import pytest

from labelhub.core.errors import Conflict, PermissionDenied, ValidationFailed
from labelhub.core.models import AuditLogEntry
from labelhub.imports.models import ImportJob, ImportReportChunk
from labelhub.imports.services import (
    import_job_create,
    import_job_fail,
    import_job_report,
    import_job_run,
)
from labelhub.labeling.models import Annotation, Task
from labelhub.workspaces.models import Role
from tests.factories import make_member
from tests.imports.helpers import make_import_project
from tests.imports.test_validation import TREE, line

NOT_IN_PROJECT = (
    'Data row "row-x" is not in a batch of this project; send it to the project in a batch first.'
)
BAD_JSON = "The line is not valid JSON (unexpected end of data at column 10); write one JSON object per line."


@pytest.fixture
def setup(workspace, admin):
    return make_import_project(workspace, admin, TREE, keys=["row-1", "row-2"], outside=["row-x"])


def mixed_lines():
    """Lines 1, 2 and 5 are valid; 3 names a row outside the project; 4 is not JSON."""
    return [
        json.dumps(line(uuid="a")),
        line(uuid="b", dataRow={"globalKey": "row-2"}),
        line(uuid="c", dataRow={"globalKey": "row-x"}),
        '{"uuid": ',
        line(uuid="d", dataRow={"globalKey": "row-2"}),
    ]


def expected_report():
    def ok(n, uuid, key):
        return {
            "line": n,
            "uuid": uuid,
            "dataRow": {"globalKey": key},
            "status": "SUCCESS",
            "errors": [],
        }

    return [
        ok(1, "a", "row-1"),
        ok(2, "b", "row-2"),
        {
            "line": 3,
            "uuid": "c",
            "dataRow": {"globalKey": "row-x"},
            "status": "FAILURE",
            "errors": [
                {"name": "DataRowNotInProject", "message": NOT_IN_PROJECT, "additionalInfo": None}
            ],
        },
        {
            "line": 4,
            "uuid": None,
            "dataRow": None,
            "status": "FAILURE",
            "errors": [{"name": "InvalidJson", "message": BAD_JSON, "additionalInfo": None}],
        },
        ok(5, "d", "row-2"),
    ]


def create(project, actor, name="nightly", kind="prelabels", dry_run=False, lines=None):
    return import_job_create(
        project=project,
        actor=actor,
        name=name,
        kind=kind,
        payload=mixed_lines() if lines is None else lines,
        dry_run=dry_run,
    )


def counters(job):
    job.refresh_from_db()
    return (
        job.state,
        job.total,
        job.processed,
        job.lines_read,
        job.lines_valid,
        job.lines_invalid,
        job.lines_written,
    )


def report_of(job):
    return [json.loads(x) for text in import_job_report(job) for x in text.splitlines()]


def run(job):
    return import_job_run(workspace_id=job.workspace_id, job_id=job.pk)


def test_mixed_file_counters_states_and_report(setup, admin, settings):
    settings.IMPORTS_CHUNK_SIZE = 2  # three chunks
    project, rows = setup
    job = create(project, admin)
    assert counters(job) == ("queued", 5, 0, 0, 0, 0, 0)

    run(job)

    assert counters(job) == ("finished_with_errors", 5, 5, 5, 3, 2, 3)
    assert report_of(job) == expected_report()
    assert job.error_summary == {"DataRowNotInProject": 1, "InvalidJson": 1}
    assert job.next_chunk == 3
    assert job.finished_at is not None
    assert sorted(
        Annotation.objects.values_list("data_row__global_key", "uuid", "source", "job")
    ) == [
        ("row-1", "a", "prelabel", job.pk),
        ("row-2", "b", "prelabel", job.pk),
        ("row-2", "d", "prelabel", job.pk),
    ]
    assert list(
        AuditLogEntry.objects.filter(verb__startswith="import.")
        .order_by("created_at")
        .values_list("verb", "after")
    ) == [
        (
            "import.created",
            {
                "project": str(project.pk),
                "name": "nightly",
                "kind": "prelabels",
                "dry_run": False,
                "lines": 5,
            },
        ),
        (
            "import.finished",
            {
                "state": "finished_with_errors",
                "lines_read": 5,
                "lines_valid": 3,
                "lines_invalid": 2,
                "lines_written": 3,
                "warnings": 0,
            },
        ),
    ]


def test_all_valid_finishes(setup, admin):
    project, _ = setup
    job = create(project, admin, lines=[line(uuid="a"), line(uuid="b")])
    run(job)
    assert counters(job) == ("finished", 2, 2, 2, 2, 0, 2)


def test_dry_run_validates_and_writes_nothing(setup, admin):
    project, _ = setup
    job = create(project, admin, kind="ground_truth", dry_run=True)
    run(job)
    assert counters(job) == ("finished_with_errors", 5, 5, 5, 3, 2, 0)
    assert report_of(job) == expected_report()
    assert Annotation.objects.count() == 0
    assert set(Task.objects.values_list("status", "labeled")) == {("to_label", False)}


def test_rerun_is_idempotent(setup, admin, settings):
    settings.IMPORTS_CHUNK_SIZE = 2
    project, _ = setup
    job = create(project, admin)
    run(job)
    before = sorted(Annotation.objects.values_list("pk", "uuid", "updated_at"))
    run(job)
    assert counters(job) == ("finished_with_errors", 5, 5, 5, 3, 2, 3)
    assert len(report_of(job)) == 5
    assert sorted(Annotation.objects.values_list("pk", "uuid", "updated_at")) == before
    assert AuditLogEntry.objects.filter(verb="import.finished").count() == 1


def test_rerun_continues_from_the_next_chunk(setup, admin, settings):
    settings.IMPORTS_CHUNK_SIZE = 2
    project, _ = setup
    job = create(project, admin)
    # a first run committed one chunk, then the worker died
    ImportJob.objects.filter(pk=job.pk).update(
        state="running",
        processed=2,
        lines_read=2,
        lines_valid=2,
        lines_written=0,
        next_chunk=1,
    )
    first = "\n".join(json.dumps(s, separators=(",", ":")) for s in expected_report()[:2])
    ImportReportChunk.objects.create(job=job, offset=0, text=first)
    run(job)
    assert counters(job) == ("finished_with_errors", 5, 5, 5, 3, 2, 1)
    assert report_of(job) == expected_report()
    # lines 1 and 2 were not written again by this run
    assert sorted(Annotation.objects.values_list("uuid", flat=True)) == ["d"]


def test_ground_truth_moves_tasks_to_done(setup, admin):
    project, rows = setup
    job = create(project, admin, kind="ground_truth", lines=[line(uuid="a")])
    run(job)
    assert counters(job) == ("finished", 1, 1, 1, 1, 0, 1)
    assert sorted(Task.objects.values_list("data_row__global_key", "status", "labeled")) == [
        ("row-1", "done", True),
        ("row-2", "to_label", False),
    ]
    assert Annotation.objects.get().source == "ground_truth"


def test_prelabels_never_touch_tasks(setup, admin):
    project, _ = setup
    job = create(project, admin)
    run(job)
    assert Annotation.objects.count() == 3
    assert set(Task.objects.values_list("status", "labeled")) == {("to_label", False)}


def test_duplicate_name_is_a_conflict(setup, admin):
    project, _ = setup
    create(project, admin, name="Nightly")
    with pytest.raises(Conflict) as exc:
        create(project, admin, name=" nightly ")
    assert exc.value.details == {
        "name": ["An import with this name already exists in the project."]
    }
    assert ImportJob.objects.count() == 1


def test_create_checks_its_input(setup, admin):
    project, _ = setup
    with pytest.raises(ValidationFailed) as exc:
        create(project, admin, kind="labels")
    assert exc.value.details == {"kind": ["Choose one of prelabels, ground_truth."]}
    with pytest.raises(ValidationFailed) as exc:
        create(project, admin, lines=[])
    assert exc.value.details == {"lines": ["Give at least one line."]}
    with pytest.raises(ValidationFailed) as exc:
        create(project, admin, name="  ")
    assert exc.value.details == {"name": ["This field is required."]}
    assert ImportJob.objects.count() == 0


def test_create_needs_import_labels(setup, workspace):
    project, _ = setup
    labeler = make_member(workspace, Role.LABELER, email="lab@alpha.test")
    with pytest.raises(PermissionDenied):
        create(project, labeler)
    assert ImportJob.objects.count() == 0


def test_a_failed_job_records_why(setup, admin):
    project, _ = setup
    job = create(project, admin)
    import_job_fail(workspace_id=job.workspace_id, job_id=job.pk, message="database unavailable")
    job.refresh_from_db()
    assert (job.state, job.message) == ("failed", "database unavailable")
    assert AuditLogEntry.objects.get(verb="import.finished").after["state"] == "failed"
    run(job)  # a failed job is left alone
    assert counters(job)[0] == "failed"


def test_an_internal_error_fails_the_job_through_the_task(setup, admin, monkeypatch):
    from labelhub.imports import jobs
    from labelhub.imports.tasks import run_import_job_task

    project, _ = setup
    job = create(project, admin)

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(jobs, "annotations_write", boom)
    with pytest.raises(RuntimeError):
        run_import_job_task.apply(
            kwargs={"workspace_id": str(job.workspace_id), "job_id": str(job.pk)}, throw=True
        )
    job.refresh_from_db()
    assert (job.state, job.message) == ("failed", "an internal error (RuntimeError)")
    assert Annotation.objects.count() == 0


def test_progress_is_pushed_to_the_importer_and_project_viewers(setup, admin, monkeypatch):
    from labelhub.core import jobs

    sent = []
    monkeypatch.setattr(
        jobs, "send_event_on_commit", lambda event, groups: sent.append((event, groups))
    )
    project, _ = setup
    job = create(project, admin, lines=[line(uuid="a")])
    run(job)
    groups = [f"user.{admin.pk}", f"project.{project.pk}"]
    assert [(e["type"], e["state"], e["lines_written"], g) for e, g in sent] == [
        ("import_job.progress", "running", 1, groups),
        ("import_job.progress", "finished", 1, groups),
    ]
    assert sent[-1][0]["message"] == "Import nightly finished: 1 valid, 0 invalid, 1 written."
    # the importer learns it from their notification: their pages show no banner of it
    assert sent[-1][0]["notified_user"] == str(admin.pk)
    assert "notified_user" not in sent[0][0]


def test_a_new_import_is_announced_to_the_project(setup, admin, monkeypatch):
    from labelhub.imports import services

    sent = []
    monkeypatch.setattr(
        services, "send_event_on_commit", lambda event, groups: sent.append((event, groups))
    )
    project, _ = setup
    job = create(project, admin, lines=[line(uuid="a")])
    assert [(e["type"], e["job"], e["name"], e["state"], g) for e, g in sent] == [
        ("import_job.created", str(job.pk), "nightly", "queued", [f"project.{project.pk}"])
    ]


def test_a_relationship_may_name_objects_of_a_later_chunk(setup, admin, settings):
    settings.IMPORTS_CHUNK_SIZE = 1
    project, _ = setup
    rel = line(
        uuid="rel", bbox=None, name="Follows", relationship={"source": "dog", "target": "cat"}
    )
    lost = line(
        uuid="rel2", bbox=None, name="Follows", relationship={"source": "dog", "target": "cow"}
    )
    job = create(project, admin, lines=[rel, lost, line(uuid="dog"), line(uuid="cat")])
    run(job)
    assert counters(job) == ("finished_with_errors", 4, 4, 4, 3, 1, 3)
    assert [(s["uuid"], [e["name"] for e in s["errors"]]) for s in report_of(job)] == [
        ("rel", []),
        ("rel2", ["RelationshipTargetNotFound"]),
        ("dog", []),
        ("cat", []),
    ]


def test_a_fresh_start_is_not_news_in_the_log_a_resume_is(setup, admin, caplog):
    """Seeding the demo printed "job … starts at chunk 0" for every import; the worker
    already logs each task it receives. A job that starts again after a crash is news."""
    import logging

    from labelhub.imports.models import ImportJob

    project, _ = setup
    fresh = create(project, admin, lines=[line(uuid="a")])
    with caplog.at_level(logging.INFO, logger="labelhub.core.jobs"):
        run(fresh)
    said = [r.getMessage() for r in caplog.records if r.name == "labelhub.core.jobs"]
    assert [m for m in said if "chunk" in m] == []

    again = create(project, admin, name="again", lines=[line(uuid="b")])
    ImportJob.objects.filter(pk=again.pk).update(state="running", runs=1)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="labelhub.core.jobs"):
        run(again)
    said = [r.getMessage() for r in caplog.records if r.name == "labelhub.core.jobs"]
    assert f"job {again.pk} (imports.run_import_job) resumes at chunk 0 (run 2)" in said
