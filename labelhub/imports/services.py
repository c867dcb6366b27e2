"""Writes of the imports app: annotations upserted from validated import lines."""

from __future__ import annotations

import contextlib
import gc
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from labelhub.access.authz import actor_user
from labelhub.access.permissions import Permission
from labelhub.access.services import require
from labelhub.core.audit import audit_record
from labelhub.core.bulk import copy_insert
from labelhub.core.errors import Conflict, ValidationFailed
from labelhub.core.ids import new_id_strings, parse_id
from labelhub.core.live import project_group, send_event_on_commit, user_group
from labelhub.core.parsers import too_deep
from labelhub.core.validation import clean_text
from labelhub.imports.models import (
    Annotation,
    ImportJob,
    ImportLineError,
    ImportPayloadChunk,
    ImportReportChunk,
)
from labelhub.imports.validation import (
    MAX_ANNOTATIONS_PER_ROW,
    ImportContext,
    fast_box,
    line_warnings,
    parse_line,
    validate_line,
)
from labelhub.labeling.models import Label
from labelhub.projects.models import Project, Task
from labelhub.projects.selectors.ontologies import feature_lookup
from labelhub.projects.services.datasets import PayloadTooLarge

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
    labels: dict[Any, Any] | None = None,
    batch_size: int = 1000,
) -> int:
    """Upsert validated lines by (project, data row, uuid); return how many were written.

    A line whose uuid is already stored on that row replaces the stored annotation (so a
    retried import is idempotent). ``source`` defaults from the job's kind; ``labels``
    maps data row pk -> the ground-truth label the row's annotations belong to. On
    PostgreSQL new annotations are written with ``COPY`` (see ``_copy_write``).
    """
    if source is None:
        source = SOURCES[job.kind] if job is not None else Annotation.Source.PRELABEL
    lines = list(normalized_lines)
    if not lines:
        return 0
    labels = labels or {}
    if connection.vendor == "postgresql":
        return _copy_write(project, job, lines, source, labels)
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
            job=job,
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
_UPSERT_SET = ", ".join(
    f"{c} = EXCLUDED.{c}"
    for c in (
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
)


def _upsert_sql(table: str, cols: str) -> str:
    # table and column names come from the model, never from input
    return (
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM annotation_stage "  # noqa: S608
        f"ON CONFLICT (project_id, data_row_id, uuid) DO UPDATE SET {_UPSERT_SET}"
    )


NULL = "\\N"  # COPY text format's NULL


def _copy_text(value: str) -> str:
    """Escape a value for PostgreSQL's COPY text format."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_lines(
    project: Project, job: ImportJob | None, lines: list, source: str, labels: dict
) -> Iterator[bytes]:
    """The lines' rows in COPY text format (columns ``_COLUMNS``), in blocks of ~1 MB."""
    now = timezone.now().isoformat()
    head = f"{now}\t{now}\t{project.workspace_id}\t{project.pk}\t"
    job_id = str(job.pk) if job else NULL
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
            f"{pk}\t{head}{row_s}\t{feature_s}\t{line['kind']}\t{_copy_text(value)}\t"
            f"{line['confidence']!r}\t"
            f"{_copy_text(dumps(metrics).decode()) if metrics else '[]'}\t{source}\t"
            f"{job_id}\t{_copy_text(line['uuid'])}\t{label or NULL}\n"
        )
        block.append(out)
        size += len(out)
        if size > 1 << 20:
            yield "".join(block).encode()
            block, size = [], 0
    if block:
        yield "".join(block).encode()


def _copy_write(
    project: Project, job: ImportJob | None, lines: list, source: str, labels: dict
) -> int:
    """PostgreSQL: ``COPY`` new annotations straight into the table; replacements (uuids
    already stored on the row) go through a temporary table and ``INSERT … ON CONFLICT
    DO UPDATE``. A concurrent writer of the same uuid makes the direct ``COPY`` fail; the
    chunk is then written the upsert way (inside a savepoint, so nothing is half-written)."""
    table = Annotation._meta.db_table
    cols = ", ".join(_COLUMNS)
    new = [line for line in lines if not line.get("replaces")]
    old = [line for line in lines if line.get("replaces")]
    with transaction.atomic():
        if new:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                        for block in _copy_lines(project, job, new, source, labels):
                            copy.write(block)
            except IntegrityError:
                old = lines
        if old:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS annotation_stage "
                    f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
                )
                cursor.execute("TRUNCATE annotation_stage")
                with cursor.cursor.copy(f"COPY annotation_stage ({cols}) FROM STDIN") as copy:
                    for block in _copy_lines(project, job, old, source, labels):
                        copy.write(block)
                cursor.execute(_upsert_sql(table, cols))
                cursor.execute("TRUNCATE annotation_stage")
    return len(lines)


