"""What the projects app asks of the apps above it, without importing them.

Labeling data (tasks, labels) lives above projects; project and ontology rules still
depend on it ("the ontology may change only while the project is unlabeled", "delete a
project's tasks in chunks"). The labeling app registers the answers at start-up
(``LabelingConfig.ready``); with nothing registered a project has no labels and nothing
to purge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

_labeled_finders: list[Callable[[Iterable[Any]], set[Any]]] = []
_purgers: list[Callable[[Any], int]] = []
_sizers: list[Callable[[Any], int]] = []
_row_project_finders: list[Callable[[Any], set[Any]]] = []


def register_labeled_finder(finder: Callable[[Iterable[Any]], set[Any]]) -> None:
    """Add a function answering which of the given project ids hold labeled data."""
    if finder not in _labeled_finders:
        _labeled_finders.append(finder)


def register_purger(purger: Callable[[Any], int]) -> None:
    """Add a function deleting one chunk of a project's data; it returns how many went."""
    if purger not in _purgers:
        _purgers.append(purger)


def register_sizer(sizer: Callable[[Any], int]) -> None:
    """Add a function counting a project's rows of data (what deleting it would cost)."""
    if sizer not in _sizers:
        _sizers.append(sizer)


def register_row_project_finder(finder: Callable[[Any], set[Any]]) -> None:
    """Add a function answering which projects hold a data row (by the row's id)."""
    if finder not in _row_project_finders:
        _row_project_finders.append(finder)


def projects_holding_row(data_row_id: Any) -> set[Any]:
    """Ids of the projects a data row was sent to (as a task)."""
    found: set[Any] = set()
    for finder in _row_project_finders:
        found |= finder(data_row_id)
    return found


def project_size(project_id: Any) -> int:
    """Rows of data a project holds in the apps above (tasks), summed."""
    return sum(sizer(project_id) for sizer in _sizers)


def labeled_project_ids(project_ids: Iterable[Any]) -> set[Any]:
    """Which of these projects hold labeled data rows."""
    ids = list(project_ids)
    found: set[Any] = set()
    for finder in _labeled_finders:
        found |= finder(ids)
    return found


def purge_chunk(project_id: Any) -> int:
    """Delete one chunk of a project's data through every purger; 0 when none is left."""
    return sum(purger(project_id) for purger in _purgers)
