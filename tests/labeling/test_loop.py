"""The labeling loop through its services: the state machine per transition, with the
exact resulting states (task step and status, labels, reservations, events)."""

from __future__ import annotations

import pytest

from labelhub.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from labelhub.labeling.models import (
    Contributor,
    Draft,
    Label,
    LabelingEvent,
    Reservation,
    Review,
    Skip,
    Task,
)
from labelhub.labeling.selectors.queue import waiting_for
from labelhub.labeling.services import queue, review, work
from labelhub.labeling.services.workflow import step_update, workflow_of
from labelhub.notifications.models import Notification
from labelhub.projects.services.projects import instructions_acknowledge
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


def state(task):
    task.refresh_from_db()
    return (task.step.kind, task.status, task.reserved, task.labels_done)


def test_label_review_approve_reaches_done(loop):
    project, rows, (ann, *_), (rev,) = loop
    held = queue.queue_next(project=project, actor=ann)
    assert [r.task.data_row_id for r in held] == [rows[0].pk, rows[1].pk, rows[2].pk]
    task = task_of(project, rows[0])
    assert state(task) == ("label", "to_label", 1, 0)

    label = work.label_submit(task=task, actor=ann, annotations=weather())
    assert state(task) == ("review", "in_review", 0, 1)
    assert (label.author, label.status, label.origin) == (ann, "submitted", "human")
    assert Reservation.objects.filter(user=ann).count() == 2

    [held] = queue.queue_next(project=project, actor=rev, mode="review")
    assert held.task.pk == task.pk
    assert state(task) == ("review", "in_review", 1, 1)
    review.review_decide(task=task, actor=rev, decision="approve", score=90)
    label.refresh_from_db()
    assert state(task) == ("done", "done", 0, 1)
    assert (label.status, label.score) == ("approved", 90.0)
    assert kinds(task) == ["reserved", "submitted", "reserved", "approved", "done"]
    event = LabelingEvent.objects.get(task_id=task.pk, kind="submitted")
    assert (event.actor_id, event.mode, event.label_id, event.annotations) == (
        ann.pk,
        "label",
        label.pk,
        1,
    )
    assert (event.workspace_id, event.project_id, event.data_row_id) == (
        project.workspace_id,
        project.pk,
        rows[0].pk,
    )


def test_reject_rework_to_creator_then_approve(loop, admin):
    project, rows, (ann, other, _), (rev,) = loop
    wf = workflow_of(project)
    step_update(step=wf.rework, actor=admin, assignment="creator")
    queue.queue_next(project=project, actor=ann)
    task = task_of(project, rows[0])
    work.label_submit(task=task, actor=ann, annotations=weather())
    queue.queue_next(project=project, actor=rev, mode="review")
    with pytest.raises(ValidationFailed) as exc:
        review.review_decide(task=task, actor=rev, decision="reject")
    assert exc.value.details == {"reason": ["Say why the label is rejected."]}
    review.review_decide(task=task, actor=rev, decision="reject", reason="It was rainy")
    assert state(task) == ("rework", "in_rework", 0, 1)
    assert Label.objects.get(data_row=rows[0]).status == "rejected"
    note = Notification.objects.get(user=ann, kind="label.rejected")
    assert (note.title, note.body) == ("Your label in Loop was rejected", "It was rainy")
    # the creator gets it; another labeler does not
    assert queue.queue_next(project=project, actor=other, mode="rework") == []
    [held] = queue.queue_next(project=project, actor=ann, mode="rework")
    assert held.task.pk == task.pk
    label = work.label_submit(task=task, actor=ann, annotations=weather("rainy"))
    assert state(task) == ("review", "in_review", 0, 1)
    assert (label.status, label.rework_count, label.author) == ("submitted", 1, ann)
    queue.queue_next(project=project, actor=rev, mode="review")
    review.review_decide(task=task, actor=rev, decision="approve")
    assert state(task)[:2] == ("done", "done")
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