# --- import jobs ------------------------------------------------------------------------
#
# Creating a job streams the payload (an uploaded file, an NDJSON body or a JSON list)
# into ``ImportPayloadChunk`` rows of ``IMPORTS_CHUNK_SIZE`` lines, inside the creating
# transaction, and schedules ``imports.run_import_job`` once that commits. The worker
# handles one payload chunk per transaction: validate, write (COPY on PostgreSQL), store
# the chunk's per-line statuses (``ImportReportChunk``) and line errors
# (``ImportLineError``), bump the job's counters and ``next_chunk``. A re-run (or a
# redelivered task) continues at ``next_chunk`` and never handles a line twice; memory is
# one chunk whatever the file size. Each status is ``{"line", "uuid", "dataRow",
# "status": "SUCCESS"|"FAILURE", "errors": [{"name", "message", "additionalInfo"}]}``
# (plus ``"warnings"`` when the line was imported with one). Ground truth creates one
# submitted label per data row (author: the importer) and moves the rows' tasks to Done;
# pre-labels never touch tasks; a dry run writes nothing.

JOB_DONE = frozenset(
    {
        ImportJob.State.FINISHED,
        ImportJob.State.FINISHED_WITH_ERRORS,
        ImportJob.State.FAILED,
    }
)
_COUNTERS = (
    "processed",
    "lines_read",
    "lines_valid",
    "lines_invalid",
    "lines_written",
    "warnings",
    "error_summary",
    "next_chunk",
    "state",
)
_JOB_FIELDS = (
    "id",
    "project_id",
    "name",
    "kind",
    "dry_run",
    "total",
    "message",
    "finished_at",
    "created_by_id",
    *_COUNTERS,
)


def import_chunk_size() -> int:
    """Lines stored, validated and written per transaction."""
    return int(getattr(settings, "IMPORTS_CHUNK_SIZE", 10_000))


def import_max_lines() -> int:
    """Imports above this many lines are refused (413)."""
    return int(getattr(settings, "IMPORTS_MAX_LINES", 2_000_000))


def import_max_per_row() -> int:
    """Annotations a data row may hold in a project (Labelbox: 5,000)."""
    return int(getattr(settings, "IMPORTS_MAX_ANNOTATIONS_PER_ROW", MAX_ANNOTATIONS_PER_ROW))


def import_max_bytes() -> int:
    """Import payloads above this many bytes are refused (413)."""
    return int(getattr(settings, "IMPORTS_MAX_BODY_BYTES", 1024 * 1024 * 1024))


def _job_name_taken() -> Conflict:
    message = "An import with this name already exists in the project."
    return Conflict(message, details={"name": [message]})


def _too_many_lines(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"At most {limit:,} lines per import.",
        details={"lines": [f"At most {limit:,} lines per import."]},
    )


_BLOCK = 1 << 20


def _blocks(payload: Any) -> Iterator[bytes]:
    """The payload as blocks of bytes: an upload (``chunks``), a stream (``read``), bytes
    or str."""
    if isinstance(payload, str):
        yield payload.encode("utf-8")
        return
    if isinstance(payload, (bytes, bytearray)):
        yield bytes(payload)
        return
    if hasattr(payload, "chunks"):  # Django's UploadedFile (memory or temporary file)
        yield from payload.chunks(_BLOCK)
        return
    while block := payload.read(_BLOCK):
        yield block


def _chunk_text(lines: list[bytes], first: int) -> str:
    """Decode a chunk's lines; not UTF-8 refuses the whole upload, naming the line."""
    data = b"\n".join(lines)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = first + data.count(b"\n", 0, exc.start)
        raise ValidationFailed(
            f"Line {number} is not UTF-8 text; save the file as UTF-8 NDJSON.", field="file"
        )
    if "\x00" in text:  # PostgreSQL text cannot hold NUL; the line stays invalid JSON
        text = text.replace("\x00", "\x01")
    return text


