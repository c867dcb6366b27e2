"""Annotation imports (MAL pre-labels and ground truth) and the annotations they write."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from labelhub.core.models import OpaqueIdModel


class ImportJob(OpaqueIdModel):
    """One NDJSON import into a project: its kind, state and line counters."""

    class Kind(models.TextChoices):
        PRELABELS = "prelabels", "Pre-labels (MAL)"
        GROUND_TRUTH = "ground_truth", "Ground truth"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FINISHED_WITH_ERRORS = "finished_with_errors", "Finished with errors"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="import_jobs"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    dry_run = models.BooleanField(default=False)
    state = models.CharField(max_length=24, choices=State.choices, default=State.QUEUED)
    lines_read = models.IntegerField(default=0)
    lines_valid = models.IntegerField(default=0)
    lines_invalid = models.IntegerField(default=0)
    lines_written = models.IntegerField(default=0)
    #: error name -> count
    error_summary = models.JSONField(default=dict, blank=True)
    #: the raw NDJSON lines to import (cleared when the job ends)
    payload = models.JSONField(default=list, blank=True)
    #: lines in the import
    total = models.IntegerField(default=0)
    #: lines handled so far (a re-run continues from here)
    processed = models.IntegerField(default=0)
    #: why a failed job failed
    message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

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


class ImportReportChunk(models.Model):
    """Per-line statuses of one chunk of an import job (``{"line", "uuid", "dataRow",
    "status", "errors"}``), written in the chunk's transaction. One row per chunk keeps
    each chunk's write small however long the import; the report reads them in order."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="report_chunks")
    #: index of the chunk's first line in the job's payload
    offset = models.IntegerField()
    statuses = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "offset"], name="import_report_chunk_once"),
        ]
        ordering = ["job", "offset"]

    def __str__(self) -> str:
        return f"{self.job_id} @ {self.offset}"


class Annotation(OpaqueIdModel):
    """One imported annotation on a data row; ``uuid`` is the client's, unique per row."""

    class Kind(models.TextChoices):
        BBOX = "bbox", "Bounding box"
        POLYGON = "polygon", "Polygon"
        POLYLINE = "polyline", "Polyline"
        POINT = "point", "Point"
        MASK = "mask", "Segmentation mask"
        ENTITY = "entity", "Text entity"
        DOCUMENT_BBOX = "document_bbox", "Document box"
        DOCUMENT_TEXT = "document_text", "Document text selection"
        RELATIONSHIP = "relationship", "Relationship"
        RADIO = "radio", "Radio"
        CHECKLIST = "checklist", "Checklist"
        TEXT = "text", "Free text"
        VIDEO_SEGMENTS = "video_segments", "Video keyframed segments"

    class Source(models.TextChoices):
        PRELABEL = "prelabel", "Pre-label"
        GROUND_TRUTH = "ground_truth", "Ground truth"
        HUMAN = "human", "Human"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="annotations"
    )
    data_row = models.ForeignKey(
        "projects.DataRow", on_delete=models.CASCADE, related_name="annotations"
    )
    feature = models.ForeignKey(
        "projects.FeatureSchema", on_delete=models.PROTECT, related_name="annotations"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    #: geometry or answer, nested classifications and video frames, normalised
    value = models.JSONField(default=dict)
    confidence = models.FloatField(default=1.0)
    custom_metrics = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    job = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    uuid = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "data_row", "uuid"], name="annotation_uuid_per_row"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "data_row"], name="annotation_project_row"),
            models.Index(fields=["project", "source"], name="annotation_project_source"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.uuid} on {self.data_row_id}"
