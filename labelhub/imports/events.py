"""Live events of the imports app (JSON-safe dicts; a test round-trips each builder)."""

from __future__ import annotations

from typing import Any

from labelhub.imports.models import ImportJob


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


def import_job_created(job: ImportJob) -> dict[str, Any]:
    """The live ``import_job.created`` event (project viewers: the list gains the job)."""
    return {**import_job_event(job), "type": "import_job.created"}
