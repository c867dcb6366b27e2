"""Writes of the imports app: annotations upserted from validated import lines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from labelhub.access.authz import actor_user
from labelhub.access.permissions import Permission
from labelhub.access.services import require
from labelhub.core.audit import audit_record
from labelhub.core.errors import Conflict, ValidationFailed
from labelhub.core.ids import parse_id
from labelhub.core.live import project_group, send_event_on_commit, user_group
from labelhub.core.validation import clean_text
from labelhub.imports.models import Annotation, ImportJob, ImportReportChunk
from labelhub.imports.validation import ImportContext, error, validate_line
from labelhub.projects.models import Project, Task
from labelhub.projects.selectors.ontologies import feature_lookup
from labelhub.projects.services.datasets import InputRow, PayloadTooLarge

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


# --- import jobs ------------------------------------------------------------------------
#
# A job stores its raw lines as ``[[line number, line, problem?], ...]`` and runs in the
# background (``imports.run_import_job``) once its creation commits. It validates and
# writes ``IMPORTS_CHUNK_SIZE`` lines per transaction; before each chunk it re-reads its
# ``processed`` offset under a row lock, so a re-run (or a redelivered task) continues
# where the last committed chunk ended and never handles a line twice. Each line gets a
# status in the job's report (``ImportReportChunk``, one row per chunk): ``{"line",
# "uuid", "dataRow", "status": "SUCCESS"|"FAILURE", "errors": [{"name", "message",
# "additionalInfo"}]}``. Ground truth marks the written
# rows' tasks labeled and done; pre-labels never touch tasks; a dry run writes nothing.

JOB_DONE = frozenset(
    {
        ImportJob.State.FINISHED,
        ImportJob.State.FINISHED_WITH_ERRORS,
        ImportJob.State.FAILED,
    }
)
_JOB_FIELDS = (
    "id",
    "state",
    "total",
    "processed",
    "lines_read",
    "lines_valid",
    "lines_invalid",
    "lines_written",
    "error_summary",
    "project_id",
    "name",
    "kind",
    "dry_run",
    "message",
    "finished_at",
)


def import_chunk_size() -> int:
    """Lines validated and written per transaction."""
    return int(getattr(settings, "IMPORTS_CHUNK_SIZE", 500))


def import_max_lines() -> int:
    """Imports above this many lines are refused (413)."""
    return int(getattr(settings, "IMPORTS_MAX_LINES", 500_000))


def _job_name_taken() -> Conflict:
    message = "An import with this name already exists in the project."
    return Conflict(message, details={"name": [message]})


def _payload(lines: Sequence[Any]) -> list[list[Any]]:
    payload = []
    for number, item in enumerate(lines, start=1):
        if isinstance(item, InputRow):  # from the NDJSON parser: physical line numbers
            payload.append([item.line, item.data, item.problem])
        else:
            payload.append([number, item, None])
    return payload


def import_job_create(
    *,
    project: Project,
    actor: Any,
    name: Any,
    kind: Any,
    payload_lines: Any,
    dry_run: bool = False,
) -> ImportJob:
    """Store an import's lines in a job and run it in the background once this commits."""
    require(actor, Permission.IMPORT_LABELS, project)
    name = clean_text(name, field="name", max_length=200)
    if kind not in ImportJob.Kind.values:
        raise ValidationFailed(f"Choose one of {', '.join(ImportJob.Kind.values)}.", field="kind")
    if not isinstance(dry_run, bool):
        raise ValidationFailed("Give true or false.", field="dry_run")
    if not isinstance(payload_lines, (list, tuple)) or not payload_lines:
        raise ValidationFailed("Give at least one line.", field="lines")
    limit = import_max_lines()
    if len(payload_lines) > limit:
        raise PayloadTooLarge(
            f"At most {limit:,} lines per import; this one has {len(payload_lines):,}.",
            details={"lines": [f"At most {limit:,} lines per import."]},
        )
    if project.ontology_id is None:
        raise ValidationFailed(
            "Attach an ontology to the project before importing labels.", field="project"
        )
    payload = _payload(payload_lines)
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                workspace_id=project.workspace_id,
                project=project,
                name=name,
                kind=kind,
                dry_run=dry_run,
                payload=payload,
                total=len(payload),
                created_by=actor_user(actor),
            )
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
                    "lines": len(payload),
                },
            )
            from labelhub.imports.tasks import run_import_job_task

            ids = {"workspace_id": str(project.workspace_id), "job_id": str(job.pk)}
            transaction.on_commit(lambda: run_import_job_task.delay(**ids))
    except IntegrityError:
        raise _job_name_taken()
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
    }
    if message:
        event["message"] = message
    return event


def _recipients(job: ImportJob) -> list[str]:
    groups = [user_group(job.created_by_id)] if job.created_by_id else []
    return [*groups, project_group(job.project_id)]


