"""Workflow edits (with tasks in flight), review-step filters, queue order (benchmarks, the
10 % rule, priority, age) and the data rows tab's bulk actions, through the services."""

from __future__ import annotations

import pytest

from labelhub.core.errors import ValidationFailed
from labelhub.labeling.models import (
    Annotation,
    Label,
    LabelingEvent,
    Reservation,
    Task,
    WorkflowStep,
)
from labelhub.labeling.services import actions, batches, queue, review, work
from labelhub.labeling.services.workflow import (
    review_step_add,
    review_step_remove,
    step_update,
    workflow_of,
)
from labelhub.notifications.models import Notification
from labelhub.projects.models import DataRow
from tests.labeling.helpers import make_loop_project, people, task_of, weather

pytestmark = pytest.mark.django_db


def where(project, rows):
    """(step name, status) of each row, in order."""
    return [
        (t.step.name, t.status) for t in (task_of(project, row) for row in rows) if t is not None
    ]


def label_all(project, rows, labeler):
    """The labeler labels every row (one at a time, in queue order)."""
    for _ in rows:
        [first, *_] = queue.queue_next(project=project, actor=labeler)
        work.label_submit(task=first.task, actor=labeler, annotations=weather())


# --- workflow edits --------------------------------------------------------------------------


def test_default_workflow_and_review_step_edits(workspace, admin):
    project, _ = make_loop_project(workspace, admin, rows=1)
    wf = workflow_of(project)
    assert [(s.kind, s.name) for s in wf.steps] == [
        ("label", "Initial labeling"),
        ("review", "Initial review"),
        ("rework", "Rework"),
        ("done", "Done"),
    ]
    second = review_step_add(project=project, actor=admin, name="Expert review")
    first_place = review_step_add(project=project, actor=admin, name="Triage", position=1)
    assert [s.name for s in workflow_of(project).reviews] == [
        "Triage",
        "Initial review",
        "Expert review",
    ]
    step_update(step=second, actor=admin, position=1, name="Expert")
    assert [s.name for s in workflow_of(project).reviews] == ["Expert", "Triage", "Initial review"]
    assert first_place.pk in {s.pk for s in workflow_of(project).reviews}


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"name": ""}, "name"),
        ({"position": 0}, "position"),
        ({"position": "1"}, "position"),
        ({"match": "some"}, "match"),
        ({"filters": [{"field": "colour", "values": ["x"]}]}, "filters"),
        ({"filters": [{"field": "dataset", "values": ["not-an-id"]}]}, "filters"),
        (
            {"filters": [{"field": "dataset", "values": ["6f1d1b8e-0000-4000-8000-000000000000"]}]},
            "filters",
        ),
        ({"filters": [{"field": "metadata", "values": ["x"]}]}, "filters"),
        ({"filters": [{"field": "labeling_seconds"}]}, "filters"),
        ({"filters": [{"field": "labeling_seconds", "min": -1}]}, "filters"),
        ({"reviewer_users": ["6f1d1b8e-0000-4000-8000-000000000000"]}, "reviewer_users"),
        ({"reviewer_groups": "all"}, "reviewer_groups"),
        ({"assignment": "creator"}, "assignment"),  # not a review step's setting
    ],
)
def test_review_step_update_refuses_bad_input_and_changes_nothing(workspace, admin, changes, field):
    project, _ = make_loop_project(workspace, admin, rows=1)
    step = workflow_of(project).reviews[0]
    before = WorkflowStep.objects.filter(pk=step.pk).values().get()
    with pytest.raises(ValidationFailed) as exc:
        step_update(step=step, actor=admin, **changes)
    assert field in exc.value.details
    assert WorkflowStep.objects.filter(pk=step.pk).values().get() == before


