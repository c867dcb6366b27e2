"""Reads of the console's labeling pages: time spent in a project, what a task page's
form asks (the ontology's global classifications), the rejection a rework answers."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Sum

from labelhub.labeling.models import Label, Review, Task
from labelhub.projects.models import Project

#: classification kinds the task page's form answers (objects wait for the editor)
FORM_KINDS = ("radio", "checklist", "text")


def seconds_spent(*, project: Project) -> float:
    """Seconds the server measured on the project's labels (labeling, review, rework)."""
    total = Label.objects.filter(project=project).aggregate(
        n=Sum(F("seconds_labeling") + F("seconds_review") + F("seconds_rework"))
    )["n"]
    return float(total or 0.0)


def _classification(feature: dict[str, Any]) -> dict[str, Any]:
    return {
        "featureSchemaId": feature.get("featureSchemaId") or "",
        "name": feature.get("name") or feature.get("instructions") or "",
        "type": feature.get("type"),
        "required": bool(feature.get("required")),
        "options": [
            {
                "featureSchemaId": option.get("featureSchemaId") or "",
                "label": option.get("label") or option.get("value") or "",
                "options": [
                    _classification(child)
                    for child in option.get("options") or []
                    if child.get("type") in FORM_KINDS
                ],
            }
            for option in feature.get("options") or []
        ],
    }


def editor_ontology(project: Project) -> dict[str, Any]:
    """What the editor draws with: the ontology's tools (name, colour, nested questions to
    any depth) and its global classifications, in the ontology's order."""
    tree = (project.ontology.normalized if project.ontology_id else None) or {}
    return {
        "tools": [
            {
                "featureSchemaId": tool.get("featureSchemaId") or "",
                "name": tool.get("name") or "",
                "tool": tool.get("tool"),
                "color": tool.get("color") or "",
                "required": bool(tool.get("required")),
                "classifications": [
                    _classification(c)
                    for c in tool.get("classifications") or []
                    if c.get("type") in FORM_KINDS
                ],
            }
            for tool in tree.get("tools") or []
        ],
        "classifications": [
            _classification(c)
            for c in tree.get("classifications") or []
            if c.get("type") in FORM_KINDS and c.get("scope") in (None, "", "global")
        ],
    }


def rejection_of(task: Task) -> Review | None:
    """The latest rejection of the task's labels (its reason is what a rework answers)."""
    return (
        Review.objects.filter(task=task, decision=Review.Decision.REJECT)
        .select_related("reviewer")
        .order_by("-created_at", "-id")
        .first()
    )