def _json_lines(items: Sequence[Any]) -> Iterator[tuple[int, str]]:
    """Lines of a JSON list: an object is one line; a string is the text of one line."""
    for number, item in enumerate(items, start=1):
        if isinstance(item, str):
            try:  # one line per item, even when the text spans several
                parsed = orjson.loads(item)
                # too deep to write back (orjson writes 255 levels): kept as text, refused later
                readable = not too_deep(parsed, item)
            except orjson.JSONDecodeError:
                readable = False
            if not readable:
                text = item.replace("\r", "\x01").replace("\n", "\x01").replace("\x00", "\x01")
                yield number, text if text.strip() else "\x01"
                continue
            item = parsed
        yield number, orjson.dumps(item).decode()


def _store_payload(job: ImportJob, payload: Any) -> tuple[int, int, int]:
    """Write the payload as chunks of ``IMPORTS_CHUNK_SIZE`` non-blank lines; return
    (lines, bytes, relationship lines). Streams: one block and one chunk in memory.
    Blank lines are kept inside a chunk so that line numbers stay the file's."""
    size, limit_lines, limit_bytes = import_chunk_size(), import_max_lines(), import_max_bytes()
    state = {"total": 0, "relationships": 0, "seq": 0}
    pending: list[tuple] = []
    fields = ("job_id", "seq", "first_line", "count", "text")

    def flush(lines: list[bytes], first: int, count: int) -> None:
        text = _chunk_text(lines, first)
        state["relationships"] += text.count('"relationship"')
        pending.append((job.pk, state["seq"], first, count, text))
        state["seq"] += 1
        if len(pending) >= 4:
            copy_insert(ImportPayloadChunk, fields, pending)
            pending.clear()

    if isinstance(payload, (list, tuple)):
        blocks: Iterable[bytes] = (text.encode("utf-8") + b"\n" for _, text in _json_lines(payload))
    else:
        blocks = _blocks(payload)
    nbytes = number = count = 0
    first = 0
    buffer: list[bytes] = []
    tail = b""
    for block in blocks:
        nbytes += len(block)
        if nbytes > limit_bytes:
            raise PayloadTooLarge(f"At most {limit_bytes // (1024 * 1024)} MB per import.")
        lines = (tail + block).split(b"\n")
        tail = lines.pop()
        for raw in lines:
            number += 1
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if not raw or raw.isspace():
                if count:
                    buffer.append(b"")
                continue
            if not count:
                first = number
            buffer.append(raw)
            count += 1
            if count >= size:
                state["total"] += count
                if state["total"] > limit_lines:
                    raise _too_many_lines(limit_lines)
                flush(buffer, first, count)
                buffer, count = [], 0
    tail = tail.rstrip(b"\r")
    if tail and not tail.isspace():
        number += 1
        if not count:
            first = number
        buffer.append(tail)
        count += 1
    if count:
        state["total"] += count
        if state["total"] > limit_lines:
            raise _too_many_lines(limit_lines)
        while buffer and not buffer[-1]:
            buffer.pop()
        flush(buffer, first, count)
    copy_insert(ImportPayloadChunk, fields, pending)
    return state["total"], nbytes, state["relationships"]


def import_job_create(
    *,
    project: Project,
    actor: Any,
    name: Any,
    kind: Any,
    payload: Any,
    dry_run: bool = False,
) -> ImportJob:
    """Store an import's payload in chunks and run it in the background once this commits.

    ``payload`` is NDJSON (a binary file object such as an upload, bytes or str) or a
    list of JSON values (one per line). It is streamed: neither the request nor the
    worker holds the whole file.
    """
    require(actor, Permission.IMPORT_LABELS, project)
    name = clean_text(name, field="name", max_length=200)
    if kind not in ImportJob.Kind.values:
        raise ValidationFailed(f"Choose one of {', '.join(ImportJob.Kind.values)}.", field="kind")
    if not isinstance(dry_run, bool):
        raise ValidationFailed("Give true or false.", field="dry_run")
    if project.ontology_id is None:
        raise ValidationFailed(
            "Attach an ontology to the project before importing labels.", field="project"
        )
    if isinstance(payload, (list, tuple)):
        if len(payload) > import_max_lines():
            raise _too_many_lines(import_max_lines())
        field = "lines"
    elif payload is None:
        raise ValidationFailed("Give the lines to import.", field="lines")
    else:
        field = "file"
    with transaction.atomic():
        try:
            with transaction.atomic():  # only the name can collide
                job = ImportJob.objects.create(
                    workspace_id=project.workspace_id,
                    project=project,
                    name=name,
                    kind=kind,
                    dry_run=dry_run,
                    created_by=actor_user(actor),
                )
        except IntegrityError:
            raise _job_name_taken()
        total, nbytes, relationships = _store_payload(job, payload)
        if not total:
            raise ValidationFailed("Give at least one line.", field=field)
        job.total, job.payload_bytes, job.relationship_lines = total, nbytes, relationships
        job.save(update_fields=["total", "payload_bytes", "relationship_lines"])
        audit_record(
            workspace=project.workspace,
            actor=actor,
            verb="import.created",
            target=job,
            target_type="import_job",
            after={
                "project": str(project.pk),
                "name": name,
                "kind": kind,
                "dry_run": dry_run,
                "lines": total,
            },
        )
        from labelhub.imports.tasks import run_import_job_task

        ids = {"workspace_id": str(project.workspace_id), "job_id": str(job.pk)}
        transaction.on_commit(lambda: run_import_job_task.delay(**ids))
    return job


