"""Timers measured by the server: sessions per task, person and mode (capped beats, pauses,
warning states), the seconds stored on labels, and the clock over the live socket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from labelhub.core.consumers import LiveConsumer
from labelhub.labeling.models import LabelingEvent, WorkSession
from labelhub.labeling.services import queue, review, sessions, work
from labelhub.labeling.services.sessions import session_beat, session_pause, timer_state
from tests.labeling.helpers import make_loop_project, people, task_of, weather

NOT_YOURS = "This task is not reserved for you; ask for the next task."
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A settable clock for the sessions module (the rest of Django keeps real time)."""

    def __init__(self):
        self.now_at = T0

    def now(self):
        return self.now_at

    def tick(self, seconds: float):
        self.now_at += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(sessions, "timezone", SimpleNamespace(now=fake.now))
    return fake


@pytest.mark.parametrize(
    "seconds,target,cutoff,expected",
    [
        (0, None, None, "ok"),
        (10_000, None, None, "ok"),
        (79, 100, None, "ok"),
        (80, 100, None, "approaching"),
        (100, 100, None, "exceeded"),
        (149, 100, 150, "exceeded"),
        (150, 100, 150, "cutoff"),
        (150, None, 150, "cutoff"),
    ],
)
def test_warning_states(seconds, target, cutoff, expected):
    assert timer_state(seconds, target=target, cutoff=cutoff) == expected


@pytest.mark.django_db
def test_beats_count_capped_gaps_and_pauses_stop_the_clock(workspace, admin, clock):
    project, rows = make_loop_project(workspace, admin, rows=1)
    project.timer_target_seconds, project.timer_cutoff_seconds = 20, 40
    project.save()
    (ann, *_), _ = people(workspace)
    task = task_of(project, rows[0])
    queue.queue_next(project=project, actor=ann)

    first = session_beat(task=task, user=ann, mode="label")
    assert (first.seconds, first.counting, first.state) == (0.0, True, "ok")
    clock.tick(5)
    assert session_beat(task=task, user=ann, mode="label").seconds == 5.0
    # a gap longer than the cap (a sleeping laptop) counts only the cap
    clock.tick(600)
    beat = session_beat(task=task, user=ann, mode="label")
    assert (beat.seconds, beat.state) == (20.0, "exceeded")
    # the page is hidden: counted up to now, then the clock stops
    clock.tick(3)
    hidden = session_beat(task=task, user=ann, mode="label", visible=False)
    assert (hidden.seconds, hidden.counting) == (23.0, False)
    clock.tick(300)
    assert session_beat(task=task, user=ann, mode="label").seconds == 23.0
    # the socket drops: counted up to the drop, not beyond
    clock.tick(4)
    session_pause(task_id=task.pk, user=ann, mode="label")
    clock.tick(1000)
    session_pause(task_id=task.pk, user=ann, mode="label")  # a second close changes nothing
    session = WorkSession.objects.get(task=task, user=ann, mode="label")
    assert (session.seconds, session.counting_since, session.warned) == (27.0, None, "exceeded")

    label = work.label_submit(task=task, actor=ann, annotations=weather())
    label.refresh_from_db()
    task.refresh_from_db()
    assert (label.seconds_labeling, label.seconds_review) == (27.0, 0)
    assert task.seconds_labeling == 27.0
    assert not WorkSession.objects.filter(task=task).exists()
    assert LabelingEvent.objects.get(task_id=task.pk, kind="submitted").seconds == 27.0


@pytest.mark.django_db
def test_review_seconds_are_kept_apart_from_labeling(workspace, admin, clock):
    project, rows = make_loop_project(workspace, admin, rows=1)
    (ann, *_), (rev,) = people(workspace)
    task = task_of(project, rows[0])
    queue.queue_next(project=project, actor=ann)
    session_beat(task=task, user=ann, mode="label")
    clock.tick(12)
    work.label_submit(task=task, actor=ann, annotations=weather())
    queue.queue_next(project=project, actor=rev, mode="review")
    session_beat(task=task, user=rev, mode="review")
    clock.tick(7)
    session_beat(task=task, user=rev, mode="review")
    clock.tick(2)
    review.review_decide(task=task, actor=rev, decision="approve")
    task.refresh_from_db()
    assert (task.seconds_labeling, task.seconds_review, task.seconds_rework) == (12.0, 9.0, 0)
    events = dict(
        LabelingEvent.objects.filter(task_id=task.pk, kind__in=["submitted", "approved"])
        .values_list("kind", "seconds")
        .order_by("kind")
    )
    assert events == {"approved": 9.0, "submitted": 12.0}


@pytest.mark.django_db
def test_time_spent_before_a_skip_is_kept(workspace, admin, clock):
    project, rows = make_loop_project(workspace, admin, rows=1)
    (ann, *_), _ = people(workspace)
    task = task_of(project, rows[0])
    queue.queue_next(project=project, actor=ann)
    session_beat(task=task, user=ann, mode="label")
    clock.tick(8)
    work.task_skip(task=task, actor=ann, reason="blurry")
    task.refresh_from_db()
    assert task.seconds_labeling == 8.0
    assert LabelingEvent.objects.get(task_id=task.pk, kind="skipped").seconds == 8.0
    assert not WorkSession.objects.filter(task=task).exists()


