"""Labeling data: batches and tasks (a data row's way through a project's workflow),
labels (one contributor's submission on a row) and annotations (their objects and answers,
and imported pre-labels).

The labeling app is the one owner of these tables: other apps (imports, the project pages)
read and write them through ``labelhub.labeling.services`` and ``selectors``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from labelhub.core.models import OpaqueIdModel


class Label(OpaqueIdModel):
    """One submitted label of a data row in a project; its annotations point at it."""

    class Origin(models.TextChoices):
        HUMAN = "human", "Labeled in LabelHub"
        IMPORTED = "imported", "Imported ground truth"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="labels", db_index=False
    )
    data_row = models.ForeignKey(
        "projects.DataRow", on_delete=models.CASCADE, related_name="labels"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(max_length=16, choices=Origin.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    is_benchmark_reference = models.BooleanField(default=False)
    import_job = models.ForeignKey(
        "imports.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "data_row", "author"], name="label_once_per_author"
            ),
        ]
        indexes = [models.Index(fields=["project", "origin"], name="label_project_origin")]

    def __str__(self) -> str:
        return f"label {self.pk} on {self.data_row_id}"


class Batch(OpaqueIdModel):
    """A fixed set of data rows sent to a project; only name and priority change later."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="batches"
    )
    name = models.CharField(max_length=200)
    priority = models.PositiveSmallIntegerField(default=5)
    consensus_coverage = models.PositiveSmallIntegerField(default=0)
    consensus_labels = models.PositiveSmallIntegerField(default=2)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint("project", Lower("name"), name="batch_name_unique"),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=5), name="batch_priority_1_5"
            ),
            models.CheckConstraint(
                condition=Q(consensus_coverage__gte=0, consensus_coverage__lte=100),
                name="batch_coverage_0_100",
            ),
        ]
        indexes = [models.Index(fields=["project", "-created_at"], name="batch_project_time")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class BatchEvent(OpaqueIdModel):
    """History of a batch: rows added or removed, renamed, priority changed."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=32)
    count = models.IntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]


class Task(models.Model):
    """One data row's progress through a project's workflow (the queue issue extends it).

    ``unique(project, data_row)``: a data row is in at most one batch per project.
    """

    class Status(models.TextChoices):
        TO_LABEL = "to_label", "To label"
        IN_REVIEW = "in_review", "In review"
        IN_REWORK = "in_rework", "In rework"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"

    # Integer key: tasks are the largest table and are never addressed from outside
    # except through their data row.
    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="tasks")
    data_row = models.ForeignKey("projects.DataRow", on_delete=models.CASCADE, related_name="tasks")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="tasks")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TO_LABEL)
    priority = models.PositiveSmallIntegerField(default=5)
    #: set when a label exists (labels arrive with the labeling issue)
    labeled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "data_row"], name="task_row_once_per_project"
            ),
        ]
        indexes = [
            # "next task": project, status, priority, age
            models.Index(fields=["project", "status", "priority", "created_at"], name="task_queue"),
            models.Index(fields=["project", "batch", "status"], name="task_batch_status"),
            models.Index(fields=["data_row"], name="task_data_row"),
        ]

    def __str__(self) -> str:
        return f"{self.data_row_id} in {self.project_id}: {self.status}"


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
        "imports.ImportJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="annotations",
        db_constraint=False,
    )
    uuid = models.CharField(max_length=100)
    #: the ground-truth label the annotation belongs to (pre-labels belong to none)
    label = models.ForeignKey(
        "Label",
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
