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
from django.utils import timezone

from labelhub.core.models import OpaqueIdModel


class Label(OpaqueIdModel):
    """One submitted label of a data row in a project; its annotations point at it."""

    class Origin(models.TextChoices):
        HUMAN = "human", "Labeled in LabelHub"
        IMPORTED = "imported", "Imported ground truth"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

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
    #: seconds the server measured, per mode, over every session of this label
    seconds_labeling = models.FloatField(default=0)
    seconds_review = models.FloatField(default=0)
    seconds_rework = models.FloatField(default=0)
    #: times the label came back from rework
    rework_count = models.PositiveIntegerField(default=0)
    #: the average of the review scores given to it (0-100), if any
    score = models.FloatField(null=True, blank=True)

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
    #: the workflow step the task is in (its status mirrors the step's kind)
    step = models.ForeignKey(
        "WorkflowStep", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    priority = models.PositiveSmallIntegerField(default=5)
    #: set when a label exists
    labeled = models.BooleanField(default=False)
    #: labels the row needs before it leaves initial labeling (consensus: 2 or more)
    labels_needed = models.PositiveSmallIntegerField(default=1)
    #: labels submitted in initial labeling, and reservations held now
    labels_done = models.PositiveSmallIntegerField(default=0)
    reserved = models.PositiveSmallIntegerField(default=0)
    skip_count = models.PositiveSmallIntegerField(default=0)
    #: hidden rows are never served to labelers
    hidden = models.BooleanField(default=False)
    #: a benchmark row: its reference label is compared with every labeler's
    is_benchmark = models.BooleanField(default=False)
    #: served only to this person while set
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: seconds spent on the row, all contributors, per mode
    seconds_labeling = models.FloatField(default=0)
    seconds_review = models.FloatField(default=0)
    seconds_rework = models.FloatField(default=0)
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
            models.Index(
                fields=["project", "step", "priority", "created_at"], name="task_step_queue"
            ),
            models.Index(fields=["project", "batch", "status"], name="task_batch_status"),
            models.Index(fields=["data_row"], name="task_data_row"),
            # benchmark rows, asked for on a person's first claims and one in ten after:
            # without it each ask reads every task of the project
            models.Index(
                fields=["project", "priority", "created_at", "id"],
                condition=models.Q(is_benchmark=True),
                name="task_benchmark_queue",
            ),
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


class WorkflowStep(OpaqueIdModel):
    """One step of a project's workflow: initial labeling, review steps (ordered), rework,
    done. A project always has exactly one of each kind but review, which may be many."""

    class Kind(models.TextChoices):
        LABEL = "label", "Initial labeling"
        REVIEW = "review", "Review"
        REWORK = "rework", "Rework"
        DONE = "done", "Done"

    class Match(models.TextChoices):
        ALL = "all", "Match all (AND)"
        ANY = "any", "Match any (OR)"

    class Assignment(models.TextChoices):
        ANY = "any", "Any labeler"
        CREATOR = "creator", "Label creator"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="workflow_steps"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=80)
    #: order of the steps: label 0, reviews 1.., rework and done after them
    position = models.PositiveSmallIntegerField()
    #: review: everyone who may review (empty lists), or these members and groups
    reviewer_users = models.JSONField(default=list, blank=True)
    reviewer_groups = models.JSONField(default=list, blank=True)
    #: review: which tasks the step takes ([] = all); see ``services.workflow``
    filters = models.JSONField(default=list, blank=True)
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ALL)
    #: rework: who gets the task, and after how many attempts it goes to someone else
    assignment = models.CharField(max_length=8, choices=Assignment.choices, default=Assignment.ANY)
    max_rework_attempts = models.PositiveSmallIntegerField(null=True, blank=True)
    #: initial labeling: most labels per user ({user id: n}) and per group, labels per row
    user_limits = models.JSONField(default=dict, blank=True)
    group_limits = models.JSONField(default=dict, blank=True)
    max_labels_per_row = models.PositiveSmallIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["project", "position"], name="step_project_position")]
        ordering = ["project", "position"]

    def __str__(self) -> str:
        return self.name


