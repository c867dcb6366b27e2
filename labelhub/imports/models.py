"""Annotation imports (MAL pre-labels and ground truth) and the annotations they write."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from labelhub.core.jobs import ChunkedJob, PayloadChunk


class ImportJob(ChunkedJob):
    """One NDJSON import into a project: its kind and line counters (states, progress and
    resume: ``core.jobs``)."""

    class Kind(models.TextChoices):
        PRELABELS = "prelabels", "Pre-labels (MAL)"
        GROUND_TRUTH = "ground_truth", "Ground truth"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="import_jobs"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    dry_run = models.BooleanField(default=False)
    lines_read = models.IntegerField(default=0)
    lines_valid = models.IntegerField(default=0)
    lines_invalid = models.IntegerField(default=0)
    lines_written = models.IntegerField(default=0)
    #: error name -> count
    error_summary = models.JSONField(default=dict, blank=True)
    #: valid lines that went onto data rows already holding pre-labels of another import
    warnings = models.IntegerField(default=0)
    #: size of the uploaded payload, and how many of its lines are relationships
    payload_bytes = models.BigIntegerField(default=0)
    relationship_lines = models.IntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint("project", Lower("name"), name="import_job_name_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace", "project", "-created_at"], name="importjob_ws_proj")
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class ImportPayloadChunk(PayloadChunk):
    """A slice of an import's uploaded NDJSON, stored as received (the worker streams the
    chunks in order, so neither side holds the whole file). Kept after the job ends so
    the job can be inspected; deleted with the job."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="payload_chunks")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="import_payload_chunk_once"),
        ]
        ordering = ["job", "seq"]


class ImportReportChunk(models.Model):
    """Per-line statuses of one payload chunk, as NDJSON text (``{"line", "uuid",
    "dataRow", "status", "errors"}`` per line), written in the chunk's transaction. One
    row per chunk keeps each write small however long the import; the report streams
    them in order."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="report_chunks")
    #: ``seq`` of the payload chunk these statuses belong to
    offset = models.IntegerField()
    text = models.TextField(default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "offset"], name="import_report_chunk_once"),
        ]
        ordering = ["job", "offset"]

    def __str__(self) -> str:
        return f"{self.job_id} @ {self.offset}"


class ImportLineError(models.Model):
    """One named error of one failed line (the job page's error table filters these by
    name; the full per-line report is ``ImportReportChunk``)."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="line_errors")
    line = models.IntegerField()
    uuid = models.CharField(max_length=100, blank=True, default="")
    #: the line's data row reference as given ("globalKey: cat-1"), for display
    data_row = models.CharField(max_length=300, blank=True, default="")
    name = models.CharField(max_length=40)
    message = models.TextField()
    additional_info = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "name", "line"], name="import_error_job_name")]
        ordering = ["job", "line", "id"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.name}"
