"""Reads of the imports app: jobs of a project and their line errors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from labelhub.core.errors import NotFound
from labelhub.core.ids import parse_id
from labelhub.imports.models import ImportJob, ImportLineError
from labelhub.projects.models import Project


def import_job_list(project: Project) -> QuerySet[ImportJob]:
    """A project's imports, newest first, with their authors."""
    return ImportJob.objects.filter(project=project).select_related("created_by")


def import_job_get(project: Project, job_id: Any) -> ImportJob:
    """One import of the project; another project's (or a malformed id) is not found."""
    job = import_job_list(project).filter(pk=parse_id(job_id)).first()
    if job is None:
        raise NotFound("No such import in this project.")
    return job


def import_line_errors(job: ImportJob, *, name: str | None = None) -> QuerySet[ImportLineError]:
    """The job's line errors in line order, optionally only those of one error name."""
    errors = ImportLineError.objects.filter(job=job)
    return errors.filter(name=name) if name else errors
