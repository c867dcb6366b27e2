"""annotations_write: bulk upsert by (project, data row, uuid)."""

from __future__ import annotations

import pytest
from django.db import connection

from labelhub.imports.models import ImportJob
from labelhub.labeling.models import Annotation
from labelhub.labeling.services.annotations import annotations_write
from labelhub.labeling.validation import GROUND_TRUTH, validate_line
from tests.imports.helpers import context_for, make_import_project
from tests.imports.test_validation import TREE, line


def _valid(ctx, *lines):
    results = [validate_line(x, context=ctx) for x in ctx.prepare(lines)]
    assert [e for _, e in results] == [[]] * len(lines)
    return [n for n, _ in results]


def _job(project, name, kind=ImportJob.Kind.PRELABELS):
    return ImportJob.objects.create(
        workspace=project.workspace, project=project, name=name, kind=kind
    )


def test_reimporting_a_uuid_replaces_the_annotation(workspace, admin):
    # given two boxes imported by a first job
    project, rows = make_import_project(workspace, admin, TREE, keys=["row-1", "row-2"])
    first = _job(project, "first")
    written = annotations_write(
        project=project,
        job=first,
        normalized_lines=_valid(
            context_for(project), line(uuid="a"), line(uuid="b", confidence=0.5)
        ),
    )
    assert written == 2
    before = Annotation.objects.get(uuid="b")

    # when a second job imports "b" again with another box, and "a" on another row
    second = _job(project, "second")
    moved = {"top": 9, "left": 9, "height": 9, "width": 9}
    written = annotations_write(
        project=project,
        job=second,
        normalized_lines=_valid(
            context_for(project),
            line(uuid="b", bbox=moved, confidence=0.25),
            line(uuid="a", dataRow={"globalKey": "row-2"}),
        ),
    )

    # then "b" is replaced in place and "a" on row 2 is a new annotation
    assert written == 2
    assert Annotation.objects.count() == 3
    after = Annotation.objects.get(uuid="b")
    assert (after.pk, after.created_at) == (before.pk, before.created_at)
    assert (after.value, after.confidence, after.job_id) == ({"bbox": moved}, 0.25, second.pk)
    assert sorted(
        Annotation.objects.values_list("data_row__global_key", "uuid", "job__name", "source")
    ) == [
        ("row-1", "a", "first", "prelabel"),
        ("row-1", "b", "second", "prelabel"),
        ("row-2", "a", "second", "prelabel"),
    ]


def test_ground_truth_jobs_write_ground_truth(workspace, admin):
    project, _ = make_import_project(workspace, admin, TREE, keys=["row-1"])
    job = _job(project, "gt", ImportJob.Kind.GROUND_TRUTH)
    ctx = context_for(project, kind=GROUND_TRUTH)
    annotations_write(
        project=project,
        job=job,
        source="ground_truth",
        normalized_lines=_valid(ctx, line(customMetrics=[{"name": "iou", "value": 0.7}])),
    )
    stored = Annotation.objects.get()
    assert (stored.source, stored.kind, stored.feature.name, stored.custom_metrics) == (
        "ground_truth",
        "bbox",
        "Car",
        [{"name": "iou", "value": 0.7}],
    )
    assert stored.workspace_id == workspace.pk


def test_writes_in_batches(workspace, admin, django_assert_num_queries):
    project, _ = make_import_project(workspace, admin, TREE, keys=["row-1"])
    lines = _valid(context_for(project), *[line(uuid=f"u{i}") for i in range(25)])
    with django_assert_num_queries(5 if connection.vendor == "sqlite" else 4):
        # SQLite: savepoint + 3 inserts + release; PostgreSQL: savepoints around one COPY
        assert (
            annotations_write(project=project, job=None, normalized_lines=lines, batch_size=10)
            == 25
        )
    assert Annotation.objects.count() == 25


def test_postgresql_copy_escapes_text_and_replaces_stored_uuids(workspace, admin):
    project, _ = make_import_project(workspace, admin, TREE, keys=["row-1"])
    odd = 'tab\there\nnew "quoted" back\\slash'
    first = _valid(context_for(project), line(uuid="a\tb"), line(uuid="c", confidence=0.25))
    first[1]["value"]["note"] = odd
    assert annotations_write(project=project, job=None, normalized_lines=first) == 2
    again = _valid(context_for(project), line(uuid="c", confidence=0.5), line(uuid="d"))
    assert [n["replaces"] for n in again] == [True, False]
    assert annotations_write(project=project, job=None, normalized_lines=again) == 2
    stored = {a.uuid: a for a in Annotation.objects.all()}
    assert sorted(stored) == ["a\tb", "c", "d"]
    assert stored["c"].confidence == 0.5
    assert "note" not in stored["c"].value
    assert Annotation.objects.filter(value__note=odd).count() == 0
    first_again = _valid(context_for(project), line(uuid="e"))
    first_again[0]["value"]["note"] = odd
    annotations_write(project=project, job=None, normalized_lines=first_again)
    assert Annotation.objects.get(uuid="e").value["note"] == odd


def test_job_names_are_unique_per_project_case_insensitive(workspace, admin):
    from django.db import IntegrityError, transaction

    project, _ = make_import_project(workspace, admin, TREE)
    _job(project, "Nightly")
    with pytest.raises(IntegrityError), transaction.atomic():
        _job(project, "nightly")
    assert list(ImportJob.objects.values_list("name", "state", "lines_read")) == [
        ("Nightly", "queued", 0)
    ]
