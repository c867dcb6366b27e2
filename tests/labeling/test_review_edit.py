"""Review edits: a reviewer whose role may rework labels corrects a label while reviewing
(``POST …/tasks/<row>/review/`` with ``annotations``, and ``label`` on consensus rows).
The label's annotations are replaced like a submission's, a version of mode review is
kept, then the decision applies; anything refused changes nothing at all."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from labelhub.labeling.models import (
    Annotation,
    Label,
    LabelingEvent,
    LabelVersion,
    Reservation,
    Review,
    Task,
)
from labelhub.labeling.services import queue, work
from labelhub.labeling.services.workflow import workflow_of
from labelhub.workspaces.models import Role
from tests.factories import make_member
from tests.labeling.helpers import (
    TREE,
    grant_review_only,
    make_loop_project,
    people,
    schema_id,
    task_of,
    weather,
)

pytestmark = pytest.mark.django_db


def page_data(html: str) -> dict:
    """The task page's data for its script."""
    found = re.search(r'<script id="task-data" type="application/json">(.*?)</script>', html)
    assert found, "the task page carries its data"
    return json.loads(found.group(1))


CAR = {
    "name": "Car",
    "bbox": {"top": 10, "left": 20, "height": 30, "width": 40},
    "classifications": [{"name": "occluded", "answer": {"name": "no"}}],
}


@pytest.fixture
def reviewed(workspace, admin, api_client_for):
    """A row labeled by l0 and reserved for review by r0 (a reviewer: may rework)."""
    project, rows = make_loop_project(workspace, admin, rows=2)
    (ann, *_), (rev,) = people(workspace)
    task = task_of(project, rows[0])
    queue.queue_next(project=project, actor=ann)
    label = work.label_submit(task=task, actor=ann, annotations=weather("sunny"))
    queue.queue_next(project=project, actor=rev, mode="review")
    return {
        "project": project,
        "rows": rows,
        "task": task,
        "label": label,
        "ann": ann,
        "rev": rev,
        "client": api_client_for(rev, workspace),
        "url": f"/api/v1/projects/{project.pk}/tasks/{rows[0].pk}/review/",
    }


def state(s):
    """Everything a refused review must leave as it was."""
    task = Task.objects.get(pk=s["task"].pk)
    return (
        sorted(Annotation.objects.filter(label=s["label"]).values_list("uuid", "value")),
        list(LabelVersion.objects.order_by("id").values_list("label", "number", "mode")),
        list(Label.objects.order_by("id").values_list("status", "score", "seconds_review")),
        (task.step_id, task.status, task.reserved),
        Review.objects.count(),
        Reservation.objects.filter(user=s["rev"]).count(),
        LabelingEvent.objects.count(),
    )


def test_a_reviewer_corrects_the_label_then_approves(reviewed):
    s = reviewed
    r = s["client"].post(
        s["url"],
        {"decision": "approve", "annotations": [*weather("rainy"), CAR], "score": 80},
        format="json",
    )
    assert r.status_code == 200
    wf = workflow_of(s["project"])
    assert r.json() == {"status": "done", "step": str(wf.done.pk)}
    label = Label.objects.get()
    assert (label.status, label.author, label.score, label.origin) == (
        "approved",
        s["ann"],
        80.0,
        "human",
    )
    stored = Annotation.objects.filter(label=label).select_related("feature")
    assert sorted((a.feature.name, a.kind, a.source) for a in stored) == [
        ("Car", "bbox", "human"),
        ("weather", "radio", "human"),
    ]
    weather_answer = next(a for a in stored if a.feature.name == "weather")
    assert weather_answer.value["answer"]["name"] == "rainy"
    assert list(
        LabelVersion.objects.filter(label=label)
        .order_by("number")
        .values_list("number", "mode", "author__email")
    ) == [(1, "label", "l0@alpha.test"), (2, "review", "r0@alpha.test")]
    latest = LabelVersion.objects.get(label=label, number=2)
    assert sorted(line["uuid"] for line in latest.annotations) == sorted(a.uuid for a in stored)
    assert [line["name"] for line in latest.annotations] == ["weather", "Car"]
    edit = LabelingEvent.objects.get(kind="edited_in_review")
    assert (edit.actor_id, edit.mode, edit.label_id, edit.annotations, edit.seconds) == (
        s["rev"].pk,
        "review",
        label.pk,
        2,
        0.0,
    )


