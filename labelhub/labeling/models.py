"""Labels: a labeler's (or an import's) submitted answer for one data row of a project.

The labeling issue adds the editor, queues, reviews and timers; imports already create
labels for ground truth (``origin=imported``), one per (project, data row, author).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

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