def import_job_event(job: ImportJob, *, message: str | None = None) -> dict[str, Any]:
    """The live ``import_job.progress`` event (importer and project viewers)."""
    event = {
        "type": "import_job.progress",
        "job": str(job.pk),
        "project": str(job.project_id),
        "name": job.name,
        "kind": job.kind,
        "dry_run": job.dry_run,
        "state": job.state,
        "total": job.total,
        "processed": job.processed,
        "lines_read": job.lines_read,
        "lines_valid": job.lines_valid,
        "lines_invalid": job.lines_invalid,
        "lines_written": job.lines_written,
        "warnings": job.warnings,
    }
    if message:
        event["message"] = message
    return event


def _recipients(job: ImportJob) -> list[str]:
    groups = [user_group(job.created_by_id)] if job.created_by_id else []
    return [*groups, project_group(job.project_id)]


def _row_label(obj: Any) -> str:
    ref = obj.get("dataRow") if isinstance(obj, dict) else None
    if isinstance(ref, dict):
        for key in ("id", "globalKey"):
            if isinstance(ref.get(key), str):
                return f"{key}: {ref[key]}"[:300]
    return ""


@dataclass
class _ChunkResult:
    seq: int
    report: list[bytes]
    errors: list[ImportLineError]
    valid: list[dict[str, Any]] = dataclass_field(default_factory=list)
    lines: int = 0
    invalid: int = 0
    written: int = 0
    warnings: int = 0
    summary: dict[str, int] = dataclass_field(default_factory=dict)


def _check_chunk(job: ImportJob, ctx: ImportContext, chunk: ImportPayloadChunk) -> _ChunkResult:
    """Validate one payload chunk: statuses, line errors and the valid lines to write."""
    if not gc.isenabled():
        gc.collect(1)  # what the previous chunk left (see ``_collector_paused``)
    numbered = [
        (chunk.first_line + i, text) for i, text in enumerate(chunk.text.split("\n")) if text
    ]
    ctx.start_chunk()
    parsed = ctx.prepare([text for _, text in numbered])
    result = _ChunkResult(seq=chunk.seq, report=[], errors=[], lines=len(numbered))
    valid = result.valid
    dumps = orjson.dumps
    warn = bool(ctx.other_prelabels)
    for (number, _), line in zip(numbered, parsed, strict=True):
        normalized = fast_box(line, ctx) if type(line) is dict and "bbox" in line else None
        if normalized is not None:
            valid.append(normalized)
            if warn and (warnings := line_warnings(normalized, ctx)):
                status = _status(number, line, [])
                status["warnings"] = warnings
                result.report.append(dumps(status))
                result.warnings += 1
            continue
        normalized, errors = validate_line(line, context=ctx)
        if normalized is not None:
            valid.append(normalized)
            warnings = line_warnings(normalized, ctx)
            if warnings:  # stored; plain successes are rebuilt from the payload
                status = _status(number, line, [])
                status["warnings"] = warnings
                result.report.append(dumps(status))
                result.warnings += 1
            continue
        result.invalid += 1
        status = _status(number, line, errors)
        result.report.append(dumps(status))
        row = _row_label(line)
        for e in errors:
            result.summary[e["name"]] = result.summary.get(e["name"], 0) + 1
            result.errors.append(
                ImportLineError(
                    job_id=job.pk,
                    line=number,
                    uuid=(status["uuid"] or "")[:100],
                    data_row=row,
                    name=e["name"][:40],
                    message=e["message"],
                    additional_info=e["additionalInfo"],
                )
            )
    return result


