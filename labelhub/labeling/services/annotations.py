"""The annotation store: every write of annotations and of the labels they belong to.

Annotations are upserted by ``(project, data row, uuid)``: a line whose uuid is already
stored on the row replaces it, so a retried import is idempotent. On PostgreSQL new
annotations go in with ``COPY`` and replacements through a staging table and
``INSERT … ON CONFLICT DO UPDATE`` (``core.bulk``); elsewhere through ``bulk_create``.
Storage and throughput decisions: ``docs/adr/0005-annotation-import-throughput.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from labelhub.core.bulk import NULL, copy_blocks, copy_escape, copy_upsert_blocks
from labelhub.core.ids import new_id_strings
from labelhub.labeling.models import Annotation, Label
from labelhub.labeling.services.tasks import tasks_mark_done
from labelhub.projects.models import Project

UPDATED_FIELDS = [
    "feature",
    "kind",
    "value",
    "confidence",
    "custom_metrics",
    "source",
    "job",
    "label",
    "updated_at",
]
_COLUMNS = (  # the order of _copy_lines
    "id",
    "created_at",
    "updated_at",
    "workspace_id",
    "project_id",
    "data_row_id",
    "feature_id",
    "kind",
    "value",
    "confidence",
    "custom_metrics",
    "source",
    "job_id",
    "uuid",
    "label_id",
)
_REPLACED = (
    "updated_at",
    "feature_id",
    "kind",
    "value",
    "confidence",
    "custom_metrics",
    "source",
    "job_id",
    "label_id",
)


def annotations_write(
    *,
    project: Project,
    job: Any,
    normalized_lines: Iterable[dict[str, Any]],
    source: str = Annotation.Source.PRELABEL,
    labels: dict[Any, Any] | None = None,
    batch_size: int = 1000,
) -> int:
    """Upsert validated lines by (project, data row, uuid); return how many were written.

    ``job`` is the import job the lines come from (or None); ``labels`` maps data row pk
    -> the label the row's annotations belong to (ground truth).
    """
    lines = list(normalized_lines)
    if not lines:
        return 0
    labels = labels or {}
    job_id = job.pk if job is not None else None
    if connection.vendor == "postgresql":
        return _copy_write(project, job_id, lines, source, labels)
    objs = [
        Annotation(
            workspace_id=project.workspace_id,
            project=project,
            data_row_id=line["data_row"].pk,
            feature=line["feature"],
            kind=line["kind"],
            value=line["value"],
            confidence=line["confidence"],
            custom_metrics=line["custom_metrics"],
            source=source,
            job_id=job_id,
            uuid=line["uuid"],
            label_id=labels.get(line["data_row"].pk),
        )
        for line in lines
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


def _copy_lines(
    project: Project, job_id: Any, lines: list, source: str, labels: dict
) -> Iterator[bytes]:
    """The lines' rows in COPY text format (columns ``_COLUMNS``), in blocks of ~1 MB."""
    now = timezone.now().isoformat()
    head = f"{now}\t{now}\t{project.workspace_id}\t{project.pk}\t"
    job_s = str(job_id) if job_id else NULL
    dumps = orjson.dumps
    ids = new_id_strings(len(lines))
    text: dict[Any, str] = {}  # str() of uuids, once per row / feature / label
    block: list[str] = []
    size = 0
    for pk, line in zip(ids, lines, strict=True):
        row = line["data_row"].pk
        feature = line["feature"].pk
        label = labels.get(row)
        metrics = line["custom_metrics"]
        row_s = text.get(row) or text.setdefault(row, str(row))
        feature_s = text.get(feature) or text.setdefault(feature, str(feature))
        value = dumps(line["value"]).decode()
        out = (
            f"{pk}\t{head}{row_s}\t{feature_s}\t{line['kind']}\t{copy_escape(value)}\t"
            f"{line['confidence']!r}\t"
            f"{copy_escape(dumps(metrics).decode()) if metrics else '[]'}\t{source}\t"
            f"{job_s}\t{copy_escape(line['uuid'])}\t{label or NULL}\n"
        )
        block.append(out)
        size += len(out)
        if size > 1 << 20:
            yield "".join(block).encode()
            block, size = [], 0
    if block:
        yield "".join(block).encode()


def _copy_write(project: Project, job_id: Any, lines: list, source: str, labels: dict) -> int:
    """PostgreSQL: ``COPY`` new annotations straight into the table; replacements (uuids
    already stored on the row) go through the staging upsert. A concurrent writer of the
    same uuid makes the direct ``COPY`` fail; the chunk is then written the upsert way
    (inside a savepoint, so nothing is half-written)."""
    new = [line for line in lines if not line.get("replaces")]
    old = [line for line in lines if line.get("replaces")]
    with transaction.atomic():
        if new:
            try:
                with transaction.atomic():
                    copy_blocks(
                        Annotation, _COLUMNS, _copy_lines(project, job_id, new, source, labels)
                    )
            except IntegrityError:
                old = lines
        if old:
            copy_upsert_blocks(
                Annotation,
                _COLUMNS,
                _copy_lines(project, job_id, old, source, labels),
                conflict=("project_id", "data_row_id", "uuid"),
                update=_REPLACED,
            )
    return len(lines)


def ground_truth_labels_upsert(
    *, project: Project, author_id: Any, import_job: Any, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """Create or refresh the author's submitted, imported label on each row of ``lines``
    and move the rows' tasks to Done. Returns data row pk (text) -> label pk.

    The benchmark mark is sticky: a later chunk or import without the flag keeps it.
    """
    now = timezone.now()
    rows: dict[Any, bool] = {}
    for line in lines:
        pk = line["data_row"].pk
        rows[pk] = rows.get(pk, False) or line["benchmark"]
    labels = [
        Label(
            workspace_id=project.workspace_id,
            project_id=project.pk,
            data_row_id=pk,
            author_id=author_id,
            origin=Label.Origin.IMPORTED,
            status=Label.Status.SUBMITTED,
            is_benchmark_reference=benchmark,
            import_job_id=import_job.pk if import_job is not None else None,
            submitted_at=now,
        )
        for pk, benchmark in rows.items()
    ]
    Label.objects.bulk_create(
        labels,
        update_conflicts=True,
        unique_fields=["project", "data_row", "author"],
        update_fields=["origin", "status", "import_job", "updated_at"],
    )
    flagged = [pk for pk, benchmark in rows.items() if benchmark]
    if flagged:
        Label.objects.filter(
            project_id=project.pk, data_row_id__in=flagged, author_id=author_id
        ).update(is_benchmark_reference=True)
    tasks_mark_done(project=project, data_row_ids=list(rows), labeled=True)
    found = Label.objects.filter(
        project_id=project.pk, data_row_id__in=list(rows), author_id=author_id
    ).values_list("data_row_id", "pk")
    return {str(row): label for row, label in found}
