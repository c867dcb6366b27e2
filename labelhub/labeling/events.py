"""Live events of the labeling app (JSON-safe dicts; a test round-trips each builder)."""

from __future__ import annotations

from typing import Any

from labelhub.labeling.models import Task


def task_changed(task: Task, *, from_step: Any = None, reason: str = "") -> dict[str, Any]:
    """A task changed step or state: watchers move it between their counts."""
    return {
        "type": "task.changed",
        "project": str(task.project_id),
        "task": task.pk,
        "data_row": str(task.data_row_id),
        "from_step": str(from_step) if from_step else None,
        "step": str(task.step_id) if task.step_id else None,
        "status": task.status,
        "reason": reason,
    }


def queue_changed(project_id: Any, counts: dict[str, int]) -> dict[str, Any]:
    """A project's counts per step (on demand: after bulk actions and workflow edits)."""
    return {"type": "queue.changed", "project": str(project_id), "counts": dict(counts)}


def timer_tick(task: Task, *, mode: str, timer: dict[str, Any]) -> dict[str, Any]:
    """The server's clock for one task page: seconds counted so far, whether counting,
    and the warning state (``ok``, ``approaching``, ``exceeded``, ``cutoff``)."""
    return {
        "type": "timer.tick",
        "project": str(task.project_id),
        "data_row": str(task.data_row_id),
        "mode": mode,
        **timer,
    }