def _status(number: int, line: Any, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """A line's entry in the report."""
    obj = line if isinstance(line, dict) else {}
    uuid, ref = obj.get("uuid"), obj.get("dataRow")
    return {
        "line": number,
        "uuid": uuid if isinstance(uuid, str) else None,
        "dataRow": ref if isinstance(ref, dict) else None,
        "status": "FAILURE" if errors else "SUCCESS",
        "errors": errors,
    }


def _write_chunk(job: ImportJob, result: _ChunkResult) -> int:
    """Write a checked chunk's valid lines (ground truth: with their labels)."""
    if not result.valid or job.dry_run:
        return 0
    labels = None
    if job.kind == ImportJob.Kind.GROUND_TRUTH:
        labels = _ground_truth_labels(job, result.valid)
    return annotations_write(
        project=job.project, job=job, normalized_lines=result.valid, labels=labels
    )


def _ground_truth_labels(job: ImportJob, valid: list[dict[str, Any]]) -> dict[Any, Any]:
    """Create or refresh the importer's submitted label on each row; move the rows' tasks
    to Done. Returns data row pk -> label pk."""
    now = timezone.now()
    rows: dict[Any, bool] = {}
    for line in valid:
        pk = line["data_row"].pk
        rows[pk] = rows.get(pk, False) or line["benchmark"]
    labels = [
        Label(
            workspace_id=job.workspace_id,
            project_id=job.project_id,
            data_row_id=pk,
            author_id=job.created_by_id,
            origin=Label.Origin.IMPORTED,
            status=Label.Status.SUBMITTED,
            is_benchmark_reference=benchmark,
            import_job_id=job.pk,
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
    # the benchmark mark is sticky: a later chunk or import without the flag keeps it
    flagged = [pk for pk, benchmark in rows.items() if benchmark]
    if flagged:
        Label.objects.filter(
            project_id=job.project_id, data_row_id__in=flagged, author_id=job.created_by_id
        ).update(is_benchmark_reference=True)
    Task.objects.filter(project_id=job.project_id, data_row_id__in=list(rows)).update(
        labeled=True, status=Task.Status.DONE, updated_at=now
    )
    found = Label.objects.filter(
        project_id=job.project_id, data_row_id__in=list(rows), author_id=job.created_by_id
    ).values_list("data_row_id", "pk")
    return {str(row): label for row, label in found}


def _relationship_objects(job: ImportJob, ctx: ImportContext) -> None:
    """Before the first chunk of an import holding relationships: register the objects
    the relationships name, wherever they are in the file (two streaming passes; memory
    grows with the relationships, not with the file)."""
    named: set[str] = set()
    chunks = ImportPayloadChunk.objects.filter(job_id=job.pk).order_by("seq")
    for text in chunks.values_list("text", flat=True).iterator(chunk_size=4):
        for raw in text.split("\n"):
            if '"relationship"' in raw:
                line = parse_line(raw)
                rel = line.get("relationship") if isinstance(line, dict) else None
                if isinstance(rel, dict):
                    named.update(v for v in (rel.get("source"), rel.get("target")) if v)
    if not named:
        return
    for text in chunks.values_list("text", flat=True).iterator(chunk_size=4):
        lines = [raw for raw in text.split("\n") if raw]
        if len(named) < 64:  # cheap substring test first; parse only lines naming a uuid
            lines = [raw for raw in lines if any(n in raw for n in named)]
        ctx.note_objects(lines, only=named)


def import_job_run(*, workspace_id: Any, job_id: Any) -> ImportJob | None:
    """Run (or continue) an import chunk by chunk; a finished or missing job is left alone."""
    job = (
        ImportJob.objects.select_related("workspace", "project__ontology", "created_by")
        .filter(pk=parse_id(job_id), workspace_id=parse_id(workspace_id))
        .first()
    )
    if job is None or job.state in JOB_DONE:
        return job
    if job.project.ontology is None:
        import_job_fail(
            workspace_id=workspace_id, job_id=job_id, message="the project has no ontology"
        )
        return ImportJob.objects.get(pk=job.pk)
    ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING
    )
    ctx = ImportContext(
        project=job.project,
        lookup=feature_lookup(job.project.ontology),
        kind=job.kind,
        job_id=job.pk,
        dry_run=job.dry_run,
        max_per_row=import_max_per_row(),
    )
    if job.relationship_lines:
        _relationship_objects(job, ctx)
    recipients = _recipients(job)
    start = ImportJob.objects.filter(pk=job.pk).values_list("next_chunk", flat=True).first()
    if start is None:
        return None
    with _collector_paused():
        _run_chunks(job, ctx, _payload_chunks(job, start), recipients)
    return _import_job_finish(job, recipients)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's automatic cycle collector while chunks run: a chunk allocates a few
    hundred thousand short-lived, acyclic objects and generational collections scanning
    them cost about a third of the import's time. The chunk loop collects once per chunk
    instead (``gc.collect(1)`` in ``_check_chunk``); the previous state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run_chunks(
    job: ImportJob, ctx: ImportContext, chunks: Iterator[ImportPayloadChunk], recipients: list
) -> None:
    """Check and commit the chunks. On PostgreSQL outside a transaction (a worker) a
    thread commits chunk k while chunk k+1 is checked, so the database's time overlaps
    Python's. Inside a transaction (tests) the thread's connection would not see the
    uncommitted job; SQLite allows one writer at a time: no thread there."""
    if (
        connection.in_atomic_block
        or connection.vendor != "postgresql"
        or not getattr(settings, "IMPORTS_PIPELINE", True)
    ):
        for chunk in chunks:
            if not _commit_chunk(job, _check_chunk(job, ctx, chunk), recipients):
                break
    else:
        _run_pipelined(job, ctx, chunks, recipients)


def _payload_chunks(job: ImportJob, start: int) -> Iterator[ImportPayloadChunk]:
    """The job's payload chunks from ``start`` on, one query each (one chunk in memory)."""
    seq = start
    while True:
        chunk = ImportPayloadChunk.objects.filter(job_id=job.pk, seq=seq).first()
        if chunk is None:
            return
        yield chunk
        seq += 1


def _commit_chunk(job: ImportJob, result: _ChunkResult, recipients: list[str]) -> bool:
    """Write a checked chunk with its report and the job's counters in one transaction.
    False when the job is gone or over (stop); a chunk another run already committed is
    skipped (its ``seq`` is below the job's ``next_chunk``)."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().only(*_JOB_FIELDS).filter(pk=job.pk).first()
        if locked is None or locked.state in JOB_DONE:
            return False
        if locked.next_chunk != result.seq:
            return locked.next_chunk > result.seq  # done by another run: skip; a gap: stop
        written = _write_chunk(job, result)
        locked.processed += result.lines
        locked.lines_read += result.lines
        locked.lines_valid += result.lines - result.invalid
        locked.lines_invalid += result.invalid
        locked.lines_written += written
        locked.warnings += result.warnings
        for name, n in result.summary.items():
            locked.error_summary[name] = locked.error_summary.get(name, 0) + n
        locked.next_chunk += 1
        locked.state = ImportJob.State.RUNNING
        report = b"\n".join(result.report).decode()
        copy_insert(ImportReportChunk, ("job_id", "offset", "text"), [(job.pk, result.seq, report)])
        ImportLineError.objects.bulk_create(result.errors, batch_size=1000)
        locked.save(update_fields=list(_COUNTERS))
        send_event_on_commit(import_job_event(locked), recipients)
    return True


def _run_pipelined(
    job: ImportJob, ctx: ImportContext, chunks: Iterator[ImportPayloadChunk], recipients: list
) -> None:
    """Check chunks here and commit them in a writer thread, one chunk apart (the
    context keeps the last two chunks' uuids and counts for exactly this overlap)."""
    handoff: queue.Queue[_ChunkResult | None] = queue.Queue(maxsize=1)
    failure: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            while (result := handoff.get()) is not None:
                if not stop.is_set() and not _commit_chunk(job, result, recipients):
                    stop.set()
        except Exception as exc:  # noqa: BLE001 -- re-raised in the task (retry or fail)
            failure.append(exc)
            stop.set()
            while handoff.get() is not None:
                pass
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer, name=f"import-writer-{job.pk}", daemon=True)
    thread.start()
    try:
        for chunk in chunks:
            if stop.is_set():
                break
            handoff.put(_check_chunk(job, ctx, chunk))
    finally:
        handoff.put(None)
        thread.join()
    if failure:
        raise failure[0]


def _import_job_finish(job: ImportJob, recipients: list[str]) -> ImportJob | None:
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().only(*_JOB_FIELDS).filter(pk=job.pk).first()
        if locked is None:
            return None
        if locked.state in JOB_DONE:
            return locked
        locked.state = (
            ImportJob.State.FINISHED_WITH_ERRORS
            if locked.lines_invalid
            else ImportJob.State.FINISHED
        )
        locked.finished_at = timezone.now()
        locked.save(update_fields=["state", "finished_at"])
        _audit_finished(job, locked)
        message = _summary(locked)
        _notify(job, locked, message)
        send_event_on_commit(import_job_event(locked, message=message), recipients)
    return locked


def _summary(job: ImportJob) -> str:
    if job.state == ImportJob.State.FAILED:
        return f"Import {job.name} failed: {job.message}"
    text = (
        f"Import {job.name} finished: {job.lines_valid:,} valid, "
        f"{job.lines_invalid:,} invalid, {job.lines_written:,} written"
    )
    if job.warnings:
        text += f", {job.warnings:,} onto rows with pre-labels from another import"
    return text + (" (dry run)." if job.dry_run else ".")


def _notify(job: ImportJob, locked: ImportJob, message: str) -> None:
    """The importer's notification-center entry, linking to the job page."""
    if not job.created_by_id:
        return
    from labelhub.notifications.models import Notification
    from labelhub.notifications.services import notification_create

    try:
        url = reverse(
            "console:project-import", kwargs={"project_id": job.project_id, "job_id": job.pk}
        )
    except NoReverseMatch:
        url = ""
    notification_create(
        user_id=job.created_by_id,
        workspace_id=job.workspace_id,
        kind=Notification.Kind.IMPORT_FINISHED,
        subject=f"import_job:{job.pk}",
        title=message,
        body=f"Project {job.project.name}. The per-line report is on the import's page.",
        url=url,
    )


def _audit_finished(job: ImportJob, locked: ImportJob) -> None:
    audit_record(
        workspace=job.workspace,
        actor=job.created_by,
        verb="import.finished",
        target=locked,
        target_type="import_job",
        after={
            "state": locked.state,
            "lines_read": locked.lines_read,
            "lines_valid": locked.lines_valid,
            "lines_invalid": locked.lines_invalid,
            "lines_written": locked.lines_written,
            "warnings": locked.warnings,
            **({"message": locked.message} if locked.message else {}),
        },
    )


def import_job_fail(*, workspace_id: Any, job_id: Any, message: str) -> None:
    """Mark a job failed with why (its committed chunks stay); used when the task gives up."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("workspace", "created_by", "project")
            .filter(pk=parse_id(job_id), workspace_id=parse_id(workspace_id))
            .first()
        )
        if job is None or job.state in JOB_DONE:
            return
        job.state = ImportJob.State.FAILED
        job.finished_at = timezone.now()
        job.message = message
        job.save(update_fields=["state", "finished_at", "message"])
        _audit_finished(job, job)
        text = _summary(job)
        _notify(job, job, text)
        send_event_on_commit(import_job_event(job, message=text), _recipients(job))


def import_job_report(job: ImportJob) -> Iterator[str]:
    """The per-line statuses of the lines handled so far, in line order, as NDJSON text
    (one string per chunk, each line ending in a newline).

    A chunk's report row stores only its failures and warnings; the statuses of the
    other lines (``SUCCESS``, no errors) are rebuilt from the stored payload here, which
    spares the import a write per line.
    """
    reports = ImportReportChunk.objects.filter(job=job).order_by("offset")
    for seq, stored in reports.values_list("offset", "text").iterator(chunk_size=4):
        chunk = ImportPayloadChunk.objects.filter(job=job, seq=seq).first()
        if chunk is None:
            continue
        special = {}
        for text in stored.split("\n") if stored else ():
            special[orjson.loads(text)["line"]] = text
        out = []
        for i, raw in enumerate(chunk.text.split("\n")):
            if not raw:
                continue
            number = chunk.first_line + i
            text = special.get(number)
            if text is None:
                text = orjson.dumps(_status(number, parse_line(raw), [])).decode()
            out.append(text)
        if out:
            yield "\n".join(out) + "\n"
