"""Datasets, data rows, metadata schema, ontologies, tags, projects, batches and tasks.

Data rows and tasks reach millions per workspace: every table leads its indexes with
``workspace`` (or ``project``), uniqueness is a database constraint, and the indexes follow
the data rows tab's filters and the queue's "next task" order.

Project-scoped permissions of the catalogue are Project's permissions, so django-guardian
holds per-project grants for users and groups in direct-FK tables.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from labelhub.access.permissions import PROJECT_PERMISSIONS
from labelhub.core.jobs import ChunkedJob, PayloadChunk
from labelhub.core.models import OpaqueIdModel


class MediaType(models.TextChoices):
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    TEXT = "text", "Text"
    AUDIO = "audio", "Audio"
    DOCUMENT = "document", "Document (PDF)"
    HTML = "html", "HTML"
    CONVERSATIONAL = "conversational", "Conversational"
    GEOSPATIAL = "geospatial", "Geospatial tiles"
    LLM_CHAT = "llm_chat", "LLM chat"


class Dataset(OpaqueIdModel):
    """A collection of data rows."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="datasets"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: kept by the services (F() updates) so lists never count millions of rows
    row_count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint("workspace", Lower("name"), name="dataset_name_unique"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MetadataField(OpaqueIdModel):
    """A typed metadata field of the workspace's schema (reserved: tag, split, captureDateTime)."""

    class Kind(models.TextChoices):
        STRING = "string", "String"
        NUMBER = "number", "Number"
        DATETIME = "datetime", "Datetime"
        ENUM = "enum", "Enum"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="metadata_fields"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    options = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="metadata_field_unique"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DataRow(OpaqueIdModel):
    """One asset: a URL or inline text, with keys, metadata and attachments."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="data_rows"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="data_rows")
    row_data = models.TextField()
    media_type = models.CharField(max_length=20, choices=MediaType.choices)
    global_key = models.CharField(max_length=200, null=True, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    attachments = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "global_key"],
                condition=Q(global_key__isnull=False),
                name="data_row_global_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "dataset", "created_at"], name="datarow_ws_ds_time"),
            models.Index(fields=["workspace", "external_id"], name="datarow_ws_external"),
            models.Index(fields=["workspace", "media_type"], name="datarow_ws_media"),
        ]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.global_key or str(self.pk)

    @property
    def name(self) -> str:
        """How people tell the row apart: its global key, else its external id, else the end
        of its id (ids are time-ordered: rows made together share their first characters)."""
        return self.global_key or self.external_id or f"…{str(self.pk)[-SHORT_ID_LENGTH:]}"

    @property
    def thumbnail_url(self) -> str:
        """The image to show small in tables ("" when the row is no image the page may load)."""
        if self.media_type != MediaType.IMAGE or not image_loadable(self.row_data):
            return ""
        return self.row_data


#: characters of a row's id its short name keeps (the random end of a UUIDv7)
SHORT_ID_LENGTH = 8


def image_loadable(url: str) -> bool:
    """Whether the page's Content-Security-Policy (img-src: this site and
    ``CSP_ASSET_SOURCES``) lets an image load from ``url``; a refused one would only break."""
    if url.startswith("/") and not url.startswith("//"):
        return True
    for source in settings.CSP_ASSET_SOURCES:
        if source.endswith(":") and url.startswith(source + "//"):  # a scheme, e.g. https:
            return True
        if "://" in source and (url == source or url.startswith(source.rstrip("/") + "/")):
            return True
    return False


class DataRowJob(ChunkedJob):
    """A background bulk creation of data rows: counts and per-row errors (states,
    progress and resume: ``core.jobs``); the rows wait in ``DataRowPayloadChunk``."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"], name="drjob_ws_time")]
        ordering = ["-created_at", "-id"]


class DataRowPayloadChunk(PayloadChunk):
    """A slice of an upload's rows, one ``[line, data]`` (or ``[line, null, problem]``)
    JSON array per line; ``count`` rows. Deleted with the job."""

    job = models.ForeignKey(DataRowJob, on_delete=models.CASCADE, related_name="payload_chunks")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="data_row_payload_chunk_once"),
        ]
        ordering = ["job", "seq"]


