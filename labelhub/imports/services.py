"""Writes of the imports app: import jobs created from an upload (stored in chunks and run
by ``imports.jobs.ImportJobEngine``), and the per-line report."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction

from labelhub.access.authz import actor_user
from labelhub.access.permissions import Permission
from labelhub.access.services import require
from labelhub.core.audit import audit_record
from labelhub.core.bulk import insert_rows
from labelhub.core.errors import Conflict, ValidationFailed
from labelhub.core.live import project_group, send_event_on_commit
from labelhub.core.parsers import too_deep
from labelhub.core.validation import clean_text
from labelhub.imports.events import import_job_created
from labelhub.imports.jobs import ENGINE, line_status
from labelhub.imports.models import ImportJob, ImportPayloadChunk, ImportReportChunk
from labelhub.labeling.validation import parse_line
from labelhub.projects.models import Project
from labelhub.projects.services.datasets import PayloadTooLarge

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


def import_chunk_size() -> int:
    """Lines stored, validated and written per transaction."""
    return int(getattr(settings, "IMPORTS_CHUNK_SIZE", 10_000))


def import_max_lines() -> int:
    """Imports above this many lines are refused (413)."""
    return int(getattr(settings, "IMPORTS_MAX_LINES", 2_000_000))


def import_max_json_bytes() -> int:
    """JSON import bodies above this many bytes are refused (413): they are parsed whole."""
    return int(getattr(settings, "IMPORTS_MAX_JSON_BODY_BYTES", 16 * 1024 * 1024))


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
            insert_rows(ImportPayloadChunk, fields, pending)
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
    insert_rows(ImportPayloadChunk, fields, pending)
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
        ENGINE.enqueue_on_commit(job)
        # Open imports lists of the project show the job at once (whoever started it, where).
        send_event_on_commit(import_job_created(job), [project_group(project.pk)])
    return job


def import_job_run(*, workspace_id: Any, job_id: Any) -> ImportJob | None:
    """Run (or continue) an import now, chunk by chunk (the task's body; also for seeding)."""
    return ENGINE.run(workspace_id=workspace_id, job_id=job_id)


def import_job_fail(*, workspace_id: Any, job_id: Any, message: str) -> None:
    """Mark an import failed with why (its committed chunks stay)."""
    ENGINE.fail(workspace_id=workspace_id, job_id=job_id, message=message)


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
                text = orjson.dumps(line_status(number, parse_line(raw), [])).decode()
            out.append(text)
        if out:
            yield "\n".join(out) + "\n"
