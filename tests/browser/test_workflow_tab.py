"""The Workflow tab and the data rows tab's bulk actions in a real browser: add a review
step with a filter, watch the counts follow task moves live, run a bulk action and see a
row's status change, then see another move arrive live without a reload.

The project is made in the demo's Vision workspace (four rows, metadata city Paris/Lyon);
screenshots land in ARTIFACTS_DIR.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from playwright.sync_api import expect

from labelhub.accounts.models import User
from labelhub.labeling.models import Task, WorkflowStep
from labelhub.labeling.services import actions
from labelhub.labeling.services.transitions import task_move
from labelhub.workspaces.models import Workspace
from tests.browser.support import ADMIN_EMAIL, expect_live, run_in_thread, sign_in
from tests.labeling.helpers import make_loop_project

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]


def _project():
    vision = Workspace.objects.get(name="Vision", tenant__name="Demo Labs")
    admin = User.objects.get(email=ADMIN_EMAIL)
    project, rows = make_loop_project(vision, admin, rows=4, name="Night drives")
    return project, rows, admin


def _move(project, rows, step_name, admin):
    step = WorkflowStep.objects.get(project=project, name=step_name)
    actions.tasks_move(
        project=project, actor=admin, data_row_ids=[str(r.pk) for r in rows], step_id=step.pk
    )


def _move_one(project, row, step_name, admin):
    """One task moved the way the labeling loop moves them (a task.changed event)."""
    with transaction.atomic():
        task = Task.objects.select_related("step").get(project=project, data_row=row)
        task_move(
            task=task,
            to=WorkflowStep.objects.get(project=project, name=step_name),
            actor=admin,
            reason="test",
        )


def count_of(page, name):
    return page.locator(
        "li.workflow-step", has=page.get_by_role("link", name=name, exact=True)
    ).locator(".step-count")


def test_review_step_with_filter_live_counts_and_bulk_action(new_page, screenshot):
    project, rows, admin = run_in_thread(_project)
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(page.locator("main h1")).to_have_text("Vision")  # the busiest workspace

    page.goto(f"/projects/{project.pk}/")
    page.locator("nav.tabs").get_by_role("link", name="Workflow").click()
    expect(page.locator("main h1")).to_contain_text("Night drives")
    steps = page.get_by_test_id("workflow-steps").locator(".step-name")
    expect(steps).to_have_text(["Initial labeling", "Initial review", "Rework", "Done"])
    expect(count_of(page, "Initial labeling")).to_have_text("4")
    screenshot(page, "01-workflow-default")

    # add a review step, then give it a filter: rows of Paris only
    add = page.get_by_test_id("add-step-form")
    add.get_by_label("Name of the new review step").fill("Paris review")
    add.get_by_role("button", name="Add review step").click()
    expect(page.locator("#messages .message")).to_have_text(["Review step Paris review added."])
    expect(steps).to_have_text(
        ["Initial labeling", "Initial review", "Paris review", "Rework", "Done"]
    )
    card = page.locator("section.step-card", has=page.get_by_role("heading", name="Paris review"))
    card.locator("summary").click()
    form = card.get_by_test_id("review-form")
    form.get_by_label("Combine filters").select_option(label="Match all (AND)")
    form.get_by_label("Metadata field").fill("city")
    form.get_by_label("has one of the values").fill("Paris")
    form.get_by_label("Labeling time at least (seconds)").fill("-5")
    form.get_by_role("button", name="Save Paris review").click()
    # refused beside the field, nothing saved
    expect(page.locator(".field-error")).to_have_text(
        ["Ensure this value is greater than or equal to 0."]
    )
    screenshot(page, "02-filter-error-beside-field")
    form = page.get_by_test_id("review-form").nth(1)
    form.get_by_label("Labeling time at least (seconds)").fill("")
    form.get_by_role("button", name="Save Paris review").click()
    expect(page.locator("#messages .message")).to_have_text(["Step Paris review saved."])
    filters = page.locator(
        "section.step-card", has=page.get_by_role("heading", name="Paris review")
    )
    expect(filters.get_by_test_id("step-filters")).to_contain_text("Metadata city is Paris")
    step = WorkflowStep.objects.get(project=project, name="Paris review")
    assert (step.filters, step.match) == (
        [{"field": "metadata", "name": "city", "values": ["Paris"]}],
        "all",
    )

    # counts follow moves live: a bulk move (queue.changed) and one task (task.changed)
    expect_live(page)
    expect(page.get_by_test_id("workflow")).to_have_attribute("data-live-subscribed", "1")
    run_in_thread(_move, project, rows[:2], "Paris review", admin)
    expect(count_of(page, "Paris review")).to_have_text("2")
    expect(count_of(page, "Initial labeling")).to_have_text("2")
    run_in_thread(_move_one, project, rows[2], "Initial review", admin)
    expect(count_of(page, "Initial review")).to_have_text("1")
    expect(count_of(page, "Initial labeling")).to_have_text("1")
    screenshot(page, "03-workflow-live-counts")

    # the data rows tab: move one row to Done with the bulk action
    page.locator("nav.tabs").get_by_role("link", name="Data rows").click()
    table = page.get_by_test_id("data-rows-table")
    row = table.locator('tr[data-key="Night drives-1"]')
    expect(row.locator('[data-cell="step"]')).to_have_text("Paris review")
    expect(row.locator('[data-cell="status"] .badge').first).to_have_text("In review")
    expect(row.locator('[data-cell="time"]')).to_have_text("0s")
    row.get_by_role("checkbox").check()
    page.get_by_label("Move selected rows to step").select_option(label="Done")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("#messages .message")).to_have_text(["1 data rows moved to Done."])
    expect(row.locator('[data-cell="step"]')).to_have_text("Done")
    expect(row.locator('[data-cell="status"] .badge').first).to_have_text("Done")
    screenshot(page, "04-data-rows-bulk-moved")

    # another row moves elsewhere: its status changes here without a reload
    expect(page.get_by_test_id("bulk-form")).to_have_attribute("data-live-subscribed", "1")
    other = table.locator('tr[data-key="Night drives-3"]')
    expect(other.locator('[data-cell="status"] .badge').first).to_have_text("To label")
    run_in_thread(_move_one, project, rows[3], "Rework", admin)
    expect(other.locator('[data-cell="status"] .badge').first).to_have_text("In rework")
    expect(other.locator('[data-cell="step"]')).to_have_text("Rework")
    screenshot(page, "05-data-rows-live-status")
