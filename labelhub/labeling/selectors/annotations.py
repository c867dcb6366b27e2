"""Reads of annotations: what one viewer may see of a data row's annotations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labelhub.access.authz import can
from labelhub.access.permissions import Permission
from labelhub.labeling.models import Annotation
from labelhub.projects.models import DataRow, Project

#: annotation kinds drawn on the asset (the rest are listed as classifications)
CLASSIFICATION_KINDS = frozenset({"radio", "checklist", "text"})


def sees_all_prelabels(actor: Any, project: Project) -> bool:
    """Importers and project managers see pre-labels under the confidence threshold too."""
    return can(actor, Permission.IMPORT_LABELS, project) or can(
        actor, Permission.MANAGE_PROJECT_SETTINGS, project
    )


@dataclass
class RowAnnotations:
    """What one viewer may see of a data row's annotations in a project."""

    threshold: float
    sees_all: bool
    #: drawn on the asset (boxes, polygons, lines, points, masks, entities, ...)
    objects: list[Annotation] = field(default_factory=list)
    #: radio / checklist / free-text answers of the whole row
    classifications: list[Annotation] = field(default_factory=list)
    #: pre-labels under the threshold (hidden from labelers; shown marked to managers)
    below_threshold: int = 0


def row_annotations(*, project: Project, data_row: DataRow, actor: Any) -> RowAnnotations:
    """The row's annotations for ``actor``: pre-labels below the project's confidence
    threshold are left out unless the actor may import labels or manage the project."""
    threshold = float(project.prelabel_confidence_threshold or 0.0)
    result = RowAnnotations(threshold=threshold, sees_all=sees_all_prelabels(actor, project))
    rows = (
        Annotation.objects.filter(project=project, data_row=data_row)
        .select_related("feature")
        .order_by("created_at", "id")
    )
    hidden: set[str] = set()
    for annotation in rows:
        low = annotation.source == Annotation.Source.PRELABEL and annotation.confidence < threshold
        if low:
            result.below_threshold += 1
            if not result.sees_all:
                hidden.add(annotation.uuid)
                continue
        annotation.below_threshold = low
        target = (
            result.classifications if annotation.kind in CLASSIFICATION_KINDS else result.objects
        )
        target.append(annotation)
    if hidden:
        # a relationship to a hidden object would reveal it (its uuid): leave it out too
        result.objects = [a for a in result.objects if not _links_to(a, hidden)]
    return result


def _links_to(annotation: Annotation, uuids: set[str]) -> bool:
    if annotation.kind != "relationship" or not isinstance(annotation.value, dict):
        return False
    ends = annotation.value.get("relationship")
    return isinstance(ends, dict) and bool({ends.get("source"), ends.get("target")} & uuids)


def stored_annotation_keys(*, data_row_ids: list[Any]) -> list[tuple]:
    """(data row, uuid, kind, job id, source, project id) of every annotation on the rows.

    By data row only (callers compare the project): with the project in the query
    PostgreSQL may walk the project's whole (project, data row, uuid) index range when an
    import grows the table faster than its statistics.
    """
    return list(
        Annotation.objects.filter(data_row_id__in=data_row_ids).values_list(
            "data_row_id", "uuid", "kind", "job_id", "source", "project_id"
        )
    )