def test_a_correction_then_reject_sends_the_corrected_label_to_rework(reviewed):
    s = reviewed
    r = s["client"].post(
        s["url"],
        {"decision": "reject", "reason": "Box the car too.", "annotations": weather("rainy")},
        format="json",
    )
    assert r.status_code == 200
    assert r.json()["status"] == "in_rework"
    label = Label.objects.get()
    assert label.status == "rejected"
    # the reworker starts from the reviewer's correction
    queue.queue_next(project=s["project"], actor=s["ann"], mode="rework")
    page = s["client"].get(f"/api/v1/projects/{s['project'].pk}/tasks/{s['rows'][0].pk}/").json()
    assert [line["answer"]["name"] for line in page["labels"][0]["annotations"]] == ["rainy"]
    assert [(v["number"], v["mode"]) for v in page["labels"][0]["versions"]] == [
        (1, "label"),
        (2, "review"),
    ]


def test_without_the_rework_permission_the_edit_is_refused_and_nothing_changes(
    workspace, admin, api_client_for
):
    project, rows = make_loop_project(workspace, admin, rows=1)
    (ann, *_), _ = people(workspace, n_reviewers=0)
    checker = make_member(workspace, Role.PROJECT_BASED, email="checker@alpha.test")
    grant_review_only(workspace, admin, project, checker)
    task = task_of(project, rows[0])
    queue.queue_next(project=project, actor=ann)
    label = work.label_submit(task=task, actor=ann, annotations=weather("sunny"))
    queue.queue_next(project=project, actor=checker, mode="review")
    s = {"task": task, "label": label, "rev": checker}
    before = state(s)
    client = api_client_for(checker, workspace)
    url = f"/api/v1/projects/{project.pk}/tasks/{rows[0].pk}/review/"
    r = client.post(url, {"decision": "approve", "annotations": weather("rainy")}, format="json")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"
    assert state(s) == before
    # the task page tells the editor not to offer the edit; a plain decision still works
    html = client.get(f"/projects/{project.pk}/tasks/{rows[0].pk}/?mode=review").content.decode()
    assert page_data(html)["can_edit_in_review"] is False
    r = client.post(url, {"decision": "approve"}, format="json")
    assert (r.status_code, r.json()["status"]) == (200, "done")
    assert LabelVersion.objects.filter(label=label).count() == 1


def test_invalid_annotations_are_400_by_index_and_nothing_changes(reviewed):
    s = reviewed
    before = state(s)
    r = s["client"].post(
        s["url"],
        {"decision": "approve", "annotations": [{"name": "Boat", "point": {"x": 1, "y": 2}}]},
        format="json",
    )
    assert r.status_code == 400
    assert list(r.json()["error"]["details"]) == ["annotations[0]"]
    assert state(s) == before
    for body, field in [
        ({"decision": "approve", "annotations": [*weather(), "car"]}, "annotations[1]"),
        ({"decision": "approve", "annotations": {"name": "weather"}}, "annotations"),
        ({"decision": "approve", "annotations": []}, "required"),  # weather is required
        ({"decision": "reject", "annotations": weather()}, "reason"),
    ]:
        r = s["client"].post(s["url"], body, format="json")
        assert r.status_code == 400, body
        assert list(r.json()["error"]["details"]) == [field], body
        assert state(s) == before
    # a bad score after a valid edit rolls the edit back too
    r = s["client"].post(
        s["url"],
        {"decision": "approve", "annotations": weather("rainy"), "scores": {"nope": 5}},
        format="json",
    )
    assert (r.status_code, list(r.json()["error"]["details"])) == (400, ["scores"])
    assert state(s) == before