def test_rework_attempt_cap_sends_the_row_to_someone_else(loop, admin):
    project, rows, (ann, other, _), (rev,) = loop
    wf = workflow_of(project)
    step_update(step=wf.rework, actor=admin, assignment="creator", max_rework_attempts=1)
    queue.queue_next(project=project, actor=ann)
    task = task_of(project, rows[0])
    work.label_submit(task=task, actor=ann, annotations=weather())
    queue.queue_next(project=project, actor=rev, mode="review")
    review.review_decide(task=task, actor=rev, decision="reject", reason="no")
    # attempt 1 is the creator's
    assert queue.queue_next(project=project, actor=other, mode="rework") == []
    queue.queue_next(project=project, actor=ann, mode="rework")
    work.label_submit(task=task, actor=ann, annotations=weather("rainy"))
    queue.queue_next(project=project, actor=rev, mode="review")
    review.review_decide(task=task, actor=rev, decision="reject", reason="still no")
    # the cap is reached: the creator is not served it again, someone else is
    assert queue.queue_next(project=project, actor=ann, mode="rework") == []
    [held] = queue.queue_next(project=project, actor=other, mode="rework")
    assert held.task.pk == task.pk
    label = work.label_submit(task=task, actor=other, annotations=weather())
    # the rework edits the rejected label in place: its author stays
    assert (label.author, label.rework_count, label.status) == (ann, 2, "submitted")
    assert Label.objects.filter(data_row=rows[0]).count() == 1


def test_any_labeler_rework_is_served_to_anyone(loop):
    project, rows, (ann, other, _), (rev,) = loop
    queue.queue_next(project=project, actor=ann)
    task = task_of(project, rows[0])
    work.label_submit(task=task, actor=ann, annotations=weather())
    queue.queue_next(project=project, actor=rev, mode="review")
    review.review_decide(task=task, actor=rev, decision="reject", reason="no")
    [held] = queue.queue_next(project=project, actor=other, mode="rework")
    assert held.task.pk == task.pk
    # held by one person at a time
    assert queue.queue_next(project=project, actor=ann, mode="rework") == []


def test_nobody_reviews_their_own_label(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=1)
    queue.queue_next(project=project, actor=admin)
    work.label_submit(task=task_of(project, rows[0]), actor=admin, annotations=weather())
    assert queue.queue_next(project=project, actor=admin, mode="review") == []


