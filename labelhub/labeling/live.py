"""The task page's clock over the live socket (handlers registered with ``core.live``).

The page sends ``{"type": "timer.beat", "project", "data_row", "mode", "visible"}`` every
few seconds while it is open; each beat renews the lease, counts the time
(``services.sessions``) and is answered with a ``timer.tick`` (seconds so far and the
warning state). ``timer.stop`` stops the clock (the page was hidden or is leaving). When
the socket closes, every clock it drove stops at once. Authorised like the API: the
project through ``access_project`` (another workspace's reads as missing), the task only
while the person holds its reservation in that mode.
"""

from __future__ import annotations

import time
from typing import Any

from labelhub.core.errors import NotFound, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.labeling import events
from labelhub.labeling.models import Task
from labelhub.labeling.services.queue import MODE_PERMISSION, reservation_heartbeat
from labelhub.labeling.services.sessions import session_beat, session_pause
from labelhub.projects.models import Project
from labelhub.projects.selectors.projects import access_project

#: the most clocks one socket drives (one task page holds one; a few tabs' worth of slack)
MAX_TIMERS_PER_SOCKET = 20
#: how long a socket trusts its authorisation of a task page (project, permission, task)
RECHECK_SECONDS = 60.0


def _resolve(user: Any, content: dict[str, Any], mode: str) -> Task:
    project = Project.objects.filter(pk=parse_id(content.get("project"))).first()
    if project is None:
        raise NotFound("Project not found.")
    project = access_project(
        workspace=project.workspace, actor=user, id=project.pk, permission=MODE_PERMISSION[mode]
    )
    task = (
        Task.objects.select_related("project")
        .filter(project=project, data_row_id=parse_id(content.get("data_row")))
        .first()
    )
    if task is None:
        raise NotFound("Task not found.")
    return task


def _task(user: Any, content: dict[str, Any], state: dict[str, Any]) -> tuple[Task, str]:
    """The task a page beats for, authorised like the API. A socket keeps its answer (the
    task's id) for ``RECHECK_SECONDS``: a beat every 5 s must stay a few queries. Losing
    access meanwhile still stops the beats at once — it releases the reservation, and
    every beat needs a live one."""
    mode = content.get("mode")
    if mode not in MODE_PERMISSION:
        raise ValidationFailed("Choose label, review or rework.", field="mode")
    key = (str(content.get("project"))[:64], str(content.get("data_row"))[:64], mode)
    pages = state.setdefault("pages", {})
    known = pages.get(key)
    now = time.monotonic()
    if known is not None and now - known[1] < RECHECK_SECONDS:
        # the task and its project are read afresh: a changed target or cutoff shows at once
        task = Task.objects.select_related("project").filter(pk=known[0]).first()
        if task is None:
            raise NotFound("Task not found.")
        return task, mode
    task = _resolve(user, content, mode)
    if len(pages) >= MAX_TIMERS_PER_SOCKET:
        pages.clear()
    pages[key] = (task.pk, now)
    return task, mode


def timer_beat(user: Any, content: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """A beat from a task page: renew the lease, count, answer the clock."""
    task, mode = _task(user, content, state)
    reservation_heartbeat(task=task, user=user, mode=mode)
    visible = content.get("visible", True) is not False
    timers = state.setdefault("timers", {})
    if (task.pk, mode) not in timers and len(timers) >= MAX_TIMERS_PER_SOCKET:
        raise ValidationFailed("Too many task pages on one connection.", field="data_row")
    timers[(task.pk, mode)] = True
    timer = session_beat(task=task, user=user, mode=mode, visible=visible)
    return events.timer_tick(task, mode=mode, timer=timer.as_dict())


def timer_stop(user: Any, content: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The page was hidden or is leaving: stop its clock (counted up to now)."""
    task, mode = _task(user, content, state)
    state.get("timers", {}).pop((task.pk, mode), None)
    timer = session_beat(task=task, user=user, mode=mode, visible=False)
    return events.timer_tick(task, mode=mode, timer=timer.as_dict())


def timers_pause(user: Any, state: dict[str, Any]) -> None:
    """The socket closed: every clock it drove stops."""
    for task_id, mode in list(state.get("timers", {})):
        session_pause(task_id=task_id, user=user, mode=mode)
