"""Label versions: every time a person stores a label's annotations (labeling, rework, an
edit in review) the label keeps what was stored as its next version; the task page's
labels list them, oldest first, in a fixed number of queries."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from labelhub.core.errors import ValidationFailed
from labelhub.labeling.models import Annotation, Label, LabelingEvent, LabelVersion
from labelhub.labeling.selectors.work import annotation_line, labels_of
from labelhub.labeling.services import queue, review, work
from tests.labeling.helpers import make_loop_project, people, schema_id, task_of, weather

pytestmark = pytest.mark.django_db

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def loop(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=2)
    (ann, other, _), (rev,) = people(workspace)
    return project, rows, ann, other, rev


def versions(label):
    return list(
        LabelVersion.objects.filter(label=label)
        .order_by("number")
        .values_list("number", "mode", "author__email")
    )


def without_uuids(lines):
    return [{k: v for k, v in line.items() if k != "uuid"} for line in lines]


def stored(label):
    """The label's annotations as stored, in the order versions keep them."""
    rows = Annotation.objects.filter(label=label).select_related("feature")
    return sorted((annotation_line(a) for a in rows), key=lambda line: line["schemaId"])


def test_label_reject_rework_review_edit_numbers_the_versions(loop):
    project, rows, ann, _, rev = loop
    task = task_of(project, rows[0])
    weather_id = schema_id(project, "weather")
    sunny, rainy = schema_id(project, "weather", "sunny"), schema_id(project, "weather", "rainy")
    notes_id = schema_id(project, "notes")

    queue.queue_next(project=project, actor=ann)
    label = work.label_submit(task=task, actor=ann, annotations=weather("sunny"))
    assert versions(label) == [(1, "label", "l0@alpha.test")]

    queue.queue_next(project=project, actor=rev, mode="review")
    review.review_decide(task=task, actor=rev, decision="reject", reason="It rains.")
    assert versions(label) == [(1, "label", "l0@alpha.test")]  # a decision stores nothing

    queue.queue_next(project=project, actor=ann, mode="rework")
    work.label_submit(task=task, actor=ann, annotations=weather("rainy"))
    assert versions(label) == [(1, "label", "l0@alpha.test"), (2, "rework", "l0@alpha.test")]

    queue.queue_next(project=project, actor=rev, mode="review")
    review.review_decide(
        task=task,
        actor=rev,
        decision="approve",
        annotations=[*weather("rainy"), {"name": "notes", "answer": "Wet road."}],
    )
    assert versions(label) == [
        (1, "label", "l0@alpha.test"),
        (2, "rework", "l0@alpha.test"),
        (3, "review", "r0@alpha.test"),
    ]
    one, two, three = LabelVersion.objects.filter(label=label).order_by("number")
    assert without_uuids(one.annotations) == [
        {"schemaId": weather_id, "name": "weather", "answer": {"schemaId": sunny, "name": "sunny"}}
    ]
    assert without_uuids(two.annotations) == [
        {"schemaId": weather_id, "name": "weather", "answer": {"schemaId": rainy, "name": "rainy"}}
    ]
    # the ontology's order: weather (classifications[0]), then notes (classifications[1])
    assert without_uuids(three.annotations) == [
        {"schemaId": weather_id, "name": "weather", "answer": {"schemaId": rainy, "name": "rainy"}},
        {"schemaId": notes_id, "name": "notes", "answer": "Wet road."},
    ]
    # each version holds the uuids stored then (fresh every time): the last is the label's
    assert all(HEX32.match(line["uuid"]) for v in (one, two, three) for line in v.annotations)
    assert one.annotations[0]["uuid"] != two.annotations[0]["uuid"]
    assert sorted(three.annotations, key=lambda line: line["schemaId"]) == stored(label)
    assert all(v.workspace_id == project.workspace_id for v in (one, two, three))
    label.refresh_from_db()
    task.refresh_from_db()
    assert (label.status, label.rework_count, task.status) == ("approved", 1, "done")
    assert list(
        LabelingEvent.objects.filter(task_id=task.pk, actor=rev)
        .order_by("id")
        .values_list("kind", "mode", "label_id", "annotations")
    ) == [
        ("reserved", "review", None, 0),
        ("rejected", "review", label.pk, 0),
        ("reserved", "review", None, 0),
        ("edited_in_review", "review", label.pk, 2),
        ("approved", "review", label.pk, 0),
        ("done", "", None, 0),
    ]


