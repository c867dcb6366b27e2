"""Tenants, workspaces and memberships."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from labelhub.core.models import OpaqueIdModel


class Tenant(OpaqueIdModel):
    """An organisation; owns workspaces."""

    name = models.CharField(max_length=120, unique=True)

    def __str__(self) -> str:
        return self.name


class TenantAdmin(OpaqueIdModel):
    """A user who administers every workspace of a tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="admin_links")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_admin_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="tenant_admin_unique"),
        ]


class Workspace(OpaqueIdModel):
    """The unit of isolation: everything below it belongs to exactly one workspace."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="workspaces")
    name = models.CharField(max_length=120)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "tenant", Lower("name"), name="workspace_name_unique_per_tenant"
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """System workspace roles (custom roles arrive with the access app)."""

    ADMIN = "admin", "Admin"
    TEAM_MANAGER = "team_manager", "Team Manager"
    PROJECT_BASED = "project_based", "Project-based"
    REVIEWER = "reviewer", "Reviewer"
    LABELER = "labeler", "Labeler"


class Membership(OpaqueIdModel):
    """A user's membership in a workspace, with a workspace role."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "role"], name="membership_ws_role")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.get_role_display()}"
