"""Background jobs of the imports app."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

_RETRYABLE = (OperationalError, InterfaceError)
_MAX_RETRIES = 5


@shared_task(
    name="imports.run_import_job",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=_MAX_RETRIES,
)
def run_import_job_task(self, *, workspace_id: str, job_id: str, **kwargs) -> str | None:
    """Validate and write an import chunk by chunk; safe to run twice (continues, or no-op).

    A lost database connection retries with backoff (committed chunks are kept: the job
    continues from its ``processed`` offset); any other error marks the job failed.
    """
    from labelhub.imports.services import import_job_fail, import_job_run

    try:
        job = import_job_run(workspace_id=workspace_id, job_id=job_id)
    except _RETRYABLE as exc:
        if self.request.retries < _MAX_RETRIES:
            raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1), 60))
        import_job_fail(workspace_id=workspace_id, job_id=job_id, message="database unavailable")
        raise
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        import_job_fail(
            workspace_id=workspace_id,
            job_id=job_id,
            message=f"an internal error ({type(exc).__name__})",
        )
        raise
    return job.state if job is not None else None
