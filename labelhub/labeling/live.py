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

from typing import Any

from labelhub.core.errors import NotFound, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.labeling import events
from labelhub.labeling.models import Task
from labelhub.labeling.services.queue import MODE_PERMISSION, reservation_renew
from labelhub.labeling.services.sessions import session_beat, session_pause
from labelhub.projects.models import Project
from labelhub.projects.selectors.projects import access_project

#: the most clocks one socket drives (one task page holds one; a few tabs' worth of slack)
MAX_TIMERS_PER_SOCKET = 20


def _task(user: Any, content: dict[str, Any]) -> tuple[Task, str]:
    mode = content.get("mode")
    if mode not in MODE_PERMISSION:
        raise ValidationFailed("Choose label, review or rework.", field="mode")
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
    return task, mode


def timer_beat(user: Any, content: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """A beat from a task page: renew the lease, count, answer the clock."""
    task, mode = _task(user, content)
    reservation_renew(task=task, actor=user, mode=mode)
    visible = content.get("visible", True) is not False
    timers = state.setdefault("timers", {})
    if (task.pk, mode) not in timers and len(timers) >= MAX_TIMERS_PER_SOCKET:
        raise ValidationFailed("Too many task pages on one connection.", field="data_row")
    timers[(task.pk, mode)] = True
    timer = session_beat(task=task, user=user, mode=mode, visible=visible)
    return events.timer_tick(task, mode=mode, timer=timer.as_dict())


def timer_stop(user: Any, content: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The page was hidden or is leaving: stop its clock (counted up to now)."""
    task, mode = _task(user, content)
    state.get("timers", {}).pop((task.pk, mode), None)
    timer = session_beat(task=task, user=user, mode=mode, visible=False)
    return events.timer_tick(task, mode=mode, timer=timer.as_dict())


def timers_pause(user: Any, state: dict[str, Any]) -> None:
    """The socket closed: every clock it drove stops."""
    for task_id, mode in list(state.get("timers", {})):
        session_pause(task_id=task_id, user=user, mode=mode)
