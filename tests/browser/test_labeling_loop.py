"""The labeling loop in a real browser: a labeler answers the form (the draft survives a
reload), the timer stops while the live connection is cut, one row is submitted, one
skipped, one submitted; a reviewer rejects one label with a reason and approves another;
the labeler reworks the rejected label (the form prefilled, the reason shown) and the
reviewer approves it. The overview's counts follow along without a reload.

Images are inline ``data:`` SVGs (no network here).
"""

from __future__ import annotations

import base64
import re
import time

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Annotation, Label, LabelingEvent, Task, WorkSession
from labelhub.labeling.services.workflow import step_update, workflow_of
from labelhub.projects.models import DataRow, Project
from labelhub.workspaces.models import Role
from tests.browser.support import expect_live, run_in_thread, sign_in
from tests.factories import PASSWORD, make_member, make_workspace
from tests.labeling.helpers import make_loop_project

pytestmark = pytest.mark.browser

COLOURS = ["#74c0fc", "#ffd43b", "#b197fc"]


def _image(n: int) -> str:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400">'
        f'<rect width="640" height="400" fill="{COLOURS[n]}"/>'
        '<circle cx="520" cy="90" r="50" fill="#fff3bf"/>'
        '<rect x="0" y="300" width="640" height="100" fill="#868e96"/>'
        f'<text x="24" y="56" font-size="34" font-family="sans-serif">street {n}</text></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _seed():
    workspace = make_workspace("Loop browser")
    admin = make_member(workspace, Role.ADMIN, email="loop-admin@browser.test", name="Ada Admin")
    labeler = make_member(workspace, Role.LABELER, email="lena@browser.test", name="Lena")
    make_member(workspace, Role.REVIEWER, email="rob@browser.test", name="Rob")
    project, rows = make_loop_project(workspace, admin, rows=3, name="Streets")
    for n, row in enumerate(rows):
        DataRow.objects.filter(pk=row.pk).update(row_data=_image(n))
    Project.objects.filter(pk=project.pk).update(
        instructions_kind="markdown",
        instructions_text="Pick the weather you see. Add notes if something is odd.",
        instructions_version=1,
        timer_target_seconds=30,
        timer_cutoff_seconds=3600,
    )
    step_update(step=workflow_of(project).rework, actor=admin, assignment="creator")
    return project, rows, labeler


def _timer_limits(project_pk, *, target, cutoff):
    Project.objects.filter(pk=project_pk).update(
        timer_target_seconds=target, timer_cutoff_seconds=cutoff
    )


def _seconds(page) -> int:
    return int(page.get_by_test_id("timer-value").get_attribute("data-seconds"))


def _counting(row_pk) -> bool:
    session = WorkSession.objects.filter(task__data_row_id=row_pk, mode="label").first()
    return session is not None and session.counting_since is not None