def test_submit_checks_required_features_and_the_ontology(loop):
    project, rows, (ann, *_), _ = loop
    queue.queue_next(project=project, actor=ann)
    task = task_of(project, rows[0])
    with pytest.raises(ValidationFailed) as exc:
        work.label_submit(task=task, actor=ann, annotations=[])
    assert exc.value.details == {"required": ["weather is required."]}
    box = {"name": "Car", "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}}
    with pytest.raises(ValidationFailed) as exc:
        work.label_submit(task=task, actor=ann, annotations=[*weather(), box])
    assert exc.value.details == {"required": ["Car › occluded is required."]}
    with pytest.raises(ValidationFailed) as exc:
        work.label_submit(task=task, actor=ann, annotations=[{"name": "Bicycle", "point": {}}])
    assert list(exc.value.details) == ["annotations[0]"]
    assert exc.value.details["annotations[0]"][0].startswith("FeatureNotFound: ")
    with pytest.raises(ValidationFailed) as exc:
        work.label_submit(task=task, actor=ann, annotations={"name": "weather"})
    assert exc.value.details == {"annotations": ["Give the annotations as a list."]}
    # nothing was written by the refusals
    assert (Label.objects.count(), state(task)) == (0, ("label", "to_label", 1, 0))


def test_submit_needs_the_reservation(loop):
    project, rows, (ann, other, _), _ = loop
    task = task_of(project, rows[0])
    with pytest.raises(NotFound):
        work.label_submit(task=task, actor=ann, annotations=weather())
    queue.queue_next(project=project, actor=ann)
    with pytest.raises(NotFound):
        work.label_submit(task=task, actor=other, annotations=weather())


def test_prelabels_become_the_labelers_annotations(loop):
    from labelhub.labeling.models import Annotation
    from labelhub.labeling.selectors.work import task_view

    project, rows, (ann, *_), _ = loop
    task = task_of(project, rows[0])
    Annotation.objects.create(
        workspace=project.workspace,
        project=project,
        data_row=rows[0],
        feature=project.ontology.features.get(name="Car"),
        kind="bbox",
        value={
            "bbox": {"top": 5, "left": 6, "height": 7, "width": 8},
            "classifications": [{"name": "occluded", "answer": {"name": "yes"}}],
        },
        source="prelabel",
        confidence=0.9,
        uuid="model-1",
    )
    queue.queue_next(project=project, actor=ann)
    view = task_view(task, ann)
    assert [line["uuid"] for line in view["prelabels"]] == ["model-1"]
    label = work.label_submit(task=task, actor=ann, annotations=[*weather(), *view["prelabels"]])
    mine = Annotation.objects.filter(label=label).order_by("kind")
    assert [(a.kind, a.source, a.value.get("bbox")) for a in mine] == [
        ("bbox", "human", {"top": 5, "left": 6, "height": 7, "width": 8}),
        ("radio", "human", None),
    ]
    # the pre-label itself stays, under its own uuid
    assert Annotation.objects.get(uuid="model-1").source == "prelabel"


def test_drafts_survive_until_submit(loop):
    project, rows, (ann, other, _), _ = loop
    queue.queue_next(project=project, actor=ann)
    task = task_of(project, rows[0])
    work.draft_save(task=task, actor=ann, payload={"weather": "sunny"})
    work.draft_save(task=task, actor=ann, payload={"weather": "rainy"})
    assert work.draft_of(task=task, user=ann).payload == {"weather": "rainy"}
    with pytest.raises(ValidationFailed) as exc:
        work.draft_save(task=task, actor=ann, payload=["x"])
    assert exc.value.details == {"draft": ["Give the draft as a JSON object."]}
    with pytest.raises(ValidationFailed):
        work.draft_save(task=task, actor=ann, payload={"x": "y" * (2 * 1024 * 1024)})
    with pytest.raises(NotFound):
        work.draft_save(task=task, actor=other, payload={})
    work.label_submit(task=task, actor=ann, annotations=weather())
    assert Draft.objects.count() == 0


def test_skip_keeps_the_row_for_others_until_the_limit(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=1)
    project.skip_limit = 2
    project.save()
    a, b, c = people(workspace, n_labelers=3, n_reviewers=0)[0]
    task = task_of(project, rows[0])
    queue.queue_next(project=project, actor=a)
    work.task_skip(task=task, actor=a, reason="blurry")
    assert state(task) == ("label", "to_label", 0, 0)
    assert task.skip_count == 1
    assert list(Skip.objects.values_list("user", "reason")) == [(a.pk, "blurry")]
    # never served to a again; served to b
    assert queue.queue_next(project=project, actor=a) == []
    queue.queue_next(project=project, actor=b)
    work.task_skip(task=task, actor=b)
    # the limit is reached with no label: nothing to review, the row is done as skipped
    assert state(task) == ("done", "skipped", 0, 0)
    assert queue.queue_next(project=project, actor=c) == []
    assert kinds(task) == ["reserved", "skipped", "reserved", "skipped", "done"]


def test_a_consensus_row_with_labels_goes_to_review_at_the_skip_limit(workspace, admin):
    a, b, c = people(workspace, n_labelers=3, n_reviewers=0)[0]
    project, rows = make_loop_project(
        workspace, admin, rows=1, consensus_coverage=100, consensus_labels=3
    )
    project.skip_limit = 2
    project.save()
    task = task_of(project, rows[0])
    for person in (a, b, c):
        queue.queue_next(project=project, actor=person)
    work.label_submit(task=task, actor=a, annotations=weather())
    work.task_skip(task=task, actor=b)
    assert state(task) == ("label", "to_label", 1, 1)
    work.task_skip(task=task, actor=c)
    # one label of three, and nobody left to skip it: the label goes to review
    assert state(task) == ("review", "in_review", 0, 1)


def test_skip_limit_to_done_marks_skipped_and_skip_can_be_off(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=2)
    project.skip_limit = 1
    project.save()
    wf = workflow_of(project)
    from labelhub.labeling.services.workflow import review_step_remove

    review_step_remove(step=wf.reviews[0], actor=admin)
    (a,), _ = people(workspace, n_labelers=1, n_reviewers=0)
    queue.queue_next(project=project, actor=a)
    task = task_of(project, rows[0])
    work.task_skip(task=task, actor=a)
    assert state(task) == ("done", "skipped", 0, 0)
    project.allow_skip = False
    project.save()
    with pytest.raises(Conflict):
        work.task_skip(task=task_of(project, rows[1]), actor=a)
    assert task_of(project, rows[1]).skip_count == 0


def test_consensus_rows_go_to_distinct_labelers(workspace, admin):
    # the labelers exist first: a consensus batch needs as many labelers as labels per row
    a, b, c, d = people(workspace, n_labelers=4, n_reviewers=0)[0]
    project, rows = make_loop_project(
        workspace, admin, rows=2, consensus_coverage=100, consensus_labels=3
    )
    assert list(Task.objects.values_list("labels_needed", flat=True)) == [3, 3]
    for person in (a, b, c):
        assert len(queue.queue_next(project=project, actor=person)) == 2
    # three holders each: the fourth gets nothing
    assert queue.queue_next(project=project, actor=d) == []
    assert list(Task.objects.values_list("reserved", flat=True)) == [3, 3]
    task = task_of(project, rows[0])
    for person in (a, b):
        work.label_submit(task=task, actor=person, annotations=weather())
    assert state(task) == ("label", "to_label", 1, 2)
    # a labeled it: never served again, even with room
    queue.reservation_release(task=task, actor=c)
    # (a still holds the other row; the labeled one is not added back)
    assert [r.task.data_row_id for r in queue.queue_next(project=project, actor=a)] == [rows[1].pk]
    [held] = queue.queue_next(project=project, actor=d)
    assert held.task.pk == task.pk
    work.label_submit(task=task, actor=d, annotations=weather())
    assert state(task) == ("review", "in_review", 0, 3)
    assert Label.objects.filter(data_row=rows[0]).count() == 3


def test_hidden_and_assigned_rows(loop, admin):
    from labelhub.labeling.services import actions

    project, rows, (ann, other, _), _ = loop
    actions.tasks_hide(project=project, actor=admin, data_row_ids=[str(rows[0].pk)], hidden=True)
    actions.tasks_assign(
        project=project, actor=admin, data_row_ids=[str(rows[1].pk)], user_id=str(other.pk)
    )
    held = queue.queue_next(project=project, actor=ann)
    assert [r.task.data_row_id for r in held] == [rows[2].pk]
    held = queue.queue_next(project=project, actor=other)
    # the assigned row comes first for its assignee
    assert [r.task.data_row_id for r in held] == [rows[1].pk]


def test_limits_per_user_and_group(workspace, admin):
    from labelhub.access.services import group_add_member, group_create

    project, rows = make_loop_project(workspace, admin, rows=6)
    a, b, c = people(workspace, n_labelers=3, n_reviewers=0)[0]
    group = group_create(
        workspace=workspace, actor=admin, name="Night shift", default_role="labeler"
    )
    for person in (b, c):
        group_add_member(workspace=workspace, actor=admin, group=group, user_id=person.pk)
    wf = workflow_of(project)
    step_update(
        step=wf.label, actor=admin, user_limits={str(a.pk): 1}, group_limits={str(group.pk): 3}
    )
    assert len(queue.queue_next(project=project, actor=a)) == 1
    assert len(queue.queue_next(project=project, actor=b)) == 3
    # the group's three are used by b: c gets nothing until b's are released
    assert queue.queue_next(project=project, actor=c) == []
    queue.reservation_release(task=task_of(project, rows[1]), actor=b)
    assert len(queue.queue_next(project=project, actor=c)) == 1
    # a label counts like a reservation
    work.label_submit(task=task_of(project, rows[0]), actor=a, annotations=weather())
    assert queue.queue_next(project=project, actor=a) == []


def test_lease_expiry_returns_the_task(loop, settings):
    from datetime import timedelta

    from django.utils import timezone

    from labelhub.labeling.tasks import expire_leases_task

    project, rows, (ann, other, _), _ = loop
    queue.queue_next(project=project, actor=ann)
    Reservation.objects.filter(user=ann).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_leases_task() == 3
    assert list(Task.objects.values_list("reserved", flat=True)) == [0, 0, 0]
    assert len(queue.queue_next(project=project, actor=other)) == 3
    assert LabelingEvent.objects.filter(kind="lease_expired").count() == 3
    assert expire_leases_task() == 0  # idempotent


def test_heartbeat_renews_and_a_request_for_work_keeps_what_you_hold(loop):
    from datetime import timedelta

    from django.utils import timezone

    project, rows, (ann, *_), _ = loop
    project.reservation_count = 2
    project.save()
    first = queue.queue_next(project=project, actor=ann)
    Reservation.objects.update(expires_at=timezone.now() + timedelta(seconds=5))
    renewed = queue.reservation_renew(task=task_of(project, rows[0]), actor=ann)
    assert renewed.expires_at > timezone.now() + timedelta(seconds=3500)
    again = queue.queue_next(project=project, actor=ann)
    assert [r.pk for r in again] == [r.pk for r in first]


def test_instructions_must_be_acknowledged_first(loop, admin):
    project, rows, (ann, *_), _ = loop
    project.enforce_instructions = True
    project.instructions_kind = "text"
    project.instructions_text = "Label the weather."
    project.instructions_version = 1
    project.save()
    with pytest.raises(Conflict) as exc:
        queue.queue_next(project=project, actor=ann)
    assert list(exc.value.details) == ["instructions"]
    instructions_acknowledge(project=project, actor=ann)
    assert len(queue.queue_next(project=project, actor=ann)) == 3


def test_modes_need_their_permission(loop):
    project, rows, (ann, *_), _ = loop
    with pytest.raises(PermissionDenied):
        queue.queue_next(project=project, actor=ann, mode="review")
    with pytest.raises(ValidationFailed) as exc:
        queue.queue_next(project=project, actor=ann, mode="annotate")
    assert exc.value.details == {"mode": ["Choose label, review or rework."]}


def test_score_threshold_removes_the_contributor(loop):
    project, rows, (ann, *_), (rev,) = loop
    project.review_score_threshold = 60
    project.save()
    queue.queue_next(project=project, actor=ann)
    for row in rows[:2]:
        work.label_submit(task=task_of(project, row), actor=ann, annotations=weather())
    queue.queue_next(project=project, actor=rev, mode="review")
    review.review_decide(task=task_of(project, rows[0]), actor=rev, decision="approve", score=80)
    assert Contributor.objects.get(user=ann).removed_at is None
    assert Reservation.objects.filter(user=ann).count() == 1
    review.review_decide(
        task=task_of(project, rows[1]), actor=rev, decision="reject", reason="x", score=30
    )
    contributor = Contributor.objects.get(user=ann)
    assert (contributor.average_score, contributor.score_count) == (55.0, 2)
    assert contributor.removed_reason == "average review score 55.0 is below the threshold 60"
    # their reservation went, they were told, it is audited, and they get no more work
    assert Reservation.objects.filter(user=ann).count() == 0
    assert Notification.objects.filter(user=ann, kind="queue.removed").count() == 1
    from labelhub.core.models import AuditLogEntry

    assert AuditLogEntry.objects.filter(verb="queue.contributor_removed").count() == 1
    with pytest.raises(PermissionDenied):
        queue.queue_next(project=project, actor=ann)
    assert waiting_for(project, workflow_of(project), ann) == {
        "label": 0,
        "review": 0,
        "rework": 0,
    }
    review.contributor_restore(project=project, actor=project_admin(project), user=ann)
    assert len(queue.queue_next(project=project, actor=ann)) == 1


def project_admin(project):
    from labelhub.workspaces.models import Membership

    return Membership.objects.get(workspace=project.workspace, role="admin").user


def test_losing_access_drops_reservations_at_once(loop, admin, django_capture_on_commit_callbacks):
    from labelhub.access.services import members
    from labelhub.workspaces.models import Membership

    project, rows, (ann, other, _), _ = loop
    queue.queue_next(project=project, actor=ann)
    queue.queue_next(project=project, actor=other)
    assert Reservation.objects.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        members.membership_remove(
            workspace=project.workspace, actor=admin, membership=Membership.objects.get(user=ann)
        )
    assert Reservation.objects.filter(user=ann).count() == 0
    assert list(Task.objects.values_list("reserved", flat=True)) == [0, 0, 0]
    assert len(queue.queue_next(project=project, actor=other)) == 3


def test_review_scores_per_label_and_validation(workspace, admin):
    (a, b), (rev,) = people(workspace, n_labelers=2, n_reviewers=1)
    project, rows = make_loop_project(
        workspace, admin, rows=1, consensus_coverage=100, consensus_labels=2
    )
    task = task_of(project, rows[0])
    for person in (a, b):
        queue.queue_next(project=project, actor=person)
        work.label_submit(task=task, actor=person, annotations=weather())
    queue.queue_next(project=project, actor=rev, mode="review")
    la, lb = Label.objects.get(author=a), Label.objects.get(author=b)
    for bad, field in (({"x": 5}, "scores"), ({str(la.pk): 101}, "scores")):
        with pytest.raises(ValidationFailed) as exc:
            review.review_decide(task=task, actor=rev, decision="approve", scores=bad)
        assert list(exc.value.details) == [field]
    with pytest.raises(ValidationFailed):
        review.review_decide(task=task, actor=rev, decision="maybe")
    review.review_decide(
        task=task, actor=rev, decision="approve", scores={str(la.pk): 70, str(lb.pk): 100}
    )
    la.refresh_from_db()
    lb.refresh_from_db()
    assert (la.score, lb.score, la.status, lb.status) == (70.0, 100.0, "approved", "approved")
    assert sorted(Contributor.objects.values_list("score_sum", "score_count")) == [
        (0.0, 0),
        (70.0, 1),
        (100.0, 1),
    ]
