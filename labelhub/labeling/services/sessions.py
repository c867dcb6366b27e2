"""The server's clock for labeling, review and rework sessions.

The task page's live connection is the clock: while the page is connected and visible it
beats (``timer.beat`` over the socket every few seconds, or the heartbeat API call), and
each beat adds the time since the previous one. A gap longer than ``BEAT_CAP_SECONDS``
counts only that much: a page that vanished without a goodbye (a cut cable, a sleeping
laptop) adds at most one gap, never the hours until it came back. A hidden page, or a
socket that closed, stops the clock (``counting_since`` empty) until the next visible
beat. The seconds stored are the ones the server saw, folded into the label on submit or
review (``session_close``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from labelhub.labeling.models import Task, WorkSession

#: the longest gap between two beats that still counts in full (the page beats every 5 s)
BEAT_CAP_SECONDS = 15.0
#: the share of the target maximum at which the page warns that time is running out
APPROACHING_SHARE = 0.8


@dataclass(frozen=True)
class Timer:
    """What a task page shows: seconds counted, whether counting, the warning state."""

    seconds: float
    counting: bool
    state: str
    target: int | None
    cutoff: int | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON the API and the socket send."""
        return {
            "seconds": round(self.seconds, 1),
            "counting": self.counting,
            "state": self.state,
            "target": self.target,
            "cutoff": self.cutoff,
        }


def timer_state(seconds: float, *, target: int | None, cutoff: int | None) -> str:
    """``ok``, ``approaching`` (80 % of the target), ``exceeded`` (past the target) or
    ``cutoff`` (past the cutoff: the page asks the person to submit or skip)."""
    if cutoff and seconds >= cutoff:
        return "cutoff"
    if target and seconds >= target:
        return "exceeded"
    if target and seconds >= APPROACHING_SHARE * target:
        return "approaching"
    return "ok"


def _elapsed(session: WorkSession, now: datetime) -> float:
    if session.counting_since is None:
        return 0.0
    gap = (now - session.counting_since).total_seconds()
    return min(max(gap, 0.0), BEAT_CAP_SECONDS)


def timer_of(session: WorkSession, task: Task) -> Timer:
    """The page's view of a session."""
    project = task.project
    target, cutoff = project.timer_target_seconds, project.timer_cutoff_seconds
    return Timer(
        seconds=session.seconds,
        counting=session.counting_since is not None,
        state=timer_state(session.seconds, target=target, cutoff=cutoff),
        target=target,
        cutoff=cutoff,
    )


def session_beat(*, task: Task, user: Any, mode: str, visible: bool = True) -> Timer:
    """Count the time since the last beat (capped) and keep counting while visible."""
    now = timezone.now()
    with transaction.atomic():
        session, _ = WorkSession.objects.select_for_update().get_or_create(
            task=task, user=user, mode=mode
        )
        session.seconds += _elapsed(session, now)
        session.counting_since = now if visible else None
        timer = timer_of(session, task)
        session.warned = timer.state if timer.state != "ok" else session.warned
        session.save(update_fields=["seconds", "counting_since", "warned", "updated_at"])
    return timer


def session_pause(*, task_id: Any, user: Any, mode: str) -> None:
    """The page's connection dropped: count up to now (capped) and stop the clock."""
    now = timezone.now()
    with transaction.atomic():
        session = (
            WorkSession.objects.select_for_update()
            .filter(task_id=task_id, user=user, mode=mode)
            .first()
        )
        if session is None or session.counting_since is None:
            return
        session.seconds += _elapsed(session, now)
        session.counting_since = None
        session.save(update_fields=["seconds", "counting_since", "updated_at"])


def session_close(*, task: Task, user: Any, mode: str) -> float:
    """End the person's session on the task (submit, skip, review): its seconds."""
    session = (
        WorkSession.objects.select_for_update().filter(task=task, user=user, mode=mode).first()
    )
    if session is None:
        return 0.0
    seconds = session.seconds + _elapsed(session, timezone.now())
    session.delete()
    return round(seconds, 3)