def test_other_steps_validate_their_settings(workspace, admin):
    project, _ = make_loop_project(workspace, admin, rows=1)
    wf = workflow_of(project)
    for step, changes, field in [
        (wf.rework, {"assignment": "anyone"}, "assignment"),
        (wf.rework, {"max_rework_attempts": 0}, "max_rework_attempts"),
        (wf.rework, {"max_rework_attempts": True}, "max_rework_attempts"),
        (wf.label, {"max_labels_per_row": 101}, "max_labels_per_row"),
        (wf.label, {"user_limits": {"x": 1}}, "user_limits"),
        (wf.label, {"user_limits": {str(admin.pk): -1}}, "user_limits"),
        (wf.label, {"filters": []}, "filters"),
        (wf.done, {"match": "all"}, "match"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            step_update(step=step, actor=admin, **changes)
        assert field in exc.value.details, (step.kind, changes)
    step_update(step=wf.rework, actor=admin, assignment="creator", max_rework_attempts=2)
    step_update(step=wf.label, actor=admin, max_labels_per_row=3)
    wf = workflow_of(project)
    assert (wf.rework.assignment, wf.rework.max_rework_attempts) == ("creator", 2)
    assert wf.label.max_labels_per_row == 3
    with pytest.raises(ValidationFailed) as exc:
        review_step_remove(step=wf.rework, actor=admin)
    assert exc.value.details == {"step": ["Only review steps can be removed."]}


def test_removing_a_review_step_moves_its_tasks_on(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=3)
    (ann, *_), (rev,) = people(workspace)
    expert = review_step_add(project=project, actor=admin, name="Expert review")
    label_all(project, rows, ann)
    assert where(project, rows) == [("Initial review", "in_review")] * 3
    # a reviewer holds one of them: removing the step releases it and moves all three on
    queue.queue_next(project=project, actor=rev, mode="review")
    assert Reservation.objects.filter(user=rev).count() == 3
    initial = workflow_of(project).reviews[0]
    assert review_step_remove(step=initial, actor=admin) == 3
    assert where(project, rows) == [("Expert review", "in_review")] * 3
    assert Reservation.objects.filter(user=rev).count() == 0
    assert list(Task.objects.values_list("reserved", flat=True).distinct()) == [0]
    # removing the last review step: they are done; no label is lost
    assert review_step_remove(step=expert, actor=admin) == 3
    assert where(project, rows) == [("Done", "done")] * 3
    assert Label.objects.filter(project=project).count() == 3
    events = LabelingEvent.objects.filter(project_id=project.pk)
    assert [events.filter(kind=k).count() for k in ("released", "moved", "done")] == [3, 3, 3]


def test_filters_route_tasks_to_the_first_matching_step(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=4)
    (ann, bob, _), _ = people(workspace)
    wf = workflow_of(project)
    # Initial review only takes Paris rows labeled by bob; Lyon rows (even indexes) pass it
    step_update(
        step=wf.reviews[0],
        actor=admin,
        filters=[
            {"field": "metadata", "name": "city", "values": ["Paris"]},
            {"field": "labeled_by", "values": [str(bob.pk)]},
        ],
        match="all",
    )
    anyone = review_step_add(project=project, actor=admin, name="Second look")
    step_update(
        step=anyone,
        actor=admin,
        filters=[
            {"field": "metadata", "name": "city", "values": ["Paris"]},
            {"field": "labeling_seconds", "max": 0},
        ],
        match="any",
    )
    project.reservation_count = 1
    project.save()
    for row, who in zip(rows, (ann, ann, bob, bob), strict=True):
        [held] = queue.queue_next(project=project, actor=who)
        assert held.task.data_row_id == row.pk
        work.label_submit(task=held.task, actor=who, annotations=weather())
    # 0 Lyon/ann: labeling seconds 0 matches "any" → Second look
    # 1 Paris/ann: Initial review needs bob too → Second look (Paris)
    # 2 Lyon/bob → Second look (0 seconds); 3 Paris/bob → Initial review
    assert where(project, rows) == [
        ("Second look", "in_review"),
        ("Second look", "in_review"),
        ("Second look", "in_review"),
        ("Initial review", "in_review"),
    ]


def test_a_task_matching_no_filter_passes_the_step(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=2)
    (ann, *_), (rev,) = people(workspace)
    step_update(
        step=workflow_of(project).reviews[0],
        actor=admin,
        filters=[{"field": "metadata", "name": "city", "values": ["Paris"]}],
    )
    label_all(project, rows, ann)
    assert where(project, rows) == [("Done", "done"), ("Initial review", "in_review")]


# --- queue order ------------------------------------------------------------------------------


class Draws:
    """A seeded stand-in for the queue's random source: hands out the given numbers."""

    def __init__(self, values):
        self.values = list(values)

    def random(self):
        return self.values.pop(0)


def test_benchmarks_first_then_the_ten_percent_rule(workspace, admin, monkeypatch):
    project, rows = make_loop_project(workspace, admin, rows=12)
    (expert, ann, _), _ = people(workspace)
    project.reservation_count = 1
    project.save()
    label_all(project, rows[:7], expert)
    assert (
        actions.tasks_mark_benchmark(
            project=project, actor=admin, data_row_ids=[str(r.pk) for r in rows[:7]]
        )
        == 7
    )
    assert Label.objects.filter(is_benchmark_reference=True).count() == 7

    # the first five draws are benchmarks whatever the random source says
    monkeypatch.setattr(queue, "rng", Draws([0.5, 0.05, 0.5, 0.09, 0.1]))
    served = []
    for _ in range(10):
        [held] = queue.queue_next(project=project, actor=ann)
        served.append(rows.index(next(r for r in rows if r.pk == held.task.data_row_id)))
        work.label_submit(task=held.task, actor=ann, annotations=weather())
    # 0-4 benchmarks; then 0.5 → plain (7), 0.05 → benchmark (5), 0.5 → plain (8),
    # 0.09 → benchmark (6), 0.1 → plain (9: the rule is "below 10 %")
    assert served == [0, 1, 2, 3, 4, 7, 5, 8, 6, 9]
    # a benchmark row stays where it is: every labeler labels it once
    assert where(project, rows[:1]) == [("Initial review", "in_review")]
    assert Label.objects.filter(data_row=rows[0]).count() == 2


def test_priority_then_age(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=2)
    (ann, *_), _ = people(workspace)
    urgent = [
        DataRow.objects.create(
            workspace=workspace,
            dataset=rows[0].dataset,
            row_data=f"https://x.test/u{i}.jpg",
            media_type="image",
            global_key=f"urgent-{i}",
        )
        for i in range(2)
    ]
    batches.batch_create(
        project=project,
        actor=admin,
        name="Urgent",
        data_row_ids=[str(r.pk) for r in urgent],
        priority=1,
    )
    held = queue.queue_next(project=project, actor=ann)
    assert [r.task.data_row_id for r in held] == [
        urgent[0].pk,
        urgent[1].pk,
        rows[0].pk,
        rows[1].pk,
    ]


# --- bulk actions -----------------------------------------------------------------------------


@pytest.fixture
def labeled(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=4)
    (ann, other, _), (rev,) = people(workspace)
    label_all(project, rows, ann)
    return project, rows, ann, other, rev


def ids(rows):
    return [str(r.pk) for r in rows]


def test_move_to_a_step_is_not_a_review(labeled, admin):
    project, rows, ann, other, rev = labeled
    wf = workflow_of(project)
    assert (
        actions.tasks_move(
            project=project, actor=admin, data_row_ids=ids(rows[:2]), step_id=str(wf.done.pk)
        )
        == 2
    )
    assert where(project, rows) == [("Done", "done")] * 2 + [("Initial review", "in_review")] * 2
    # not counted as a review: labels keep their status, no review rows
    assert set(Label.objects.values_list("status", flat=True)) == {"submitted"}
    assert not LabelingEvent.objects.filter(kind="approved").exists()
    with pytest.raises(ValidationFailed) as exc:
        actions.tasks_move(
            project=project, actor=admin, data_row_ids=ids(rows), step_id=str(wf.label.pk)
        )
    assert list(exc.value.details) == ["step"]
    assert where(project, rows[2:]) == [("Initial review", "in_review")] * 2


def test_send_to_rework_and_requeue(labeled, admin):
    project, rows, ann, other, rev = labeled
    assert (
        actions.tasks_send_to_rework(
            project=project, actor=admin, data_row_ids=ids(rows[:1]), reason="boxes loose"
        )
        == 1
    )
    assert where(project, rows[:1]) == [("Rework", "in_rework")]
    assert Label.objects.get(data_row=rows[0]).status == "rejected"
    # requeue keeping the label as a template: it becomes the row's pre-label
    assert (
        actions.tasks_requeue(
            project=project, actor=admin, data_row_ids=ids(rows[:2]), keep_as_template=True
        )
        == 2
    )
    assert where(project, rows[:2]) == [("Initial labeling", "to_label")] * 2
    assert Label.objects.filter(data_row__in=rows[:2]).count() == 0
    prelabels = Annotation.objects.filter(data_row__in=rows[:2], source="prelabel")
    assert sorted(prelabels.values_list("data_row__global_key", "label_id")) == [
        ("Loop-0", None),
        ("Loop-1", None),
    ]
    task = task_of(project, rows[0])
    assert (task.labels_done, task.skip_count, task.labeled) == (0, 0, False)
    # and the labeler who labeled them before may label them again
    held = queue.queue_next(project=project, actor=ann)
    assert {r.task.data_row_id for r in held} == {rows[0].pk, rows[1].pk}
    # requeue dropping them: no template left
    assert (
        actions.tasks_requeue(
            project=project, actor=admin, data_row_ids=ids(rows[2:3]), keep_as_template=False
        )
        == 1
    )
    assert Label.objects.filter(data_row=rows[2]).count() == 0


def test_bulk_actions_refuse_bad_input(labeled, admin, other_workspace, other_admin):
    project, rows, ann, other, rev = labeled
    foreign, foreign_rows = make_loop_project(other_workspace, other_admin, rows=1, name="F")
    for call, field in [
        (
            lambda: actions.tasks_hide(project=project, actor=admin, data_row_ids=[], hidden=True),
            "data_row_ids",
        ),
        (
            lambda: actions.tasks_hide(
                project=project, actor=admin, data_row_ids=ids(rows), hidden="yes"
            ),
            "hidden",
        ),
        (
            lambda: actions.tasks_hide(
                project=project, actor=admin, data_row_ids=ids(foreign_rows), hidden=True
            ),
            "data_row_ids",
        ),
        (
            lambda: actions.tasks_requeue(
                project=project, actor=admin, data_row_ids=ids(rows), keep_as_template="no"
            ),
            "keep_as_template",
        ),
        (
            lambda: actions.tasks_assign(
                project=project, actor=admin, data_row_ids=ids(rows), user_id=str(other_admin.pk)
            ),
            "user",
        ),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            call()
        assert field in exc.value.details
    assert Task.objects.filter(hidden=True).count() == 0
    assert Task.objects.filter(assigned_to__isnull=False).count() == 0


def test_hide_assign_and_notifications(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=3)
    (ann, other, _), _ = people(workspace)
    assert (
        actions.tasks_hide(project=project, actor=admin, data_row_ids=ids(rows[:1]), hidden=True)
        == 1
    )
    assert [r.task.data_row_id for r in queue.queue_next(project=project, actor=ann)] == [
        rows[1].pk,
        rows[2].pk,
    ]
    actions.tasks_hide(project=project, actor=admin, data_row_ids=ids(rows[:1]), hidden=False)
    # assigning a row someone else holds takes it from them for its assignee
    assert (
        actions.tasks_assign(
            project=project, actor=admin, data_row_ids=ids(rows[1:2]), user_id=str(other.pk)
        )
        == 1
    )
    assert [r.task.data_row_id for r in Reservation.objects.filter(user=ann)] == [rows[2].pk]
    assert [r.task.data_row_id for r in queue.queue_next(project=project, actor=other)] == [
        rows[1].pk,
        rows[0].pk,
    ]
    # ann never gets it again while it is assigned to other
    queue.reservation_release(task=task_of(project, rows[1]), actor=other)
    assert rows[1].pk not in {
        r.task.data_row_id for r in queue.queue_next(project=project, actor=ann)
    }
    actions.tasks_assign(project=project, actor=admin, data_row_ids=ids(rows[1:2]), user_id=None)
    kinds = list(Notification.objects.order_by("created_at").values_list("user__email", "kind"))
    assert kinds == [("l1@alpha.test", "task.assigned"), ("l1@alpha.test", "task.unassigned")]


def test_benchmark_needs_a_label_and_can_be_undone(labeled, admin, workspace):
    project, rows, ann, other, rev = labeled
    extra = DataRow.objects.create(
        workspace=workspace,
        dataset=rows[0].dataset,
        row_data="https://x.test/e.jpg",
        media_type="image",
        global_key="extra",
    )
    batches.batch_create(project=project, actor=admin, name="More", data_row_ids=[str(extra.pk)])
    with pytest.raises(ValidationFailed) as exc:
        actions.tasks_mark_benchmark(
            project=project, actor=admin, data_row_ids=ids([rows[0], extra])
        )
    assert exc.value.details == {
        "data_row_ids": ["1 of the rows have no label to be the reference."]
    }
    assert Task.objects.filter(is_benchmark=True).count() == 0
    actions.tasks_mark_benchmark(project=project, actor=admin, data_row_ids=ids(rows[:1]))
    assert Label.objects.get(data_row=rows[0]).is_benchmark_reference is True
    actions.tasks_mark_benchmark(
        project=project, actor=admin, data_row_ids=ids(rows[:1]), benchmark=False
    )
    assert Label.objects.get(data_row=rows[0]).is_benchmark_reference is False
    assert Task.objects.filter(is_benchmark=True).count() == 0


def test_reviewers_of_a_step(workspace, admin):
    from labelhub.access.services import group_add_member, group_create

    project, rows = make_loop_project(workspace, admin, rows=2)
    (ann, *_), (rev1, rev2) = people(workspace, n_reviewers=2)
    label_all(project, rows, ann)
    step = workflow_of(project).reviews[0]
    step_update(step=step, actor=admin, reviewer_users=[str(rev1.pk)])
    assert queue.queue_next(project=project, actor=rev2, mode="review") == []
    assert len(queue.queue_next(project=project, actor=rev1, mode="review")) == 2
    for reservation in Reservation.objects.filter(user=rev1):
        review.review_decide(task=reservation.task, actor=rev1, decision="approve")
    group = group_create(workspace=workspace, actor=admin, name="Experts", default_role="reviewer")
    group_add_member(workspace=workspace, actor=admin, group=group, user_id=rev2.pk)
    second = review_step_add(project=project, actor=admin, name="Expert")
    step_update(step=second, actor=admin, reviewer_groups=[str(group.pk)])
    assert where(project, rows) == [("Done", "done")] * 2
