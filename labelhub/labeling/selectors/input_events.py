"""Reads of authentic input protection: the free-text features of a project's ontology and
the input events recorded on a data row."""

from __future__ import annotations

from typing import Any

from labelhub.labeling.models import InputEvent
from labelhub.projects.models import DataRow, Project
from labelhub.projects.selectors.ontologies import iter_features


def text_features(project: Project) -> dict[str, str]:
    """The free-text classifications of the project's ontology, global or nested at any
    depth: ``featureSchemaId`` -> name."""
    tree = project.ontology.normalized if project.ontology_id else None
    return {
        data["featureSchemaId"]: data.get("name") or data.get("instructions") or ""
        for data in iter_features(tree or {})
        if "tool" not in data and data.get("type") == "text" and data.get("featureSchemaId")
    }


def input_events_of(*, project: Project, data_row: DataRow) -> list[InputEvent]:
    """The row's input events in the project, oldest first, with their people."""
    return list(
        InputEvent.objects.filter(project=project, data_row=data_row)
        .select_related("user")
        .order_by("created_at", "id")
    )


def input_event_json(event: InputEvent) -> dict[str, Any]:
    """An input event as the API answers it."""
    return {
        "id": str(event.pk),
        "kind": event.kind,
        "feature": event.feature_schema_id,
        "detail": event.detail,
        "created_at": event.created_at.isoformat(),
    }


def input_event_text(event: InputEvent, features: dict[str, str]) -> str:
    """An input event as the data row page says it: what happened, in which feature."""
    name = features.get(event.feature_schema_id) or event.feature_schema_id
    if event.kind == InputEvent.Kind.PASTE:
        return f"Paste blocked in {name}"
    detail = event.detail if isinstance(event.detail, dict) else {}
    characters, milliseconds = detail.get("characters"), detail.get("milliseconds")
    measured = ""
    if isinstance(characters, int | float) and isinstance(milliseconds, int | float):
        measured = f" ({characters:g} characters in {milliseconds:g} ms)"
    return f"Rapid entry in {name}{measured}"