def _status(entry: list[Any], line: Any, errors: list[dict[str, Any]]) -> dict[str, Any]:
    obj = line if isinstance(line, dict) else {}
    uuid = obj.get("uuid")
    return {
        "line": entry[0],
        "uuid": uuid if isinstance(uuid, str) else None,
        "dataRow": obj.get("dataRow") if isinstance(obj.get("dataRow"), dict) else None,
        "status": "FAILURE" if errors else "SUCCESS",
        "errors": errors,
    }


def _run_chunk(
    job: ImportJob, ctx: ImportContext, chunk: list[list[Any]]
) -> tuple[list[dict[str, Any]], int, dict[str, int]]:
    """Validate (and unless dry run, write) one chunk: (statuses, written, error counts)."""
    parsed = ctx.prepare([entry[1] for entry in chunk])
    statuses, valid, summary = [], [], {}
    for entry, line in zip(chunk, parsed, strict=True):
        problem = entry[2] if len(entry) > 2 else None
        if problem:
            errors = [error("InvalidJson", problem)]
        else:
            normalized, errors = validate_line(line, context=ctx)
            if normalized is not None:
                valid.append(normalized)
        for e in errors:
            summary[e["name"]] = summary.get(e["name"], 0) + 1
        statuses.append(_status(entry, line, errors))
    written = 0
    if valid and not job.dry_run:
        written = annotations_write(project=job.project, job=job, normalized_lines=valid)
        if job.kind == ImportJob.Kind.GROUND_TRUTH:
            Task.objects.filter(
                project=job.project, data_row_id__in={n["data_row"].pk for n in valid}
            ).update(labeled=True, status=Task.Status.DONE, updated_at=timezone.now())
    return statuses, written, summary


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
        return ImportJob.objects.defer("payload").get(pk=job.pk)
    ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING
    )
    payload, job.payload = job.payload, []
    ctx = ImportContext(
        project=job.project, lookup=feature_lookup(job.project.ontology), kind=job.kind
    )
    if len(payload) > import_chunk_size():  # relationships may name objects of later chunks
        ctx.note_objects(entry[1] for entry in payload if len(entry) < 3 or not entry[2])
    recipients = _recipients(job)
    size = import_chunk_size()
    while True:
        with transaction.atomic():
            locked = (
                ImportJob.objects.select_for_update().only(*_JOB_FIELDS).filter(pk=job.pk).first()
            )
            if locked is None:  # the project (and its jobs) was deleted meanwhile
                return None
            if locked.state in JOB_DONE or locked.processed >= len(payload):
                break
            offset = locked.processed
            chunk = payload[offset : offset + size]
            statuses, written, summary = _run_chunk(job, ctx, chunk)
            invalid = sum(1 for s in statuses if s["errors"])
            locked.processed += len(chunk)
            locked.lines_read += len(chunk)
            locked.lines_valid += len(chunk) - invalid
            locked.lines_invalid += invalid
            locked.lines_written += written
            for name, n in summary.items():
                locked.error_summary[name] = locked.error_summary.get(name, 0) + n
            ImportReportChunk.objects.create(job_id=job.pk, offset=offset, statuses=statuses)
            locked.state = ImportJob.State.RUNNING
            locked.save(
                update_fields=[
                    "processed",
                    "lines_read",
                    "lines_valid",
                    "lines_invalid",
                    "lines_written",
                    "error_summary",
                    "state",
                ]
            )
            send_event_on_commit(import_job_event(locked), recipients)
    return _import_job_finish(job, recipients)


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
        ImportJob.objects.filter(pk=job.pk).update(
            state=locked.state, finished_at=locked.finished_at, payload=[]
        )
        _audit_finished(job, locked)
        message = (
            f"Import {locked.name} finished: {locked.lines_valid:,} valid, "
            f"{locked.lines_invalid:,} invalid, {locked.lines_written:,} written."
        )
        send_event_on_commit(import_job_event(locked, message=message), recipients)
    return locked


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
            **({"message": locked.message} if locked.message else {}),
        },
    )


def import_job_fail(*, workspace_id: Any, job_id: Any, message: str) -> None:
    """Mark a job failed with why (its committed chunks stay); used when the task gives up."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("workspace", "created_by")
            .defer("payload")
            .filter(pk=parse_id(job_id), workspace_id=parse_id(workspace_id))
            .first()
        )
        if job is None or job.state in JOB_DONE:
            return
        job.state = ImportJob.State.FAILED
        job.finished_at = timezone.now()
        job.message = message
        job.save(update_fields=["state", "finished_at", "message"])
        ImportJob.objects.filter(pk=job.pk).update(payload=[])
        _audit_finished(job, job)
        text = f"Import {job.name} failed: {message}"
        send_event_on_commit(import_job_event(job, message=text), _recipients(job))


def import_job_report(job: ImportJob) -> Iterator[dict[str, Any]]:
    """The per-line statuses of the lines handled so far, in line order."""
    chunks = ImportReportChunk.objects.filter(job=job).order_by("offset")
    for statuses in chunks.values_list("statuses", flat=True).iterator(chunk_size=20):
        yield from statuses
