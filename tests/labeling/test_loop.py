"""The labeling loop through its services: the state machine per transition, with the
exact resulting states (task step and status, labels, reservations, events)."""

from __future__ import annotations

import pytest

from labelhub.core.errors import Conflict, NotFound, ValidationFailed
from labelhub.labeling.models import Label, LabelingEvent, Reservation, Review, Skip, Task
from labelhub.labeling.services import queue, review, work
from labelhub.labeling.services.workflow import workflow_of
from tests.labeling.helpers import make_loop_project, people, task_of, weather

pytestmark = pytest.mark.django_db


@pytest.fixture
def loop(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=3)
    labelers, reviewers = people(workspace)
    return project, rows, labelers, reviewers


def kinds(task):
    return list(
        LabelingEvent.objects.filter(task_id=task.pk).order_by("id").values_list("kind", flat=True)
    )


def test_label_review_approve_reaches_done(loop):
    project, rows, (ann, *_), (rev,) = loop
    held = queue.queue_next(project=project, actor=ann)
    assert [r.task.data_row_id for r in held] == [rows[0].pk, rows[1].pk, rows[2].pk]
    task = task_of(project, rows[0])
    assert (task.reserved, task.status) == (1, "to_label")

    label = work.label_submit(task=task, actor=ann, annotations=weather())
    task.refresh_from_db()
    wf = workflow_of(project)
    assert (task.step_id, task.status, task.reserved, task.labels_done) == (
        wf.reviews[0].pk,
        "in_review",
        0,
        1,
    )
    assert (label.author, label.status, label.origin) == (ann, "submitted", "human")
    assert Reservation.objects.filter(user=ann).count() == 2

    [held] = queue.queue_next(project=project, actor=rev, mode="review")
    assert held.task.pk == task.pk
    review.review_decide(task=task, actor=rev, decision="approve", score=90)
    task.refresh_from_db()
    label.refresh_from_db()
    assert (task.step_id, task.status) == (wf.done.pk, "done")
    assert (label.status, label.score) == ("approved", 90.0)
    assert kinds(task) == ["reserved", "submitted", "reserved", "approved", "done"]


def test_reject_rework_to_creator_then_approve(loop):
    project, rows, (ann, other, _), (rev,) = loop
    wf = workflow_of(project)
    from labelhub.labeling.services.workflow import step_update

    step_update(step=wf.rework, actor=project.workspace.memberships.first().user, assignment="creator")
    queue.queue_next(project=project, actor=ann)
    task = task_of(project, rows[0])
    work.label_submit(task=task, actor=ann, annotations=weather())
    queue.queue_next(project=project, actor=rev, mode="review")
    with pytest.raises(ValidationFailed) as exc:
        review.review_decide(task=task, actor=rev, decision="reject")
    assert exc.value.details == {"reason": ["Say why the label is rejected."]}
    review.review_decide(task=task, actor=rev, decision="reject", reason="It was rainy")
    task.refresh_from_db()
    assert (task.step_id, task.status) == (wf.rework.pk, "in_rework")
    assert Label.objects.get(data_row=rows[0]).status == "rejected"
    # the creator gets it; another labeler does not
    assert queue.queue_next(project=project, actor=other, mode="rework") == []
    [held] = queue.queue_next(project=project, actor=ann, mode="rework")
    assert held.task.pk == task.pk
    label = work.label_submit(task=task, actor=ann, annotations=weather("rainy"))
    task.refresh_from_db()
    assert (task.step_id, label.status, label.rework_count) == (wf.reviews[0].pk, "submitted", 1)
    queue.queue_next(project=project, actor=rev, mode="review")
    review.review_decide(task=task, actor=rev, decision="approve")
    task.refresh_from_db()
    assert task.status == "done"
    assert kinds(task) == [
        "reserved",
        "submitted",
        "reserved",
        "rejected",
        "reserved",
        "reworked",
        "reserved",
        "approved",
        "done",
    ]
    assert list(Review.objects.values_list("decision", flat=True)) == ["reject", "approve"]
