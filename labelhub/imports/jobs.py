"""The import job's engine: how one payload chunk of an annotation import is checked and
written (the shared states, resume, retries and end of a job are ``core.jobs``)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import orjson
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from labelhub.core.audit import audit_record
from labelhub.core.bulk import insert_rows
from labelhub.core.jobs import (
    ChunkResult,
    JobEnd,
    JobEngine,
    JobFailed,
    JobState,
    engine_for,
    register,
)
from labelhub.core.live import project_group, user_group
from labelhub.imports.events import import_job_event
from labelhub.imports.models import (
    ImportJob,
    ImportLineError,
    ImportPayloadChunk,
    ImportReportChunk,
)
from labelhub.labeling.models import Annotation
from labelhub.labeling.services.annotations import (
    annotations_write,
    ground_truth_labels_upsert,
)
from labelhub.labeling.validation import (
    MAX_ANNOTATIONS_PER_ROW,
    ImportContext,
    fast_box,
    line_warnings,
    parse_line,
    validate_line,
)
from labelhub.projects.selectors.ontologies import feature_lookup

SOURCES = {
    ImportJob.Kind.PRELABELS: Annotation.Source.PRELABEL,
    ImportJob.Kind.GROUND_TRUTH: Annotation.Source.GROUND_TRUTH,
}


def import_max_per_row() -> int:
    """Annotations a data row may hold in a project (Labelbox: 5,000)."""
    return int(getattr(settings, "IMPORTS_MAX_ANNOTATIONS_PER_ROW", MAX_ANNOTATIONS_PER_ROW))


def line_status(number: int, line: Any, errors: list[dict[str, Any]]) -> dict[str, Any]:
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


def _row_label(obj: Any) -> str:
    ref = obj.get("dataRow") if isinstance(obj, dict) else None
    if isinstance(ref, dict):
        for key in ("id", "globalKey"):
            if isinstance(ref.get(key), str):
                return f"{key}: {ref[key]}"[:300]
    return ""


@dataclass
class ImportChunkResult(ChunkResult):
    """A checked chunk: its report lines, line errors and the valid lines to write."""

    report: list[bytes] = dataclass_field(default_factory=list)
    errors: list[ImportLineError] = dataclass_field(default_factory=list)
    valid: list[dict[str, Any]] = dataclass_field(default_factory=list)
    invalid: int = 0
    warnings: int = 0
    summary: dict[str, int] = dataclass_field(default_factory=dict)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's automatic cycle collector while chunks run: a chunk allocates a few
    hundred thousand short-lived, acyclic objects and generational collections scanning
    them cost about a third of the import's time. ``check`` collects once per chunk
    instead (``gc.collect(1)``); the previous state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@register
class ImportJobEngine(JobEngine):
    """Validate each chunk's lines, write the valid ones (COPY), store statuses and errors.

    Ground truth creates one submitted label per data row (author: the importer) and moves
    the rows' tasks to Done; pre-labels never touch tasks; a dry run writes nothing.
    """

    name = "imports.run_import_job"
    model = ImportJob
    chunk_model = ImportPayloadChunk
    counter_fields = (
        "lines_read",
        "lines_valid",
        "lines_invalid",
        "lines_written",
        "warnings",
        "error_summary",
    )
    locked_fields = ("project_id", "name", "kind", "dry_run", "created_by_id")

    def related(self) -> tuple[str, ...]:
        """The project with its ontology, the workspace and the importer."""
        return ("workspace", "project__ontology", "created_by")

    def begin(self, job: ImportJob) -> ImportContext:
        """The validation context; relationships first learn every object they may name."""
        if job.project.ontology is None:
            raise JobFailed("the project has no ontology")
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
        return ctx

    def running(self, job: ImportJob) -> Any:
        """Pause the cycle collector (see ``_collector_paused``)."""
        return _collector_paused()

    @property
    def pipelined(self) -> bool:  # type: ignore[override]
        """The writer thread, unless ``IMPORTS_PIPELINE`` turns it off."""
        return bool(getattr(settings, "IMPORTS_PIPELINE", True))

    def check(self, job: ImportJob, ctx: ImportContext, chunk: ImportPayloadChunk):
        """Validate one payload chunk: statuses, line errors and the valid lines to write."""
        if not gc.isenabled():
            gc.collect(1)  # what the previous chunk left (see ``_collector_paused``)
        numbered = chunk.numbered_lines()
        ctx.start_chunk()
        parsed = ctx.prepare([text for _, text in numbered])
        result = ImportChunkResult(seq=chunk.seq, units=len(numbered))
        valid = result.valid
        dumps = orjson.dumps
        warn = bool(ctx.other_prelabels)
        for (number, _), line in zip(numbered, parsed, strict=True):
            normalized = fast_box(line, ctx) if type(line) is dict and "bbox" in line else None
            if normalized is not None:
                valid.append(normalized)
                if warn and (warnings := line_warnings(normalized, ctx)):
                    status = line_status(number, line, [])
                    status["warnings"] = warnings
                    result.report.append(dumps(status))
                    result.warnings += 1
                continue
            normalized, errors = validate_line(line, context=ctx)
            if normalized is not None:
                valid.append(normalized)
                warnings = line_warnings(normalized, ctx)
                if warnings:  # stored; plain successes are rebuilt from the payload
                    status = line_status(number, line, [])
                    status["warnings"] = warnings
                    result.report.append(dumps(status))
                    result.warnings += 1
                continue
            result.invalid += 1
            status = line_status(number, line, errors)
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

    def commit(
        self, job: ImportJob, locked: ImportJob, result: ImportChunkResult, ctx: ImportContext
    ) -> None:
        """Write the chunk's valid lines, its report and errors; add to the counters."""
        written = self.write(job, result)
        locked.lines_read += result.units
        locked.lines_valid += result.units - result.invalid
        locked.lines_invalid += result.invalid
        locked.lines_written += written
        locked.warnings += result.warnings
        for name, n in result.summary.items():
            locked.error_summary[name] = locked.error_summary.get(name, 0) + n
        report = b"\n".join(result.report).decode()
        insert_rows(ImportReportChunk, ("job_id", "offset", "text"), [(job.pk, result.seq, report)])
        ImportLineError.objects.bulk_create(result.errors, batch_size=1000)

    def write(self, job: ImportJob, result: ImportChunkResult) -> int:
        """Write a checked chunk's valid lines; return how many."""
        return write_lines(job, result.valid)

    def outcome(self, locked: ImportJob) -> str:
        """With errors when any line was invalid."""
        return JobState.FINISHED_WITH_ERRORS if locked.lines_invalid else JobState.FINISHED

    def summary(self, locked: ImportJob) -> str:
        """ "Import model-v3 finished: 5 valid, 1 invalid, 5 written." (or why it failed)."""
        if locked.state == JobState.FAILED:
            return f"Import {locked.name} failed: {locked.message}"
        text = (
            f"Import {locked.name} finished: {locked.lines_valid:,} valid, "
            f"{locked.lines_invalid:,} invalid, {locked.lines_written:,} written"
        )
        if locked.warnings:
            text += f", {locked.warnings:,} onto rows with pre-labels from another import"
        return text + (" (dry run)." if locked.dry_run else ".")

    def progress_event(self, job: ImportJob, locked: ImportJob, message: str = "") -> dict:
        """The live ``import_job.progress`` event (importer and project viewers)."""
        return import_job_event(locked, message=message)

    def recipients(self, job: ImportJob) -> list[str]:
        """The importer and the project's viewers."""
        groups = [user_group(job.created_by_id)] if job.created_by_id else []
        return [*groups, project_group(job.project_id)]

    def ended(self, job: ImportJob, locked: ImportJob, message: str) -> None:
        """Audit ``import.finished`` with the counters."""
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

    def notice(self, job: ImportJob, locked: ImportJob, message: str) -> JobEnd | None:
        """The importer's notification-center entry, linking to the job page."""
        if not job.created_by_id:
            return None
        try:
            url = reverse(
                "console:project-import", kwargs={"project_id": job.project_id, "job_id": job.pk}
            )
        except NoReverseMatch:
            url = ""
        return JobEnd(
            engine=self.name,
            job=locked,
            kind="import.finished",
            subject=f"import_job:{job.pk}",
            user_id=job.created_by_id,
            workspace_id=job.workspace_id,
            title=message,
            body=f"Project {job.project.name}. The per-line report is on the import's page.",
            url=url,
        )


ENGINE = engine_for(ImportJobEngine.name)


def write_lines(job: ImportJob, valid: list[dict[str, Any]]) -> int:
    """Write a checked chunk's valid lines (ground truth: with their labels)."""
    if not valid or job.dry_run:
        return 0
    labels = None
    if job.kind == ImportJob.Kind.GROUND_TRUTH:
        labels = ground_truth_labels_upsert(
            project=job.project, author_id=job.created_by_id, import_job=job, lines=valid
        )
    return annotations_write(
        project=job.project,
        job=job,
        source=SOURCES[job.kind],
        normalized_lines=valid,
        labels=labels,
    )


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
