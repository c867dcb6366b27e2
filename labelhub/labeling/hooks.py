"""Labeling's answers to the hooks lower apps offer (registered in ``apps.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count

from labelhub.labeling.models import Label, Task
from labelhub.labeling.services.tasks import tasks_purge_chunk


def labeled_project_ids(project_ids: Iterable[Any]) -> set[Any]:
    """Which of the projects hold a labeled data row."""
    ids = list(project_ids)
    if not ids:
        return set()
    found = Task.objects.filter(project_id__in=ids, labeled=True).values_list(
        "project_id", flat=True
    )
    return set(found.distinct())


def row_project_ids(data_row_id: Any) -> set[Any]:
    """Projects holding a task of the data row."""
    found = Task.objects.filter(data_row_id=data_row_id).values_list("project_id", flat=True)
    return set(found.distinct())


def task_count(project_id: Any) -> int:
    """Tasks of a project (what deleting it costs)."""
    return Task.objects.filter(project_id=project_id).count()


def purge_tasks(project_id: Any) -> int:
    """Delete one chunk of a project's tasks."""
    return tasks_purge_chunk(project_id=project_id)


def label_counts(workspace_ids: Sequence[Any]) -> dict[Any, int]:
    """Labels per workspace (part of where a sign-in lands first)."""
    counts = (
        Label.objects.filter(workspace_id__in=list(workspace_ids))
        .order_by()
        .values("workspace_id")
        .annotate(n=Count("pk"))
        .values_list("workspace_id", "n")
    )
    return dict(counts)