class Reservation(models.Model):
    """A task held for one person (one mode) until its lease expires or they let it go."""

    class Mode(models.TextChoices):
        LABEL = "label", "Labeling"
        REVIEW = "review", "Review"
        REWORK = "rework", "Rework"

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reservations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    step = models.ForeignKey(WorkflowStep, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="reservation_once_per_person"),
        ]
        indexes = [
            models.Index(fields=["project", "user", "mode"], name="reservation_person"),
            models.Index(fields=["project", "expires_at"], name="reservation_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} holds {self.task_id} ({self.mode})"


class Skip(models.Model):
    """A person skipped a task: it is never served to them again."""

    id = models.BigAutoField(primary_key=True)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="skips")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="skip_once_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} skipped {self.task_id}"


class Review(OpaqueIdModel):
    """A reviewer's decision on a task in a review step, with a score per label."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reviews")
    label = models.ForeignKey(
        Label, null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    step = models.ForeignKey(WorkflowStep, null=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.decision} of {self.task_id}"


class Draft(models.Model):
    """What a person has on the task page so far (saved as they go; gone on submit)."""

    id = models.BigAutoField(primary_key=True)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=8, choices=Reservation.Mode.choices)
    payload = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="draft_once_per_person")
        ]

    def __str__(self) -> str:
        return f"draft of {self.user_id} on {self.task_id}"


class WorkSession(models.Model):
    """Time a person spent on a task in one mode, as the server measured it from the task
    page's live connection; folded into the label on submit or review."""

    id = models.BigAutoField(primary_key=True)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=8, choices=Reservation.Mode.choices)
    seconds = models.FloatField(default=0)
    #: the last moment counted (None: not counting now: no connection, page hidden)
    counting_since = models.DateTimeField(null=True, blank=True)
    warned = models.CharField(max_length=16, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user", "mode"], name="session_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.task_id} ({self.mode}): {self.seconds:.0f} s"


class Contributor(models.Model):
    """A person's standing in a project's queue: what they were served, their review
    scores, and whether they were taken out of the queue."""

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    served = models.PositiveIntegerField(default=0)
    benchmarks_served = models.PositiveIntegerField(default=0)
    score_sum = models.FloatField(default=0)
    score_count = models.PositiveIntegerField(default=0)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="contributor_once")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.project_id}"

    @property
    def average_score(self) -> float | None:
        """The average review score of the person's labels, or None before any."""
        return self.score_sum / self.score_count if self.score_count else None


class LabelingEvent(models.Model):
    """One transition of a task, append-only: what the performance dashboards aggregate.

    Built for tens of millions of rows: a bigint key, every column a dashboard groups by
    (workspace, project, actor, day) on the row itself so no aggregate joins, database
    foreign-key constraints off (writes are inserts only, never updated), and indexes
    only for the reads dashboards make (project over time, member over time).
    """

    class Kind(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        RELEASED = "released", "Released"
        LEASE_EXPIRED = "lease_expired", "Lease expired"
        SUBMITTED = "submitted", "Submitted"
        SKIPPED = "skipped", "Skipped"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REWORKED = "reworked", "Reworked"
        MOVED = "moved", "Moved"
        DONE = "done", "Done"
        EDITED_IN_REVIEW = "edited_in_review", "Edited in review"

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(
        "workspaces.Workspace",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    task_id = models.BigIntegerField()
    data_row_id = models.UUIDField()
    label_id = models.UUIDField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    step_id = models.UUIDField(null=True, blank=True)
    mode = models.CharField(max_length=8, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    seconds = models.FloatField(default=0)
    annotations = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["project", "created_at"], name="event_project_time"),
            models.Index(fields=["workspace", "actor", "created_at"], name="event_member_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.task_id}"


class LabelVersion(models.Model):
    """What a label held after one person stored its annotations (labeling, rework, or an
    edit in review): numbered 1, 2, 3… per label, never changed afterwards."""

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    mode = models.CharField(max_length=8, choices=Reservation.Mode.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the label's annotations as stored, in the submit shape (``selectors.work.annotation_line``)
    annotations = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["label", "number"], name="label_version_number"),
        ]

    def __str__(self) -> str:
        return f"version {self.number} of {self.label_id}"


class InputEvent(OpaqueIdModel):
    """A sign of inauthentic input in a free-text answer, reported by the task page of a
    project with authentic input protection: a paste it blocked, or typing too fast."""

    class Kind(models.TextChoices):
        PASTE = "paste", "Paste blocked"
        RAPID_ENTRY = "rapid_entry", "Rapid entry"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    data_row = models.ForeignKey("projects.DataRow", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    #: the ``featureSchemaId`` of the free-text classification the input went to
    feature_schema_id = models.CharField(max_length=64)
    #: a few numbers the page measured, e.g. {"characters": 120, "milliseconds": 300}
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "data_row"], name="input_event_row")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.data_row_id}"
