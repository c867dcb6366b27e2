"""Background jobs of the projects app."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

_RETRYABLE = (OperationalError, InterfaceError)
_MAX_RETRIES = 5


@shared_task(
    name="projects.run_data_row_job",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=_MAX_RETRIES,
)
def run_data_row_job_task(self, *, workspace_id: str, job_id: str, **kwargs) -> str | None:
    """Write a bulk upload's rows chunk by chunk; safe to run twice (continues, or no-op).

    A lost database connection retries with backoff (committed chunks are kept: the job
    continues from its ``processed`` offset); any other error marks the job failed.
    """
    from labelhub.projects.services.datasets import data_row_job_fail, data_row_job_run

    try:
        job = data_row_job_run(workspace_id=workspace_id, job_id=job_id)
    except _RETRYABLE as exc:
        if self.request.retries < _MAX_RETRIES:
            raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1), 60))
        data_row_job_fail(workspace_id=workspace_id, job_id=job_id, message="database unavailable")
        raise
    except Exception:
        logger.exception("data row job %s failed", job_id)
        data_row_job_fail(workspace_id=workspace_id, job_id=job_id, message="an internal error")
        raise
    return job.state if job is not None else None


@shared_task(
    name="projects.delete_project",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=_MAX_RETRIES,
)
def delete_project_task(self, *, workspace_id: str, project_id: str, **kwargs) -> bool:
    """Delete a large project in the background (chunked; safe to run twice)."""
    from labelhub.projects.services.projects import project_purge

    try:
        return project_purge(workspace_id=workspace_id, project_id=project_id)
    except _RETRYABLE as exc:
        raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1), 60))
