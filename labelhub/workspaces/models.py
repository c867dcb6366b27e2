"""Tenants, workspaces and memberships."""

from django.conf import settings
from django.db import models
from django.db.models import Q
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
    #: members holding manage-members or manage-roles must sign in with a second factor
    require_mfa_for_admins = models.BooleanField(default=False)

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
    #: the member holds a custom role (``custom_role`` names it)
    CUSTOM = "custom", "Custom role"

    @classmethod
    def system_values(cls) -> list[str]:
        """Codes of the five system roles (everything but the custom marker)."""
        return [r.value for r in cls if r != cls.CUSTOM]


class Membership(OpaqueIdModel):
    """A user's membership in a workspace, with a workspace role."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    custom_role = models.ForeignKey(
        "access.CustomRole", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=(Q(role="custom") & Q(custom_role__isnull=False))
                | (~Q(role="custom") & Q(custom_role__isnull=True)),
                name="membership_role_pair",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "role"], name="membership_ws_role")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role_label}"

    @property
    def role_label(self) -> str:
        """Display name of the role held (the custom role's name for custom roles)."""
        return self.custom_role.name if self.custom_role_id else self.get_role_display()


class LastWorkspace(OpaqueIdModel):
    """The workspace a user last chose: where they land when they sign in again.

    A row of its own rather than a session value, so the choice outlives signing out and
    works on every device; and not a membership field, because tenant admins enter
    workspaces they hold no membership in.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    chosen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} last worked in {self.workspace}"
