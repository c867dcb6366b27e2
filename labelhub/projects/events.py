"""Live events of the projects app (JSON-safe dicts; a test round-trips each builder)."""

from __future__ import annotations

from typing import Any

from labelhub.projects.models import DataRowJob, ProjectDeletion
from labelhub.projects.selectors.datasets import data_row_job_error_count


def data_row_job_event(job: DataRowJob, *, message: str | None = None) -> dict[str, Any]:
    """The live ``data_row_job.progress`` event for the job's uploader."""
    event = {
        "type": "data_row_job.progress",
        "job": str(job.pk),
        "dataset": str(job.dataset_id),
        "state": job.state,
        "total": job.total,
        "processed": job.processed,
        "created": job.created,
        "updated": job.updated,
        "error_count": data_row_job_error_count(job),
    }
    if message:
        event["message"] = message
    return event


def project_deletion_event(job: ProjectDeletion, *, message: str = "") -> dict[str, Any]:
    """The live ``project_deletion.progress`` event for the member deleting."""
    event = {
        "type": "project_deletion.progress",
        "job": str(job.pk),
        "project": str(job.project_id) if job.project_id else None,
        "state": job.state,
        "total": job.total,
        "processed": job.processed,
    }
    if message:
        event["message"] = message
    return event
