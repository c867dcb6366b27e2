"""The Workflow tab and the data rows tab's bulk actions through the console (Django test
client): each form's happy path with the exact state it leaves, errors beside the fields
that change nothing, who may do what, and the time spent column."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from labelhub.access.services import group_create
from labelhub.labeling.models import Annotation, Label, LabelingEvent, Task, WorkflowStep
from labelhub.labeling.services import actions, queue, work
from labelhub.labeling.services.workflow import workflow_of
from labelhub.labeling.views.data_rows import time_spent
from labelhub.projects.models import Dataset
from labelhub.workspaces.models import Role
from tests.factories import make_member
from tests.labeling.helpers import make_loop_project, weather

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(admin, workspace):
    c = Client()
    c.force_login(admin)
    return c


@pytest.fixture
def loop(workspace, admin):
    project, rows = make_loop_project(workspace, admin, rows=4)
    return project, rows


def url(project, suffix="workflow/"):
    return f"/projects/{project.pk}/{suffix}"


def snapshot(project):
    """Everything the workflow forms may change, to show that a refused one changed none."""
    return [
        (
            s.kind,
            s.name,
            s.position,
            s.reviewer_users,
            s.reviewer_groups,
            s.filters,
            s.match,
            s.assignment,
            s.max_rework_attempts,
            s.user_limits,
            s.group_limits,
            s.max_labels_per_row,
        )
        for s in WorkflowStep.objects.filter(project=project).order_by("position")
    ]


def errors_of(html, name):
    """The error messages shown beside the field named ``name`` (inside its own block)."""
    marker = f'data-field="{name}">'
    assert marker in html, f"no field {name}"
    block = re.split(r'data-field="|</form>', html.split(marker, 1)[1], maxsplit=1)[0]
    return re.findall(r'<p class="field-error" role="alert">(.*?)</p>', block)


def step_named(project, name):
    return WorkflowStep.objects.get(project=project, name=name)


def count_in_page(html, step):
    return re.search(rf'data-step-count="{step.pk}">(\d+)<', html).group(1)


# --- the Workflow tab -------------------------------------------------------------------------


def test_tab_lists_steps_in_order_with_their_task_counts(web, loop, admin):
    project, rows = loop
    wf = workflow_of(project)
    actions.tasks_move(
        project=project, actor=admin, data_row_ids=[str(rows[0].pk)], step_id=wf.done.pk
    )
    html = web.get(url(project)).content.decode()
    names = re.findall(r'class="step-name">([^<]+)</a>', html)
    assert names == ["Initial labeling", "Initial review", "Rework", "Done"]
    assert [count_in_page(html, s) for s in wf.steps] == ["3", "0", "0", "1"]
    assert f'href="/projects/{project.pk}/workflow/" class="active">Workflow</a>' in html
    assert 'data-testid="add-step-form"' in html and 'data-testid="read-only"' not in html


def test_add_review_step_last_or_at_a_place(web, loop):
    project, _ = loop
    r = web.post(url(project), {"action": "add", "name": "Expert review", "position": ""})
    assert r.status_code == 302 and r.url == url(project)
    r = web.post(
        url(project), {"action": "add", "name": "Quick check", "position": "1"}, follow=True
    )
    assert "Review step Quick check added." in r.content.decode()
    reviews = WorkflowStep.objects.filter(project=project, kind="review").order_by("position")
    assert [(s.name, s.position) for s in reviews] == [
        ("Quick check", 1),
        ("Initial review", 2),
        ("Expert review", 3),
    ]


def test_add_review_step_refused_beside_the_fields(web, loop):
    project, _ = loop
    before = snapshot(project)
    r = web.post(url(project), {"action": "add", "name": "", "position": ""})
    assert r.status_code == 200
    assert errors_of(r.content.decode(), "name") == ["This field is required."]
    r = web.post(url(project), {"action": "add", "name": "Late", "position": "5"})
    assert errors_of(r.content.decode(), "position") == ["Give a place from 1 to 2."]
    r = web.post(url(project), {"action": "add", "name": "   ", "position": ""})
    assert errors_of(r.content.decode(), "name") == ["This field is required."]
    assert snapshot(project) == before


def review_post(step, **fields):
    """A full review-step form as the page posts it (defaults: the step as created)."""
    p = f"step-{step.pk.hex}-"
    data = {
        "action": "review",
        "step": str(step.pk),
        p + "name": step.name,
        p + "position": "1",
        p + "reviewers": "everyone",
        p + "match": "all",
        p + "metadata_name": "",
        p + "metadata_values": "",
        p + "seconds_min": "",
        p + "seconds_max": "",
    }
    for key, value in fields.items():
        data[p + key] = value
    return data


def test_save_review_step_reviewers_and_filters(web, loop, workspace, admin):
    project, rows = loop
    step = step_named(project, "Initial review")
    reviewer = make_member(workspace, Role.REVIEWER, email="rev@alpha.test")
    group = group_create(
        workspace=workspace, actor=admin, name="Vendors", default_role=Role.REVIEWER
    )
    dataset = Dataset.objects.get(workspace=workspace, name="Loop rows")
    r = web.post(
        url(project),
        review_post(
            step,
            name="City review",
            reviewers="chosen",
            reviewer_users=[str(reviewer.pk)],
            reviewer_groups=[str(group.pk)],
            match="any",
            datasets=[str(dataset.pk)],
            metadata_name="city",
            metadata_values="Paris, Lyon ,Paris",
            labeled_by=[str(admin.pk)],
            seconds_min="10",
            seconds_max="600",
        ),
        follow=True,
    )
    assert "Step City review saved." in r.content.decode()
    step.refresh_from_db()
    assert (step.name, step.position, step.match) == ("City review", 1, "any")
    assert (step.reviewer_users, step.reviewer_groups) == ([str(reviewer.pk)], [str(group.pk)])
    assert step.filters == [
        {"field": "dataset", "values": [str(dataset.pk)]},
        {"field": "metadata", "name": "city", "values": ["Lyon", "Paris"]},
        {"field": "labeled_by", "values": [str(admin.pk)]},
        {"field": "labeling_seconds", "min": 10, "max": 600},
    ]
    html = r.content.decode()
    assert "Metadata city is Lyon or Paris" in html and "Labeling time 10–600 s" in html
    assert "rev@alpha.test" in html and "group Vendors" in html

    # back to everyone, no filters
    web.post(url(project), review_post(step, name="City review"))
    step.refresh_from_db()
    assert (step.reviewer_users, step.reviewer_groups, step.filters) == ([], [], [])


def test_reorder_review_steps(web, loop, admin):
    project, _ = loop
    web.post(url(project), {"action": "add", "name": "Second", "position": ""})
    second = step_named(project, "Second")
    web.post(url(project), review_post(second, position="1"))
    reviews = WorkflowStep.objects.filter(project=project, kind="review").order_by("position")
    assert [(s.name, s.position) for s in reviews] == [("Second", 1), ("Initial review", 2)]


def test_review_step_errors_beside_fields_change_nothing(web, loop, other_workspace):
    project, _ = loop
    step = step_named(project, "Initial review")
    foreign = Dataset.objects.create(workspace=other_workspace, name="Theirs")
    before = snapshot(project)
    cases = [
        ({"name": ""}, "name", "This field is required."),
        ({"position": "3"}, "position", "Give a place from 1 to 1."),
        ({"reviewers": "chosen"}, "reviewer_users", "Choose at least one member or group."),
        (
            {"datasets": [str(foreign.pk)]},
            "datasets",
            f"Select a valid choice. {foreign.pk} is not one of the available choices.",
        ),
        ({"metadata_name": "city"}, "metadata_values", "Give at least one value for the field."),
        ({"metadata_values": "Paris"}, "metadata_name", "Name the metadata field."),
        # the service's own check, shown beside the filter it is about
        (
            {"metadata_name": "city", "metadata_values": "x" * 201},
            "metadata_values",
            "Give values, a list of 1 to 500 strings.",
        ),
        (
            {"seconds_min": "600", "seconds_max": "10"},
            "seconds_max",
            "The most must not be less than the least.",
        ),
        (
            {"seconds_min": "-1"},
            "seconds_min",
            "Ensure this value is greater than or equal to 0.",
        ),
    ]
    for fields, field, message in cases:
        r = web.post(url(project), review_post(step, **fields))
        assert r.status_code == 200, fields
        html = r.content.decode()
        assert errors_of(html, f"step-{step.pk.hex}-{field}") == [message], fields
        assert 'class="step-settings" open' in html
    assert snapshot(project) == before


def test_remove_review_step_moves_its_tasks_on(web, loop, admin):
    project, rows = loop
    wf = workflow_of(project)
    ids = [str(r.pk) for r in rows[:2]]
    actions.tasks_move(project=project, actor=admin, data_row_ids=ids, step_id=wf.reviews[0].pk)
    html = web.get(url(project)).content.decode()
    assert (
        'data-confirm="Remove the review step “Initial review”? Its 2 tasks will move to the '
        'next review step whose filters they match, else to Done."' in html
    )
    r = web.post(url(project), {"action": "remove", "step": str(wf.reviews[0].pk)}, follow=True)
    assert "Review step Initial review removed; 2 tasks moved to the next step." in (
        r.content.decode()
    )
    assert not WorkflowStep.objects.filter(project=project, kind="review").exists()
    moved = Task.objects.filter(project=project, data_row_id__in=ids)
    assert sorted(moved.values_list("status", flat=True)) == ["done", "done"]
    assert {t.step_id for t in moved} == {wf.done.pk}
    assert Task.objects.filter(project=project, status="to_label").count() == 2


def test_remove_refuses_other_steps(web, loop):
    project, _ = loop
    before = snapshot(project)
    r = web.post(
        url(project), {"action": "remove", "step": str(workflow_of(project).done.pk)}, follow=True
    )
    assert "Only review steps can be changed here." in r.content.decode()
    assert snapshot(project) == before


def test_rework_settings_and_errors(web, loop):
    project, _ = loop
    r = web.post(
        url(project),
        {"action": "rework", "rework-assignment": "creator", "rework-max_rework_attempts": "2"},
        follow=True,
    )
    assert "Rework settings saved." in r.content.decode()
    rework = workflow_of(project).rework
    assert (rework.assignment, rework.max_rework_attempts) == ("creator", 2)
    before = snapshot(project)
    r = web.post(
        url(project),
        {"action": "rework", "rework-assignment": "creator", "rework-max_rework_attempts": "0"},
    )
    assert "Ensure this value is greater than or equal to 1." in r.content.decode()
    r = web.post(url(project), {"action": "rework", "rework-assignment": "boss"})
    assert "Select a valid choice. boss is not one of the available choices." in (
        r.content.decode()
    )
    assert snapshot(project) == before


def test_initial_labeling_limits(web, loop, workspace, admin, labeler):
    project, _ = loop
    group = group_create(workspace=workspace, actor=admin, name="Team A", default_role=Role.LABELER)
    r = web.post(
        url(project),
        {
            "action": "label",
            "label-max_labels_per_row": "2",
            f"label-user_limit_{labeler.pk}": "3",
            f"label-user_limit_{admin.pk}": "",
            f"label-group_limit_{group.pk}": "10",
        },
        follow=True,
    )
    assert "Initial labeling settings saved." in r.content.decode()
    label = workflow_of(project).label
    assert (label.max_labels_per_row, label.user_limits, label.group_limits) == (
        2,
        {str(labeler.pk): 3},
        {str(group.pk): 10},
    )
    assert "Alpha Labeler (labeler@alpha.test): 3" in r.content.decode()
    before = snapshot(project)
    r = web.post(
        url(project),
        {
            "action": "label",
            "label-max_labels_per_row": "0",
            f"label-user_limit_{labeler.pk}": "-4",
        },
    )
    html = r.content.decode()
    assert errors_of(html, "label-max_labels_per_row") == [
        "Ensure this value is greater than or equal to 1."
    ]
    assert errors_of(html, f"label-user_limit_{labeler.pk}") == [
        "Ensure this value is greater than or equal to 0."
    ]
    assert snapshot(project) == before


def test_labeler_sees_the_workflow_read_only_and_may_not_post(loop, labeler):
    project, _ = loop
    c = Client()
    c.force_login(labeler)
    html = c.get(url(project)).content.decode()
    assert 'data-testid="read-only"' in html
    assert "<form" not in html.split('data-testid="workflow"')[1]
    assert "Initial review" in html
    before = snapshot(project)
    for data in (
        {"action": "add", "name": "Mine"},
        {"action": "remove", "step": str(workflow_of(project).reviews[0].pk)},
        {"action": "rework", "rework-assignment": "creator"},
    ):
        assert c.post(url(project), data).status_code == 403
    assert snapshot(project) == before


def test_another_workspace_project_is_not_found(loop, other_admin):
    project, _ = loop
    before = snapshot(project)
    c = Client()
    c.force_login(other_admin)
    assert c.get(url(project)).status_code == 404
    assert c.post(url(project), {"action": "add", "name": "X"}).status_code == 404
    assert c.get(url(project, "data-rows/")).status_code == 404
    assert (
        c.post(url(project, "data-rows/"), {"action": "hide", "data_row": "x"}).status_code == 404
    )
    assert snapshot(project) == before


# --- the data rows tab ------------------------------------------------------------------------


def bulk(web, project, action, rows, **fields):
    return web.post(
        url(project, "data-rows/"),
        {"action": action, "data_row": [str(r.pk) for r in rows], "back": "", **fields},
        follow=True,
    )


def states(project, rows):
    return [
        Task.objects.values_list("step__name", "status", "hidden", "is_benchmark").get(
            project=project, data_row=r
        )
        for r in rows
    ]


def give_label(project, row, author, seconds=(0, 0, 0)):
    """A submitted label on the row (no annotations) with these seconds per mode."""
    return Label.objects.create(
        workspace=project.workspace,
        project=project,
        data_row=row,
        author=author,
        origin="human",
        submitted_at=timezone.now(),
        seconds_labeling=seconds[0],
        seconds_review=seconds[1],
        seconds_rework=seconds[2],
    )


def test_move_to_step_counts_and_state(web, loop):
    project, rows = loop
    done = workflow_of(project).done
    r = bulk(web, project, "move", rows[:2], step=str(done.pk))
    assert "2 data rows moved to Done." in r.content.decode()
    assert states(project, rows) == [
        ("Done", "done", False, False),
        ("Done", "done", False, False),
        ("Initial labeling", "to_label", False, False),
        ("Initial labeling", "to_label", False, False),
    ]
    assert LabelingEvent.objects.filter(project_id=project.pk, kind="done").count() == 2


def test_move_refused_beside_the_step_changes_nothing(web, loop):
    project, rows = loop
    label_step = workflow_of(project).label
    r = bulk(web, project, "move", rows[:1], step=str(label_step.pk))
    html = r.content.decode()
    assert (
        '<p class="field-error" role="alert">To start rows over in Initial labeling, delete '
        "their labels and requeue them.</p>" in html
    )
    assert f'value="{rows[0].pk}" aria-label="Select Loop-0" checked' in html
    r = bulk(web, project, "move", [], step=str(label_step.pk))
    assert "Select at least one data row." in r.content.decode()
    assert states(project, rows) == [("Initial labeling", "to_label", False, False)] * 4


def test_rework_requeue_hide_assign_benchmark(web, loop, admin, labeler):
    project, rows = loop
    give_label(project, rows[0], labeler)
    give_label(project, rows[1], admin)

    r = bulk(web, project, "rework", rows[:3], reason="blurry")
    assert "2 of the rows have no label to rework." not in r.content.decode()
    assert "1 of the rows have no label to rework." in r.content.decode()
    assert states(project, rows[:3])[2] == ("Initial labeling", "to_label", False, False)

    r = bulk(web, project, "rework", rows[:2], reason="blurry")
    assert "2 data rows sent to rework." in r.content.decode()
    assert states(project, rows[:2]) == [("Rework", "in_rework", False, False)] * 2
    assert list(Label.objects.filter(project=project).values_list("status", flat=True)) == [
        "rejected",
        "rejected",
    ]

    r = bulk(web, project, "benchmark", rows[:1])
    assert "1 data rows marked as benchmarks." in r.content.decode()
    assert Task.objects.get(project=project, data_row=rows[0]).is_benchmark is True
    assert Label.objects.get(data_row=rows[0]).is_benchmark_reference is True
    r = bulk(web, project, "unbenchmark", rows[:1])
    assert "1 data rows are no longer benchmarks." in r.content.decode()
    assert Task.objects.get(project=project, data_row=rows[0]).is_benchmark is False

    r = bulk(web, project, "requeue", rows[:2], keep="drop")
    assert "2 data rows requeued; their labels were deleted." in r.content.decode()
    assert states(project, rows[:2]) == [("Initial labeling", "to_label", False, False)] * 2
    assert Label.objects.filter(project=project).count() == 0

    r = bulk(web, project, "hide", rows[1:4])
    assert "3 data rows hidden from labelers." in r.content.decode()
    assert [s[2] for s in states(project, rows)] == [False, True, True, True]
    r = bulk(web, project, "unhide", rows[3:])
    assert "1 data rows shown to labelers again." in r.content.decode()
    assert [s[2] for s in states(project, rows)] == [False, True, True, False]

    r = bulk(web, project, "assign", rows[:2], user=str(labeler.pk))
    assert "2 data rows assigned to labeler@alpha.test." in r.content.decode()
    assigned = Task.objects.filter(project=project, assigned_to=labeler)
    assert sorted(assigned.values_list("data_row__global_key", flat=True)) == ["Loop-0", "Loop-1"]
    r = bulk(web, project, "assign", rows[:2], user="")
    assert "Choose the person to assign the rows to." in r.content.decode()
    assert assigned.count() == 2
    r = bulk(web, project, "unassign", rows[:1])
    assert "1 data rows served to anyone again." in r.content.decode()
    assert assigned.count() == 1


def test_requeue_keeps_the_label_as_template(web, loop, labeler):
    project, rows = loop
    queue.queue_next(project=project, actor=labeler)
    task = Task.objects.select_related("project", "step").get(project=project, data_row=rows[0])
    work.label_submit(task=task, actor=labeler, annotations=weather("rainy"))
    assert Annotation.objects.filter(data_row=rows[0], source="human").count() == 1
    r = bulk(web, project, "requeue", rows[:1], keep="keep")
    assert "1 data rows requeued; their labels were kept as templates." in r.content.decode()
    assert Label.objects.filter(project=project).count() == 0
    kept = Annotation.objects.get(data_row=rows[0])
    assert (kept.source, kept.label_id, kept.value["answer"]["name"]) == (
        "prelabel",
        None,
        "rainy",
    )
    assert states(project, rows[:1]) == [("Initial labeling", "to_label", False, False)]


def test_bulk_actions_need_their_permission(loop, labeler):
    project, rows = loop
    c = Client()
    c.force_login(labeler)
    html = c.get(url(project, "data-rows/")).content.decode()
    assert 'data-testid="bulk-actions"' not in html and 'name="data_row"' not in html
    for action in ("move", "rework", "requeue", "hide", "assign", "benchmark", "priority"):
        r = c.post(
            url(project, "data-rows/"),
            {"action": action, "data_row": [str(rows[0].pk)], "keep": "drop"},
        )
        assert r.status_code == 403, action
    assert states(project, rows[:1]) == [("Initial labeling", "to_label", False, False)]


def test_time_spent_column(web, loop, admin, labeler):
    project, rows = loop
    give_label(project, rows[0], labeler, seconds=(50.4, 10, 5))
    give_label(project, rows[0], admin, seconds=(3600, 0, 0))
    give_label(project, rows[1], labeler, seconds=(44.6, 0, 0))
    html = web.get(url(project, "data-rows/")).content.decode()
    cells = dict(re.findall(r'data-key="([^"]+)".*?data-cell="time">([^<]*)</td>', html, re.S))
    assert cells == {"Loop-0": "1h 01m 05s", "Loop-1": "45s", "Loop-2": "0s", "Loop-3": "0s"}
    assert '<td data-cell="step">Initial labeling</td>' in html


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (None, "0s"), (4.4, "4s"), (59.6, "1m 00s"), (65, "1m 05s"), (3725, "1h 02m 05s")],
)
def test_time_spent_format(seconds, shown):
    assert time_spent(seconds) == shown


def test_priority_still_works_without_an_action(web, loop):
    project, rows = loop
    r = web.post(
        url(project, "data-rows/"), {"data_row": [str(rows[1].pk)], "priority": "2"}, follow=True
    )
    assert "Priority changed for 1 data rows." in r.content.decode()
    assert Task.objects.get(project=project, data_row=rows[1]).priority == 2