class Ontology(OpaqueIdModel):
    """A reusable feature schema: tools and classifications, stored in normalised JSON."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="ontologies"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    media_type = models.CharField(max_length=20, choices=MediaType.choices, blank=True)
    #: {"tools": [...], "classifications": [...]} in the Labelbox ontology-builder shape
    normalized = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("workspace", Lower("name"), name="ontology_name_unique"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FeatureSchema(OpaqueIdModel):
    """One feature or option of an ontology, with its stable ``featureSchemaId``.

    The table makes schema ids unique per workspace (a migrating team keeps its ids) and
    lets imports resolve a ``schemaId`` or ``name`` to a feature in one indexed lookup.
    """

    class Kind(models.TextChoices):
        TOOL = "tool", "Tool"
        CLASSIFICATION = "classification", "Classification"
        OPTION = "option", "Option"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    ontology = models.ForeignKey(Ontology, on_delete=models.CASCADE, related_name="features")
    schema_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    #: tool type (rectangle, polygon…), classification type (radio…), or "option"
    type = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    #: position in the tree, e.g. "tools[0].classifications[1].options[2]"
    path = models.CharField(max_length=500)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "schema_id"], name="feature_schema_id_unique"
            ),
        ]
        indexes = [models.Index(fields=["ontology", "name"], name="feature_ontology_name")]


class Tag(OpaqueIdModel):
    """A workspace-level project tag."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=60)
    colour = models.CharField(max_length=7, default="#868E96")

    class Meta:
        constraints = [models.UniqueConstraint("workspace", Lower("name"), name="tag_name_unique")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Project(OpaqueIdModel):
    """A labeling effort over one media type inside one workspace."""

    class InstructionsKind(models.TextChoices):
        NONE = "", "None"
        MARKDOWN = "markdown", "Text (markdown)"
        FILE = "file", "PDF/HTML file"
        VIDEO = "video", "Video link"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    media_type = models.CharField(max_length=20, choices=MediaType.choices, default=MediaType.IMAGE)
    ontology = models.ForeignKey(
        Ontology, null=True, blank=True, on_delete=models.PROTECT, related_name="projects"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="projects")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Instructions
    instructions_kind = models.CharField(
        max_length=16, choices=InstructionsKind.choices, blank=True, default=""
    )
    instructions_text = models.TextField(blank=True)
    instructions_file = models.FileField(upload_to="instructions/", blank=True)
    instructions_url = models.URLField(blank=True)
    instructions_version = models.PositiveIntegerField(default=0)
    enforce_instructions = models.BooleanField(default=False)
    # Quality
    benchmark_enabled = models.BooleanField(default=False)
    consensus_enabled = models.BooleanField(default=False)
    # Advanced (used by the queue)
    reservation_count = models.PositiveSmallIntegerField(default=4)
    reservation_lease_seconds = models.PositiveIntegerField(default=3600)
    allow_skip = models.BooleanField(default=True)
    #: after this many skips a row moves on to the next step (0: never)
    skip_limit = models.PositiveSmallIntegerField(default=5)
    timer_target_seconds = models.PositiveIntegerField(null=True, blank=True)
    timer_cutoff_seconds = models.PositiveIntegerField(null=True, blank=True)
    #: pre-labels below this model confidence are hidden from labelers (imports issue)
    prelabel_confidence_threshold = models.FloatField(default=0.0)
    #: free-text answers: the task page blocks pastes and reports rapid entry (SPEC §4)
    authentic_input_protection = models.BooleanField(default=False)
    #: a contributor whose average review score falls below this leaves the queue (0-100)
    review_score_threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    #: set when a large project is being deleted in the background: it is hidden at once
    deleting_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        permissions = sorted((p.value, p.label) for p in PROJECT_PERMISSIONS)
        indexes = [models.Index(fields=["workspace", "name"], name="project_ws_name")]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class InstructionsAcknowledgement(OpaqueIdModel):
    """A member acknowledged a version of a project's instructions."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user", "version"], name="ack_unique"),
        ]


class ProjectUserObjectPermission(UserObjectPermissionBase):
    """Guardian grant of one project permission to one user (direct FK: fast, cascades)."""

    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)


class ProjectGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian grant of one project permission to one group."""

    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)


class ProjectDeletion(ChunkedJob):
    """A large project being deleted in the background: its data goes in chunks, then the
    project (``projects.jobs.ProjectDeletionEngine``). The row stays as a record."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    project_name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.project_name