def _wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_label_skip_review_reject_rework_approve(new_page, screenshot):
    project, rows, labeler = run_in_thread(_seed)
    p = f"/projects/{project.pk}"

    # --- the labeler's overview: what waits for them --------------------------------------
    lena = new_page("labeler")
    sign_in(lena, "lena@browser.test", PASSWORD)
    expect(lena.locator("main h1")).to_be_visible()
    lena.goto(f"{p}/")
    expect(lena.get_by_test_id("waiting-label")).to_have_text("3")
    expect(lena.get_by_test_id("waiting-rework")).to_have_text("0")
    expect(lena.get_by_test_id("start-review")).to_have_count(0)
    screenshot(lena, "01-labeler-overview")

    # --- row 0: answer, the draft is saved and survives a reload ---------------------------
    lena.get_by_test_id("start-label").click()
    expect(lena).to_have_url(re.compile(rf"{p}/tasks/{rows[0].pk}/\?mode=label$"))
    expect_live(lena)
    expect(lena.get_by_test_id("queue-position")).to_have_text(
        "Task 1 of 3 reserved · 0 more waiting"
    )
    weather = lena.get_by_test_id("question-weather")
    notes = lena.get_by_test_id("question-notes")
    weather.get_by_label("sunny").check()
    notes.locator("textarea").fill("clear sky")
    expect(lena.get_by_test_id("draft-status")).to_contain_text("Draft saved at")
    screenshot(lena, "02-task-answered")

    lena.reload()
    expect_live(lena)
    expect(lena.get_by_test_id("draft-status")).to_have_text("Draft restored.")
    expect(weather.get_by_label("sunny")).to_be_checked()
    expect(notes.locator("textarea")).to_have_value("clear sky")
    lena.get_by_test_id("task-instructions").locator("summary").click()
    expect(lena.get_by_test_id("task-instructions")).to_contain_text("Pick the weather you see.")
    screenshot(lena, "03-draft-restored")

    # --- the timer is the server's: it stops while the connection is cut -------------------
    expect(lena.get_by_test_id("timer-value")).not_to_have_text("0:00")
    _wait_for(lambda: _seconds(lena) >= 6)
    assert run_in_thread(_counting, rows[0].pk) is True
    lena.context.set_offline(True)
    lena.evaluate("window.labelhubSocket.close()")
    expect(lena.get_by_test_id("connection-lost")).to_be_visible()
    expect(lena.locator("#live-indicator")).to_have_text("Offline")
    _wait_for(lambda: run_in_thread(_counting, rows[0].pk) is False)
    frozen = _seconds(lena)
    time.sleep(3)
    assert _seconds(lena) == frozen
    expect(lena.get_by_test_id("timer")).to_have_class(re.compile(r"timer-paused"))
    screenshot(lena, "04-connection-lost")

    lena.context.set_offline(False)
    expect(lena.get_by_test_id("connection-restored")).to_be_visible()
    expect(lena.get_by_test_id("connection-lost")).to_be_hidden()
    _wait_for(lambda: run_in_thread(_counting, rows[0].pk) is True)
    _wait_for(lambda: _seconds(lena) > frozen)
    screenshot(lena, "05-connection-restored")

    # --- the server's warnings: past the target, then at the cutoff ------------------------
    run_in_thread(_timer_limits, project.pk, target=4, cutoff=3600)
    warning = lena.get_by_test_id("timer-warning")
    expect(warning).to_have_attribute("data-state", "exceeded")
    expect(warning).to_have_text("This task is over its target time (0:04).")
    expect(lena.get_by_test_id("timer")).to_have_class("task-timer timer-exceeded")
    screenshot(lena, "05b-timer-exceeded", full_page=False)
    run_in_thread(_timer_limits, project.pk, target=4, cutoff=5)
    expect(warning).to_have_attribute("data-state", "cutoff")
    expect(warning).to_have_text("Cutoff reached: submit or skip this task now (0:05).")
    screenshot(lena, "05c-timer-cutoff", full_page=False)
    run_in_thread(_timer_limits, project.pk, target=None, cutoff=None)

    # --- submit (a double click submits once) -> row 1 -------------------------------------
    lena.get_by_test_id("submit").dblclick()
    expect(lena).to_have_url(re.compile(rf"{p}/tasks/{rows[1].pk}/\?mode=label$"))

    # --- row 1: submitting nothing shows the required question; then skip it --------------
    lena.get_by_test_id("submit").click()
    error = lena.get_by_test_id("question-weather").locator(".field-error")
    expect(error).to_have_text("Required: answer this question.")
    expect(lena.get_by_test_id("task-error")).to_have_text("Answer the required features first.")
    screenshot(lena, "06-required-error")
    lena.get_by_test_id("skip").locator("summary").click()
    lena.get_by_test_id("skip-reason").fill("too blurry to tell")
    lena.get_by_test_id("skip-confirm").click()
    expect(lena).to_have_url(re.compile(rf"{p}/tasks/{rows[2].pk}/\?mode=label$"))

    # --- row 2: submit -> nothing left -----------------------------------------------------
    lena.get_by_test_id("question-weather").get_by_label("rainy").check()
    lena.get_by_test_id("submit").click()
    expect(lena).to_have_url(re.compile(rf"{p}/label/$"))
    expect(lena.get_by_test_id("queue-empty")).to_contain_text("Nothing waiting for you")
    screenshot(lena, "07-nothing-waiting")

    def labeled():
        submitted = LabelingEvent.objects.filter(data_row_id=rows[0].pk, kind="submitted")
        label = Label.objects.get(data_row=rows[0])
        answers = sorted(
            (a.feature.name, str(a.value))
            for a in Annotation.objects.filter(label=label).select_related("feature")
        )
        skipped = Task.objects.get(data_row=rows[1])
        return submitted.count(), label.seconds_labeling, answers, skipped.skip_count

    count, seconds, answers, skips = run_in_thread(labeled)
    assert count == 1 and skips == 1
    assert seconds >= 6
    assert [name for name, _ in answers] == ["notes", "weather"]
    assert "clear sky" in answers[0][1] and "sunny" in answers[1][1]

    # the labeler watches the overview while the reviewer works
    lena.goto(f"{p}/")
    expect_live(lena)
    expect(lena.locator('[data-status="in_review"] .tile-value')).to_have_text("2")
    expect(lena.get_by_test_id("waiting-rework")).to_have_text("0")
    lena.evaluate("window.__notReloaded = true")

    # --- the reviewer rejects row 0 with a reason, approves row 2 --------------------------
    rob = new_page("reviewer")
    sign_in(rob, "rob@browser.test", PASSWORD)
    expect(rob.locator("main h1")).to_be_visible()
    rob.goto(f"{p}/")
    expect(rob.get_by_test_id("waiting-review")).to_have_text("2")
    screenshot(rob, "08-reviewer-overview")
    rob.get_by_test_id("start-review").click()
    expect(rob).to_have_url(re.compile(rf"{p}/tasks/{rows[0].pk}/\?mode=review$"))
    expect_live(rob)
    labels = rob.get_by_test_id("review-label")
    expect(labels.get_by_test_id("label-author")).to_have_text("lena@browser.test")
    expect(labels.get_by_test_id("label-answers")).to_contain_text("sunny")
    expect(labels.get_by_test_id("label-answers")).to_contain_text("clear sky")
    rob.get_by_test_id("reject").click()
    expect(rob.locator('[data-error-for="reason"]')).to_have_text("Say why the label is rejected.")
    rob.get_by_test_id("review-reason").fill("The street is wet: it is rainy.")
    rob.get_by_test_id("review-score").fill("40")
    screenshot(rob, "09-review-reject")
    rob.get_by_test_id("reject").click()
    expect(rob).to_have_url(re.compile(rf"{p}/tasks/{rows[2].pk}/\?mode=review$"))
    rob.get_by_test_id("review-score").fill("90")
    rob.get_by_test_id("approve").click()
    expect(rob.get_by_test_id("queue-empty")).to_contain_text("Nothing waiting for you")

    # the labeler's overview learned it live: one row to rework, one done
    expect(lena.get_by_test_id("waiting-rework")).to_have_text("1")
    expect(lena.locator('[data-status="in_rework"] .tile-value')).to_have_text("1")
    expect(lena.locator('[data-status="done"] .tile-value')).to_have_text("1")
    assert lena.evaluate("window.__notReloaded") is True
    screenshot(lena, "10-overview-updated-live")

    # --- the labeler reworks row 0: the reason shown, the form prefilled -------------------
    lena.get_by_test_id("start-rework").click()
    expect(lena).to_have_url(re.compile(rf"{p}/tasks/{rows[0].pk}/\?mode=rework$"))
    expect(lena.get_by_test_id("rejection-reason")).to_have_text("The street is wet: it is rainy.")
    weather = lena.get_by_test_id("question-weather")
    expect(weather.get_by_label("sunny")).to_be_checked()
    expect(lena.get_by_test_id("question-notes").locator("textarea")).to_have_value("clear sky")
    screenshot(lena, "11-rework-prefilled")
    weather.get_by_label("rainy").check()
    lena.get_by_test_id("question-notes").locator("textarea").fill("wet street")
    lena.get_by_test_id("submit").click()
    expect(lena.get_by_test_id("queue-empty")).to_contain_text("Nothing waiting for you")

    # --- the reviewer approves the rework --------------------------------------------------
    rob.goto(f"{p}/review/")
    expect(rob).to_have_url(re.compile(rf"{p}/tasks/{rows[0].pk}/\?mode=review$"))
    expect(rob.get_by_test_id("label-answers")).to_contain_text("rainy")
    expect(rob.get_by_test_id("label-answers")).to_contain_text("wet street")
    screenshot(rob, "12-review-rework")
    rob.get_by_test_id("review-score").fill("95")
    rob.get_by_test_id("approve").click()
    expect(rob.get_by_test_id("queue-empty")).to_be_visible()
    rob.goto(f"{p}/")
    expect(rob.locator('[data-status="done"] .tile-value')).to_have_text("2")
    expect(rob.locator('[data-status="to_label"] .tile-value')).to_have_text("1")
    screenshot(rob, "13-overview-done")

    def outcome():
        label = Label.objects.get(data_row=rows[0])
        return (
            Task.objects.get(data_row=rows[0]).status,
            label.status,
            label.rework_count,
            label.score,
        )

    assert run_in_thread(outcome) == ("done", "approved", 1, 67.5)