# --- the clock over the live socket ---------------------------------------------------------


async def _socket(user):
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["type"] == "hello"
    return communicator


def _beat(project, row, mode="label", **extra):
    return {
        "type": "timer.beat",
        "project": str(project.pk),
        "data_row": str(row.pk),
        "mode": mode,
        **extra,
    }


@pytest.mark.django_db(transaction=True)
async def test_socket_beats_count_and_closing_stops_the_clock(workspace, admin, clock):
    @database_sync_to_async
    def setup():
        project, rows = make_loop_project(workspace, admin, rows=2)
        project.timer_target_seconds = 10
        project.save()
        (ann, other, _), _ = people(workspace)
        queue.queue_next(project=project, actor=ann)
        return project, rows, ann, other

    project, rows, ann, other = await setup()
    socket = await _socket(ann)
    await socket.send_json_to(_beat(project, rows[0]))
    assert await socket.receive_json_from() == {
        "type": "timer.tick",
        "project": str(project.pk),
        "data_row": str(rows[0].pk),
        "mode": "label",
        "seconds": 0.0,
        "counting": True,
        "state": "ok",
        "target": 10,
        "cutoff": None,
    }
    clock.tick(9)
    await socket.send_json_to(_beat(project, rows[0]))
    tick = await socket.receive_json_from()
    assert (tick["seconds"], tick["state"]) == (9.0, "approaching")
    clock.tick(2)
    await socket.send_json_to({**_beat(project, rows[0]), "type": "timer.stop"})
    tick = await socket.receive_json_from()
    assert (tick["seconds"], tick["counting"], tick["state"]) == (11.0, False, "exceeded")
    await socket.send_json_to(_beat(project, rows[0]))
    await socket.receive_json_from()
    clock.tick(5)
    await socket.disconnect()
    clock.tick(500)

    @database_sync_to_async
    def stored():
        session = WorkSession.objects.get(task__data_row=rows[0], user=ann)
        return session.seconds, session.counting_since

    # 11 before the stop, 5 more after resuming; nothing while disconnected
    assert await stored() == (16.0, None)


@pytest.mark.django_db(transaction=True)
async def test_socket_beats_are_authorised(workspace, admin, other_workspace, other_admin, clock):
    @database_sync_to_async
    def setup():
        project, rows = make_loop_project(workspace, admin, rows=2)
        foreign, foreign_rows = make_loop_project(other_workspace, other_admin, rows=1, name="F")
        (ann, other, _), _ = people(workspace)
        queue.queue_next(project=project, actor=ann)
        return project, rows, foreign, foreign_rows, ann, other

    project, rows, foreign, foreign_rows, ann, other = await setup()
    socket = await _socket(other)
    cases = [
        # someone else's reservation: no clock for you
        (_beat(project, rows[0]), "not_found", NOT_YOURS),
        # another workspace's project reads exactly like a missing one
        (_beat(foreign, foreign_rows[0]), "not_found", "Project not found."),
        (
            {**_beat(project, rows[0]), "project": "6f1d1b8e-0000-4000-8000-000000000000"},
            "not_found",
            "Project not found.",
        ),
        ({**_beat(project, rows[0]), "data_row": "nope"}, "not_found", "Task not found."),
        (_beat(project, rows[0], mode="label"), "not_found", NOT_YOURS),
        (
            {**_beat(project, rows[0]), "mode": "paint"},
            "invalid",
            "Choose label, review or rework.",
        ),
        # a labeler may not review: access_project answers as for a missing project
        (_beat(project, rows[0], mode="review"), "not_found", "Project not found."),
    ]
    for message, code, text in cases:
        await socket.send_json_to(message)
        reply = await socket.receive_json_from()
        assert (reply["type"], reply["code"], reply["of"]) == ("error", code, message["type"])
        if text is not None:
            assert reply["message"] == text
    await socket.disconnect()

    @database_sync_to_async
    def sessions_count():
        return WorkSession.objects.count()

    assert await sessions_count() == 0


@pytest.mark.django_db
def test_a_beat_is_a_few_queries_and_losing_the_task_stops_it_at_once(
    workspace, admin, clock, django_assert_num_queries
):
    from labelhub.core.errors import NotFound
    from labelhub.labeling import live

    project, rows = make_loop_project(workspace, admin, rows=1)
    (ann, *_), _ = people(workspace)
    queue.queue_next(project=project, actor=ann)
    state: dict = {}
    beat = {"project": str(project.pk), "data_row": str(rows[0].pk), "mode": "label"}
    live.timer_beat(ann, beat, state)
    clock.tick(5)
    # the socket resolved and authorised the page on the first beat; later beats read the
    # task with its project (1: settings stay fresh), renew the lease (1), lock and update
    # the clock (2), inside a transaction (savepoint pair: 2)
    with django_assert_num_queries(6):
        tick = live.timer_beat(ann, beat, state)
    assert tick["seconds"] == 5.0
    queue.reservation_release(task=task_of(project, rows[0]), actor=ann)
    with pytest.raises(NotFound):
        live.timer_beat(ann, beat, state)