def test_task_api_lists_versions_oldest_first(loop, api_client_for, workspace):
    project, rows, ann, _, rev = loop
    task = task_of(project, rows[0])
    queue.queue_next(project=project, actor=ann)
    label = work.label_submit(task=task, actor=ann, annotations=weather("sunny"))
    queue.queue_next(project=project, actor=rev, mode="review")
    review.review_decide(task=task, actor=rev, decision="reject", reason="It rains.")
    queue.queue_next(project=project, actor=ann, mode="rework")
    work.label_submit(task=task, actor=ann, annotations=weather("rainy"))
    queue.queue_next(project=project, actor=rev, mode="review")

    page = api_client_for(rev, workspace).get(f"/api/v1/projects/{project.pk}/tasks/{rows[0].pk}/")
    assert page.status_code == 200
    [shown] = page.json()["labels"]
    assert shown["id"] == str(label.pk)
    made = {v.number: v for v in LabelVersion.objects.filter(label=label)}
    assert shown["versions"] == [
        {
            "number": 1,
            "mode": "label",
            "author": {"id": str(ann.pk), "email": "l0@alpha.test"},
            "created_at": made[1].created_at.isoformat(),
            "annotations": made[1].annotations,
        },
        {
            "number": 2,
            "mode": "rework",
            "author": {"id": str(ann.pk), "email": "l0@alpha.test"},
            "created_at": made[2].created_at.isoformat(),
            "annotations": made[2].annotations,
        },
    ]
    assert datetime.fromisoformat(shown["versions"][1]["created_at"]) >= datetime.fromisoformat(
        shown["versions"][0]["created_at"]
    )
    # the latest version is what the label holds now
    assert shown["versions"][-1]["annotations"] == shown["annotations"]


def test_a_removed_author_leaves_a_version_without_author(loop):
    project, rows, ann, _, _ = loop
    queue.queue_next(project=project, actor=ann)
    label = work.label_submit(task=task_of(project, rows[0]), actor=ann, annotations=weather())
    ann.delete()
    [(version,)] = [(v,) for v in labels_of(task_of(project, rows[0]))[0]["versions"]]
    assert (version["number"], version["mode"], version["author"]) == (1, "label", None)
    assert LabelVersion.objects.get().label_id == label.pk


def test_consensus_labels_number_their_versions_apart_in_three_queries(
    workspace, admin, django_assert_num_queries
):
    labelers, _ = people(workspace)
    project, rows = make_loop_project(
        workspace, admin, rows=1, name="Cons", consensus_coverage=100, consensus_labels=3
    )
    task = task_of(project, rows[0])
    for n, person in enumerate(labelers):
        queue.queue_next(project=project, actor=person)
        work.label_submit(
            task=task, actor=person, annotations=weather("sunny" if n % 2 else "rainy")
        )
    labels = Label.objects.filter(project=project).order_by("submitted_at", "id")
    assert [versions(label) for label in labels] == [
        [(1, "label", "l0@alpha.test")],
        [(1, "label", "l1@alpha.test")],
        [(1, "label", "l2@alpha.test")],
    ]
    # labels, their annotations, their versions (with authors): three queries, not 1 + 2n
    with django_assert_num_queries(3):
        listed = labels_of(task)
    assert [
        [(v["number"], v["mode"], v["author"]["email"]) for v in label["versions"]]
        for label in listed
    ] == [
        [(1, "label", "l0@alpha.test")],
        [(1, "label", "l1@alpha.test")],
        [(1, "label", "l2@alpha.test")],
    ]


def test_labels_of_a_row_without_labels_is_one_query(loop, django_assert_num_queries):
    project, rows, *_ = loop
    task = task_of(project, rows[1])
    with django_assert_num_queries(1):  # no label ids: no annotation or version query
        assert labels_of(task) == []


def test_failed_submit_writes_no_version(loop):
    project, rows, ann, _, _ = loop
    queue.queue_next(project=project, actor=ann)
    with pytest.raises(ValidationFailed):  # the required weather is missing
        work.label_submit(task=task_of(project, rows[0]), actor=ann, annotations=[])
    assert LabelVersion.objects.count() == 0
