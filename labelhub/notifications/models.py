"""Notification center entries: one per user and event (the notifications issue grows it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from labelhub.core.models import OpaqueIdModel


class Notification(OpaqueIdModel):
    """Something a user should see: a background job that ended, with a link to its result."""

    class Kind(models.TextChoices):
        IMPORT_FINISHED = "import.finished", "Import finished"
        DATA_ROWS_UPLOADED = "data_rows.uploaded", "Data rows uploaded"
        PROJECT_DELETED = "project.deleted", "Project deleted"
        TASK_ASSIGNED = "task.assigned", "Rows assigned to you"
        TASK_UNASSIGNED = "task.unassigned", "Rows no longer assigned to you"
        QUEUE_REMOVED = "queue.removed", "Taken out of a project's queue"
        LABEL_REJECTED = "label.rejected", "Label rejected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True, default="")
    #: where the entry links to (a console path)
    url = models.CharField(max_length=500, blank=True, default="")
    #: the object the entry is about ("import_job:<id>"): one entry per user and object
    subject = models.CharField(max_length=100)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "subject"], name="notification_once_per_subject"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_time"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
