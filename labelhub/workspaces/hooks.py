"""What the workspaces app asks of the apps above it, without importing them.

Someone who never chose a workspace lands in the one with the most work in it; the work
(projects, data rows, labels) lives in higher apps, which register counters at start-up
(``ProjectsConfig.ready``, ``LabelingConfig.ready``). With none registered every workspace
counts 0 and the first by name wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

_activity_counters: list[Callable[[Sequence[Any]], dict[Any, int]]] = []


def register_activity_counter(counter: Callable[[Sequence[Any]], dict[Any, int]]) -> None:
    """Add a function counting, per workspace id, the things of one kind each holds."""
    if counter not in _activity_counters:
        _activity_counters.append(counter)


def workspace_activity(workspace_ids: Sequence[Any]) -> dict[Any, int]:
    """Everything the registered counters count, summed per workspace id."""
    total: dict[Any, int] = dict.fromkeys(workspace_ids, 0)
    for counter in _activity_counters:
        for workspace_id, count in counter(workspace_ids).items():
            total[workspace_id] = total.get(workspace_id, 0) + count
    return total
