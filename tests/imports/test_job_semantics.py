"""Import jobs: warnings, ground-truth labels, notifications, streamed payloads, chunk
boundaries (duplicates, limits, a crash and a retry), line errors."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError

from labelhub.core.errors import ValidationFailed
from labelhub.imports import services
from labelhub.imports.jobs import ImportJobEngine
from labelhub.imports.models import ImportJob, ImportLineError, ImportPayloadChunk
from labelhub.imports.selectors import import_line_errors
from labelhub.imports.services import import_job_create, import_job_report, import_job_run
from labelhub.labeling.models import Annotation, Label, Task
from labelhub.notifications.models import Notification
from tests.imports.helpers import make_import_project
from tests.imports.test_validation import TREE, line

OTHER_PRELABELS = (
    "The data row already holds pre-labels from another import; they are kept and this line "
    "adds to them (delete them first to replace them)."
)
DUPLICATE = (
    'uuid "a" is used twice for this data row in this import; give each annotation its own uuid.'
)


@pytest.fixture
def setup(workspace, admin):
    return make_import_project(workspace, admin, TREE, keys=["row-1", "row-2"], outside=["row-x"])


def create(project, actor, lines, name="nightly", kind="prelabels", dry_run=False):
    return import_job_create(
        project=project, actor=actor, name=name, kind=kind, payload=lines, dry_run=dry_run
    )


def run(job):
    import_job_run(workspace_id=job.workspace_id, job_id=job.pk)
    job.refresh_from_db()
    return job


def report(job):
    return [json.loads(x) for text in import_job_report(job) for x in text.splitlines()]


def on(key):
    return {"dataRow": {"globalKey": key}}


def test_prelabels_onto_rows_with_another_imports_prelabels_are_kept_and_warned(setup, admin):
    project, _ = setup
    first = run(create(project, admin, [line(uuid="a")], name="first"))
    assert first.warnings == 0
    second = run(
        create(project, admin, [line(uuid="b"), line(uuid="c", **on("row-2"))], name="second")
    )
    assert (second.state, second.lines_written, second.warnings) == ("finished", 2, 1)
    statuses = report(second)
    assert statuses[0]["warnings"] == [
        {"name": "RowHasOtherPrelabels", "message": OTHER_PRELABELS, "additionalInfo": None}
    ]
    assert "warnings" not in statuses[1]
    assert sorted(Annotation.objects.values_list("uuid", "job__name")) == [
        ("a", "first"),
        ("b", "second"),
        ("c", "second"),
    ]
    # the importer's notification says so
    entry = Notification.objects.get(user=admin, subject=f"import_job:{second.pk}")
    assert entry.title == (
        "Import second finished: 2 valid, 0 invalid, 2 written, "
        "1 onto rows with pre-labels from another import."
    )


def test_ground_truth_creates_one_submitted_label_per_row_authored_by_the_importer(setup, admin):
    project, rows = setup
    lines = [
        line(uuid="a", isBenchmarkReferenceLabel=True),
        line(uuid="b"),
        line(uuid="c", **on("row-2")),
    ]
    job = run(create(project, admin, lines, kind="ground_truth"))
    assert (job.state, job.lines_written) == ("finished", 3)
    labels = {
        lab.data_row.global_key: lab for lab in Label.objects.select_related("data_row").all()
    }
    assert sorted(labels) == ["row-1", "row-2"]
    assert [
        (lab.author_id, lab.origin, lab.status, lab.is_benchmark_reference, lab.import_job_id)
        for lab in (labels["row-1"], labels["row-2"])
    ] == [
        (admin.pk, "imported", "submitted", True, job.pk),
        (admin.pk, "imported", "submitted", False, job.pk),
    ]
    assert sorted(Annotation.objects.values_list("uuid", "label_id", "source")) == [
        ("a", labels["row-1"].pk, "ground_truth"),
        ("b", labels["row-1"].pk, "ground_truth"),
        ("c", labels["row-2"].pk, "ground_truth"),
    ]
    assert sorted(Task.objects.values_list("data_row__global_key", "status", "labeled")) == [
        ("row-1", "done", True),
        ("row-2", "done", True),
    ]
    # importing the same ground truth again keeps one label per row and author
    again = run(create(project, admin, lines[1:], name="again", kind="ground_truth"))
    assert again.state == "finished"
    assert Label.objects.count() == 2
    assert Label.objects.get(data_row=rows["row-1"]).import_job_id == again.pk
    assert Annotation.objects.count() == 3


def test_benchmark_flag_must_be_a_boolean(setup, admin):
    project, _ = setup
    job = run(create(project, admin, [line(uuid="a", isBenchmarkReferenceLabel="yes")]))
    assert [(s["status"], s["errors"]) for s in report(job)] == [
        (
            "FAILURE",
            [
                {
                    "name": "InvalidBenchmarkFlag",
                    "message": '"isBenchmarkReferenceLabel" must be true or false.',
                    "additionalInfo": None,
                }
            ],
        )
    ]


def test_the_same_file_imported_twice_leaves_the_same_rows(setup, admin):
    project, _ = setup
    lines = [line(uuid="a"), line(uuid="b", **on("row-2"))]
    run(create(project, admin, lines, name="one"))
    before = sorted(Annotation.objects.values_list("pk", "uuid", "data_row", "value"))
    second = run(create(project, admin, lines, name="two"))
    assert (second.state, second.lines_written) == ("finished", 2)
    assert sorted(Annotation.objects.values_list("pk", "uuid", "data_row", "value")) == before
    assert set(Annotation.objects.values_list("job__name", flat=True)) == {"two"}


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_uuid_repeated_in_a_later_chunk_is_a_duplicate(setup, admin, settings, dry_run):
    settings.IMPORTS_CHUNK_SIZE = 1
    project, _ = setup
    lines = [line(uuid="a"), line(uuid="b"), line(uuid="c"), line(uuid="a")]
    job = run(create(project, admin, lines, dry_run=dry_run))
    assert (job.lines_valid, job.lines_invalid, job.lines_written) == (
        3,
        1,
        0 if dry_run else 3,
    )
    assert report(job)[3]["errors"] == [
        {"name": "DuplicateUuid", "message": DUPLICATE, "additionalInfo": None}
    ]


def test_the_per_row_limit_counts_lines_of_earlier_chunks(setup, admin, settings):
    settings.IMPORTS_CHUNK_SIZE = 2
    settings.IMPORTS_MAX_ANNOTATIONS_PER_ROW = 3
    project, _ = setup
    lines = [line(uuid=u) for u in "abcd"] + [line(uuid="e", **on("row-2"))]
    job = run(create(project, admin, lines))
    assert [(s["uuid"], [e["name"] for e in s["errors"]]) for s in report(job)] == [
        ("a", []),
        ("b", []),
        ("c", []),
        ("d", ["TooManyAnnotations"]),
        ("e", []),
    ]
    assert job.lines_written == 4


def test_an_ndjson_file_is_streamed_with_physical_line_numbers(setup, admin, settings):
    settings.IMPORTS_CHUNK_SIZE = 2
    project, _ = setup
    text = "\r\n".join(
        [json.dumps(line(uuid="a")), "", json.dumps(line(uuid="b")), "  ", "{oops"]
    ).encode()
    job = create(project, admin, text + b"\r\n\r\n" + json.dumps(line(uuid="c")).encode())
    chunks = list(
        ImportPayloadChunk.objects.filter(job=job).values_list("seq", "first_line", "count")
    )
    assert chunks == [(0, 1, 2), (1, 5, 2)]
    run(job)
    assert [(s["line"], s["uuid"], s["status"]) for s in report(job)] == [
        (1, "a", "SUCCESS"),
        (3, "b", "SUCCESS"),
        (5, None, "FAILURE"),
        (7, "c", "SUCCESS"),
    ]
    assert (job.total, job.payload_bytes) == (4, len(text) + 4 + len(json.dumps(line(uuid="c"))))


def test_a_file_that_is_not_utf8_is_refused_naming_the_line(setup, admin):
    project, _ = setup
    payload = b"\n".join([json.dumps(line(uuid="a")).encode(), b'{"uuid": "\xff"}'])
    with pytest.raises(ValidationFailed) as exc:
        create(project, admin, payload)
    assert exc.value.details == {
        "file": ["Line 2 is not UTF-8 text; save the file as UTF-8 NDJSON."]
    }
    assert ImportJob.objects.count() == ImportPayloadChunk.objects.count() == 0


def test_an_empty_file_is_refused(setup, admin):
    project, _ = setup
    with pytest.raises(ValidationFailed) as exc:
        create(project, admin, b"\n  \n")
    assert exc.value.details == {"file": ["Give at least one line."]}
    assert ImportJob.objects.count() == 0


def test_line_errors_are_stored_per_error_and_filter_by_name(setup, admin):
    project, _ = setup
    bad_box = line(uuid="b", bbox={"top": 1, "left": 2, "height": -3, "width": 4})
    lines = [line(uuid="a", name="Cra"), bad_box, '{"uuid": ', line(uuid="d")]
    job = run(create(project, admin, lines))
    assert list(
        ImportLineError.objects.filter(job=job).values_list("line", "uuid", "data_row", "name")
    ) == [
        (1, "a", "globalKey: row-1", "FeatureNotFound"),
        (2, "b", "globalKey: row-1", "InvalidGeometry"),
        (3, "", "", "InvalidJson"),
    ]
    assert [e.line for e in import_line_errors(job, name="InvalidGeometry")] == [2]
    assert job.error_summary == {"FeatureNotFound": 1, "InvalidGeometry": 1, "InvalidJson": 1}


def test_a_failed_job_notifies_the_importer(setup, admin):
    project, _ = setup
    job = create(project, admin, [line(uuid="a")])
    services.import_job_fail(workspace_id=job.workspace_id, job_id=job.pk, message="boom")
    entry = Notification.objects.get(user=admin)
    assert (entry.kind, entry.title, entry.url, entry.read_at) == (
        "import.finished",
        "Import nightly failed: boom",
        f"/projects/{project.pk}/imports/{job.pk}/",
        None,
    )


@pytest.mark.django_db(transaction=True)
def test_a_job_killed_midway_and_retried_completes_without_duplicates(
    workspace, admin, settings, monkeypatch
):
    """Outside a test transaction: on PostgreSQL this runs the writer-thread path."""
    settings.IMPORTS_CHUNK_SIZE = 2
    project, _ = make_import_project(workspace, admin, TREE, keys=["row-1", "row-2"])
    lines = [line(uuid=f"u{i}", **on(f"row-{1 + i % 2}")) for i in range(7)]
    lines.insert(3, line(uuid="u1", **on("row-2")))  # a duplicate one chunk later
    from labelhub.imports.tasks import run_import_job_task

    monkeypatch.setattr(run_import_job_task, "delay", lambda **kw: None)
    job = create(project, admin, lines)
    real, calls = ImportJobEngine.write, []

    def dies_on_the_third_chunk(engine, job_, result):
        calls.append(result.seq)
        if result.seq == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real(engine, job_, result)

    monkeypatch.setattr(ImportJobEngine, "write", dies_on_the_third_chunk)
    with pytest.raises(OperationalError):
        import_job_run(workspace_id=job.workspace_id, job_id=job.pk)
    job.refresh_from_db()
    assert (job.state, job.next_chunk, job.lines_written) == ("running", 2, 3)
    monkeypatch.setattr(ImportJobEngine, "write", real)
    job = run(job)
    assert (job.state, job.lines_read, job.lines_invalid, job.lines_written) == (
        "finished_with_errors",
        8,
        1,
        7,
    )
    assert sorted(Annotation.objects.values_list("uuid", flat=True)) == [f"u{i}" for i in range(7)]
    statuses = report(job)
    assert [s["line"] for s in statuses] == list(range(1, 9))
    assert [s["uuid"] for s in statuses if s["status"] == "FAILURE"] == ["u1"]


def test_the_benchmark_mark_survives_later_lines_without_the_flag(setup, admin, settings):
    settings.IMPORTS_CHUNK_SIZE = 1
    project, _ = setup
    lines = [line(uuid="a", isBenchmarkReferenceLabel=True), line(uuid="b")]
    run(create(project, admin, lines, kind="ground_truth"))
    run(create(project, admin, [line(uuid="c")], name="later", kind="ground_truth"))
    assert list(Label.objects.values_list("is_benchmark_reference", flat=True)) == [True]


def test_prelabels_cannot_replace_ground_truth(setup, admin):
    project, _ = setup
    run(create(project, admin, [line(uuid="a")], name="truth", kind="ground_truth"))
    job = run(create(project, admin, [line(uuid="a"), line(uuid="b")], name="model"))
    assert [(s["uuid"], s["errors"]) for s in report(job) if s["errors"]] == [
        (
            "a",
            [
                {
                    "name": "ReplacesGroundTruth",
                    "message": 'uuid "a" is a ground-truth annotation of this data row; a '
                    "pre-label cannot replace it. Give the pre-label its own uuid.",
                    "additionalInfo": None,
                }
            ],
        )
    ]
    assert sorted(Annotation.objects.values_list("uuid", "source")) == [
        ("a", "ground_truth"),
        ("b", "prelabel"),
    ]
    # ground truth may replace a pre-label (it becomes ground truth)
    run(create(project, admin, [line(uuid="b")], name="truth 2", kind="ground_truth"))
    assert Annotation.objects.get(uuid="b").source == "ground_truth"


def test_re_sending_a_file_under_a_new_name_warns_of_nothing(setup, admin):
    project, _ = setup
    lines = [line(uuid="a"), line(uuid="b", **on("row-2"))]
    run(create(project, admin, lines, name="one"))
    again = run(create(project, admin, lines, name="two"))
    assert (again.warnings, again.lines_written) == (0, 2)
    dry = run(create(project, admin, lines, name="dry", dry_run=True))
    assert dry.warnings == 0
