"""Core tables: the audit log, and the abstract bases every workspace-owned table uses."""

from django.conf import settings
from django.db import models

from labelhub.core.ids import new_id


class OpaqueIdModel(models.Model):
    """Primary key is an opaque, non-guessable UUID (see ``core.ids.new_id``)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)

    class Meta:
        abstract = True


class AuditLogEntry(OpaqueIdModel):
    """One state-changing action: who did what to which object, before and after."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the row stays readable after the actor's account is gone.
    actor_label = models.CharField(max_length=254, blank=True)
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=254, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="audit_ws_time"),
            models.Index(fields=["workspace", "verb", "-created_at"], name="audit_ws_verb"),
            models.Index(fields=["workspace", "actor", "-created_at"], name="audit_ws_actor"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.verb} {self.target_label}"
