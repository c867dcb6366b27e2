"""Engines of the projects app's background jobs (``core.jobs``): large data row uploads
and the deletion of large projects."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import orjson
from django.urls import NoReverseMatch, reverse

from labelhub.core.audit import audit_record
from labelhub.core.jobs import ChunkResult, JobEnd, JobEngine, JobState, engine_for, register
from labelhub.core.live import user_group
from labelhub.projects.events import data_row_job_event, project_deletion_event
from labelhub.projects.hooks import project_size, purge_chunk
from labelhub.projects.models import DataRowJob, DataRowPayloadChunk, Project, ProjectDeletion
from labelhub.projects.selectors.datasets import data_row_job_error_count, metadata_schema
from labelhub.projects.services.datasets import (
    InputRow,
    duplicate_key_lines,
    max_stored_errors,
    process_rows,
)
from labelhub.projects.services.deletion import project_delete_now


def payload_rows(chunk: DataRowPayloadChunk) -> list[InputRow]:
    """The rows a stored chunk holds."""
    rows = []
    for text in chunk.text.split("\n"):
        if text:
            line, data, *rest = orjson.loads(text)
            rows.append(InputRow(line, data, rest[0] if rest else None))
    return rows


@dataclass
class RowsChunk(ChunkResult):
    """A chunk of an upload, parsed back into rows."""

    rows: list[InputRow] = dataclass_field(default_factory=list)


@register
class DataRowJobEngine(JobEngine):
    """Validate and write one chunk of uploaded rows per transaction.

    Validation reads the rows' global keys in the database, so it runs inside the chunk's
    transaction (``commit``), after the job row is locked.
    """

    name = "projects.run_data_row_job"
    model = DataRowJob
    chunk_model = DataRowPayloadChunk
    counter_fields = ("created", "updated", "errors")
    locked_fields = ("dataset_id", "created_by_id")

    def related(self) -> tuple[str, ...]:
        """The workspace, the dataset and the uploader."""
        return ("workspace", "dataset", "created_by")

    def begin(self, job: DataRowJob) -> dict[str, Any]:
        """The metadata schema, and the lines repeating a global key (over the whole upload:
        a streaming pass over the stored chunks, keys only)."""
        rows: list[InputRow] = []
        chunks = DataRowPayloadChunk.objects.filter(job_id=job.pk).order_by("seq")
        for chunk in chunks.iterator(chunk_size=4):
            rows.extend(InputRow(r.line, _key_only(r.data), r.problem) for r in payload_rows(chunk))
        return {
            "schema": metadata_schema(workspace=job.workspace),
            "duplicates": duplicate_key_lines(rows),
        }

    def check(self, job: DataRowJob, ctx: Any, chunk: DataRowPayloadChunk) -> RowsChunk:
        """Parse the stored rows back."""
        rows = payload_rows(chunk)
        return RowsChunk(seq=chunk.seq, units=len(rows), rows=rows)

    def commit(
        self, job: DataRowJob, locked: DataRowJob, result: RowsChunk, ctx: dict[str, Any]
    ) -> None:
        """Validate and write the rows; count them and keep their errors (capped)."""
        outcome = process_rows(
            result.rows,
            workspace=job.workspace,
            dataset=job.dataset,
            schema=ctx["schema"],
            default_media_type=None,
            duplicates=ctx["duplicates"],
        )
        room = max(max_stored_errors() - len(locked.errors), 0)
        locked.errors = list(locked.errors) + [e.as_dict() for e in outcome.errors[:room]]
        locked.created += len(outcome.created_ids)
        locked.updated += len(outcome.updated_ids)

    def outcome(self, locked: DataRowJob) -> str:
        """With errors when any row was neither created nor updated."""
        if data_row_job_error_count(locked):
            return JobState.FINISHED_WITH_ERRORS
        return JobState.FINISHED

    def summary(self, locked: DataRowJob) -> str:
        """ "Upload to Street cams finished: 10 created, 0 updated, 1 with errors."."""
        name = locked.dataset.name
        if locked.state == JobState.FAILED:
            return f"Upload to {name} failed: {locked.message}"
        return (
            f"Upload to {name} finished: {locked.created:,} created, "
            f"{locked.updated:,} updated, {data_row_job_error_count(locked):,} with errors."
        )

    def progress_event(self, job: DataRowJob, locked: DataRowJob, message: str = "") -> dict:
        """The live ``data_row_job.progress`` event for the uploader."""
        return data_row_job_event(locked, message=message or None)

    def recipients(self, job: DataRowJob) -> list[str]:
        """The uploader."""
        return [user_group(job.created_by_id)] if job.created_by_id else []

    def ended(self, job: DataRowJob, locked: DataRowJob, message: str) -> None:
        """Audit the upload's counts once it finished; its stored rows are no longer needed
        (a failed job keeps them, for a look at what it could not do)."""
        if locked.state == JobState.FAILED:
            return
        DataRowPayloadChunk.objects.filter(job_id=job.pk).delete()
        audit_record(
            workspace=job.workspace,
            actor=job.created_by,
            verb="data_rows.bulk_created",
            target=job.dataset,
            target_type="dataset",
            after={
                "rows": locked.total,
                "created": locked.created,
                "updated": locked.updated,
                "errors": data_row_job_error_count(locked),
                "job": str(job.pk),
            },
        )

    def notice(self, job: DataRowJob, locked: DataRowJob, message: str) -> JobEnd | None:
        """The uploader's notification, linking to the dataset's page."""
        if not job.created_by_id:
            return None
        try:
            url = reverse("console:dataset", kwargs={"id": job.dataset_id})
        except NoReverseMatch:
            url = ""
        return JobEnd(
            engine=self.name,
            job=locked,
            kind="data_rows.uploaded",
            subject=f"data_row_job:{job.pk}",
            user_id=job.created_by_id,
            workspace_id=job.workspace_id,
            title=message,
            body=f"{locked.total:,} rows uploaded to the dataset {job.dataset.name}.",
            url=url,
        )


def _key_only(data: Any) -> Any:
    """Keep only what duplicate detection reads, so the pass holds keys, not rows."""
    if isinstance(data, dict) and "global_key" in data:
        return {"global_key": data["global_key"]}
    return None


@dataclass
class PurgeChunk(ChunkResult):
    """One round of deletions."""


@register
class ProjectDeletionEngine(JobEngine):
    """Delete a large project's data in chunks (``hooks.purge_chunk``), then the project."""

    name = "projects.run_project_deletion"
    model = ProjectDeletion
    locked_fields = ("project_id", "project_name", "created_by_id")

    def related(self) -> tuple[str, ...]:
        """The workspace and the person deleting."""
        return ("workspace", "created_by")

    def chunks(self, job: ProjectDeletion, start: int):
        """One chunk per round of deletions, while the project still holds data."""
        seq = start
        while job.project_id and project_size(job.project_id):
            yield seq
            seq += 1

    def check(self, job: ProjectDeletion, ctx: Any, chunk: int) -> PurgeChunk:
        """Nothing to work out ahead: the deleting happens in ``commit``."""
        return PurgeChunk(seq=chunk, units=0)

    def commit(
        self, job: ProjectDeletion, locked: ProjectDeletion, result: PurgeChunk, ctx: Any
    ) -> None:
        """Delete one chunk (its size counts as progress)."""
        result.units = purge_chunk(job.project_id)

    def ended(self, job: ProjectDeletion, locked: ProjectDeletion, message: str) -> None:
        """Delete the emptied project itself (its files after commit)."""
        if locked.state == JobState.FAILED or not locked.project_id:
            return
        project = Project.objects.filter(pk=locked.project_id).first()
        if project is not None:
            project_delete_now(project)

    def summary(self, locked: ProjectDeletion) -> str:
        """ "Project Street scenes deleted." (or why not)."""
        if locked.state == JobState.FAILED:
            return f"Deleting project {locked.project_name} failed: {locked.message}"
        return f"Project {locked.project_name} deleted."

    def recipients(self, job: ProjectDeletion) -> list[str]:
        """The person deleting."""
        return [user_group(job.created_by_id)] if job.created_by_id else []

    def progress_event(
        self, job: ProjectDeletion, locked: ProjectDeletion, message: str = ""
    ) -> dict:
        """The live ``project_deletion.progress`` event."""
        return project_deletion_event(locked, message=message)

    def notice(self, job: ProjectDeletion, locked: ProjectDeletion, message: str) -> JobEnd | None:
        """The deleting member's notification."""
        if not job.created_by_id:
            return None
        return JobEnd(
            engine=self.name,
            job=locked,
            kind="project.deleted",
            subject=f"project_deletion:{job.pk}",
            user_id=job.created_by_id,
            workspace_id=job.workspace_id,
            title=message,
            body="",
            url="",
        )


DATA_ROW_ENGINE = engine_for(DataRowJobEngine.name)
DELETION_ENGINE = engine_for(ProjectDeletionEngine.name)
