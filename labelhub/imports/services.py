"""Writes of the imports app: annotations upserted from validated import lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from labelhub.imports.models import Annotation, ImportJob
from labelhub.projects.models import Project

UPDATED_FIELDS = [
    "feature",
    "kind",
    "value",
    "confidence",
    "custom_metrics",
    "source",
    "job",
    "updated_at",
]
SOURCES = {
    ImportJob.Kind.PRELABELS: Annotation.Source.PRELABEL,
    ImportJob.Kind.GROUND_TRUTH: Annotation.Source.GROUND_TRUTH,
}


def annotations_write(
    *,
    project: Project,
    job: ImportJob | None,
    normalized_lines: Iterable[dict[str, Any]],
    source: str | None = None,
    batch_size: int = 1000,
) -> int:
    """Upsert validated lines by (project, data row, uuid); return how many were written.

    A line whose uuid is already stored on that row replaces the stored annotation (so a
    retried import is idempotent). ``source`` defaults from the job's kind.
    """
    if source is None:
        source = SOURCES[job.kind] if job is not None else Annotation.Source.PRELABEL
    objs = [
        Annotation(
            workspace_id=project.workspace_id,
            project=project,
            data_row=line["data_row"],
            feature=line["feature"],
            kind=line["kind"],
            value=line["value"],
            confidence=line["confidence"],
            custom_metrics=line["custom_metrics"],
            source=source,
            job=job,
            uuid=line["uuid"],
        )
        for line in normalized_lines
    ]
    with transaction.atomic():
        for start in range(0, len(objs), batch_size):
            Annotation.objects.bulk_create(
                objs[start : start + batch_size],
                update_conflicts=True,
                unique_fields=["project", "data_row", "uuid"],
                update_fields=UPDATED_FIELDS,
            )
    return len(objs)
