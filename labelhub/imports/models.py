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
    #: valid lines that went onto data rows already holding pre-labels of another import
    warnings = models.IntegerField(default=0)
    #: lines in the import
    total = models.IntegerField(default=0)
    #: lines handled so far
    processed = models.IntegerField(default=0)
    #: the payload chunk to handle next (a re-run continues from here)
    next_chunk = models.IntegerField(default=0)
    #: size of the uploaded payload, and how many of its lines are relationships
    payload_bytes = models.BigIntegerField(default=0)
    relationship_lines = models.IntegerField(default=0)
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


class ImportPayloadChunk(models.Model):
    """A slice of an import's uploaded NDJSON, stored as received (the worker streams the
    chunks in order, so neither side holds the whole file). Kept after the job ends so
    the job can be inspected; deleted with the job."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="payload_chunks")
    seq = models.IntegerField()
    #: physical line number (1-based) of the chunk's first line; blank lines are kept in
    #: ``text`` so that line ``first_line + i`` is ``text.split("\n")[i]``
    first_line = models.IntegerField()
    #: non-blank lines in the chunk
    count = models.IntegerField()
    text = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="import_payload_chunk_once"),
        ]
        ordering = ["job", "seq"]

    def __str__(self) -> str:
        return f"{self.job_id} #{self.seq}"


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

    # The largest table, written by COPY a million rows at a time: its foreign keys are
    # enforced by Django (on_delete runs in the ORM's collector) and by the import's
    # validation, not by database constraints, and it carries only the indexes reads and
    # deletions need (ADR 0005). Each constraint check or index costs every insert.
    workspace = models.ForeignKey(
        "workspaces.Workspace",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        related_name="annotations",
        db_index=False,
        db_constraint=False,
    )
    data_row = models.ForeignKey(
        "projects.DataRow",
        on_delete=models.CASCADE,
        related_name="annotations",
        db_constraint=False,
    )
    feature = models.ForeignKey(
        "projects.FeatureSchema",
        on_delete=models.PROTECT,
        related_name="annotations",
        db_constraint=False,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    #: geometry or answer, nested classifications and video frames, normalised
    value = models.JSONField(default=dict)
    confidence = models.FloatField(default=1.0)
    custom_metrics = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    job = models.ForeignKey(
        ImportJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="annotations",
        db_constraint=False,
    )
    uuid = models.CharField(max_length=100)
    #: the ground-truth label the annotation belongs to (pre-labels belong to none)
    label = models.ForeignKey(
        "labeling.Label",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index below: pre-labels (most rows) have no label
        db_constraint=False,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "data_row", "uuid"], name="annotation_uuid_per_row"
            ),
        ]
        indexes = [
            models.Index(
                fields=["label"],
                name="annotation_label",
                condition=models.Q(label__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.uuid} on {self.data_row_id}"
