"""Reads of the imports app: jobs of a project, their line errors, a row's annotations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from labelhub.access.authz import can
from labelhub.access.permissions import Permission
from labelhub.core.errors import NotFound
from labelhub.core.ids import parse_id
from labelhub.imports.models import Annotation, ImportJob, ImportLineError
from labelhub.projects.models import DataRow, Project

#: annotation kinds drawn on the asset (the rest are listed as classifications)
CLASSIFICATION_KINDS = frozenset({"radio", "checklist", "text"})


def import_job_list(project: Project) -> QuerySet[ImportJob]:
    """A project's imports, newest first, with their authors."""
    return ImportJob.objects.filter(project=project).select_related("created_by")


def import_job_get(project: Project, job_id: Any) -> ImportJob:
    """One import of the project; another project's (or a malformed id) is not found."""
    job = import_job_list(project).filter(pk=parse_id(job_id)).first()
    if job is None:
        raise NotFound("No such import in this project.")
    return job


def import_line_errors(job: ImportJob, *, name: str | None = None) -> QuerySet[ImportLineError]:
    """The job's line errors in line order, optionally only those of one error name."""
    errors = ImportLineError.objects.filter(job=job)
    return errors.filter(name=name) if name else errors


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