def test_consensus_rows_need_the_label_named(workspace, admin, api_client_for):
    (a, b, _), (rev,) = people(workspace)
    project, rows = make_loop_project(
        workspace, admin, rows=2, name="Cons", consensus_coverage=100, consensus_labels=2
    )
    task = task_of(project, rows[0])
    for person, answer in ((a, "sunny"), (b, "rainy")):
        queue.queue_next(project=project, actor=person)
        work.label_submit(task=task, actor=person, annotations=weather(answer))
    queue.queue_next(project=project, actor=rev, mode="review")
    label_a = Label.objects.get(author=a)
    label_b = Label.objects.get(author=b)
    other_row = Label.objects.create(
        workspace=workspace,
        project=project,
        data_row=rows[1],
        author=admin,
        origin="human",
        submitted_at=label_a.submitted_at,
    )
    client = api_client_for(rev, workspace)
    url = f"/api/v1/projects/{project.pk}/tasks/{rows[0].pk}/review/"
    s = {"task": task, "label": label_b, "rev": rev}
    before = state(s)
    for extra in ({}, {"label": "not-an-id"}, {"label": str(other_row.pk)}, {"label": ""}):
        r = client.post(
            url, {"decision": "approve", "annotations": weather("sunny"), **extra}, format="json"
        )
        assert r.status_code == 400, extra
        assert list(r.json()["error"]["details"]) == ["label"], extra
        assert state(s) == before
    r = client.post(
        url,
        {"decision": "approve", "annotations": weather("sunny"), "label": str(label_b.pk)},
        format="json",
    )
    assert r.status_code == 200
    assert [
        (v.label_id, v.number, v.mode)
        for v in LabelVersion.objects.filter(label__in=[label_a, label_b]).order_by(
            "label__submitted_at", "number"
        )
    ] == [
        (label_a.pk, 1, "label"),
        (label_b.pk, 1, "label"),
        (label_b.pk, 2, "review"),
    ]
    sunny = schema_id(project, "weather", "sunny")
    for label in (label_a, label_b):
        [answer] = Annotation.objects.filter(label=label)
        assert answer.value["answer"]["schemaId"] == sunny  # b's rainy became sunny
    assert LabelingEvent.objects.get(kind="edited_in_review").label_id == label_b.pk


def test_a_label_named_without_annotations_must_still_be_the_rows(reviewed):
    s = reviewed
    r = s["client"].post(s["url"], {"decision": "approve", "label": "nope"}, format="json")
    assert (r.status_code, list(r.json()["error"]["details"])) == (400, ["label"])
    r = s["client"].post(
        s["url"], {"decision": "approve", "label": str(s["label"].pk)}, format="json"
    )
    assert r.status_code == 200
    assert LabelVersion.objects.filter(mode="review").count() == 0  # nothing was edited


def test_relationships_follow_the_fresh_uuids(workspace, admin, api_client_for):
    tree = {**TREE, "tools": [*TREE["tools"], {"tool": "edge", "name": "Follows"}]}
    project, rows = make_loop_project(workspace, admin, rows=1, name="Edges", tree=tree)
    (ann, *_), (rev,) = people(workspace)
    task = task_of(project, rows[0])
    queue.queue_next(project=project, actor=ann)
    work.label_submit(task=task, actor=ann, annotations=weather())
    queue.queue_next(project=project, actor=rev, mode="review")
    edit = [
        *weather(),
        {"uuid": "front", **CAR},
        {"uuid": "back", **CAR, "bbox": {"top": 50, "left": 60, "height": 10, "width": 10}},
        {"name": "Follows", "relationship": {"source": "back", "target": "front"}},
    ]
    r = api_client_for(rev, workspace).post(
        f"/api/v1/projects/{project.pk}/tasks/{rows[0].pk}/review/",
        {"decision": "approve", "annotations": edit},
        format="json",
    )
    assert r.status_code == 200
    stored = {a.kind: a for a in Annotation.objects.filter(project=project, kind="relationship")}
    cars = {
        a.value["bbox"]["top"]: a.uuid
        for a in Annotation.objects.filter(project=project, kind="bbox")
    }
    ends = stored["relationship"].value["relationship"]
    assert (ends["source"], ends["target"]) == (cars[50], cars[10])
    assert "front" not in cars.values() and "back" not in cars.values()
    version = LabelVersion.objects.get(mode="review")
    [line] = [line for line in version.annotations if line["name"] == "Follows"]
    assert (line["relationship"]["source"], line["relationship"]["target"]) == (cars[50], cars[10])


def test_task_page_data_tells_the_editor_what_it_may_do(reviewed, workspace):
    s = reviewed
    client = Client()
    client.force_login(s["rev"])
    url = f"/projects/{s['project'].pk}/tasks/{s['rows'][0].pk}/?mode=review"
    data = page_data(client.get(url).content.decode())
    assert (data["can_edit_in_review"], data["authentic_input"]) == (True, False)
    project = s["project"]
    project.authentic_input_protection = True
    project.save()
    assert page_data(client.get(url).content.decode())["authentic_input"] is True
