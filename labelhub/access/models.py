"""Custom roles, groups with their history, project grants, invitations and API keys."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from labelhub.access.permissions import Scope
from labelhub.core.models import OpaqueIdModel
from labelhub.workspaces.models import Role


class CustomRole(OpaqueIdModel):
    """An admin-defined role: a name, a scope and a set of permission codenames."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="custom_roles"
    )
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    scope = models.CharField(max_length=16, choices=[(s.value, s.value.title()) for s in Scope])
    permissions = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("workspace", Lower("name"), name="custom_role_name_unique"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _role_pair_check(prefix: str, name: str) -> models.CheckConstraint:
    """Exactly one of: a system role code, or 'custom' with a custom role."""
    return models.CheckConstraint(
        condition=(
            Q(**{f"{prefix}role": Role.CUSTOM}) & Q(**{f"{prefix}custom_role__isnull": False})
        )
        | (~Q(**{f"{prefix}role": Role.CUSTOM}) & Q(**{f"{prefix}custom_role__isnull": True})),
        name=name,
    )


class Group(OpaqueIdModel):
    """A named set of workspace members with a default role for the projects it joins.

    Members are stored as membership of the linked ``auth.Group`` so django-guardian
    resolves group grants for them.
    """

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="groups"
    )
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    colour = models.CharField(max_length=7, default="#4C6EF5")
    default_role = models.CharField(max_length=32, choices=Role.choices)
    default_custom_role = models.ForeignKey(
        CustomRole, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    auth_group = models.OneToOneField(
        "auth.Group", on_delete=models.PROTECT, related_name="labelhub_group"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint("workspace", Lower("name"), name="group_name_unique"),
            _role_pair_check("default_", "group_default_role_pair"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GroupEvent(OpaqueIdModel):
    """One change to a group, kept after the group is deleted (for the history CSV)."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(Group, null=True, on_delete=models.SET_NULL, related_name="events")
    group_name = models.CharField(max_length=80)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254)
    verb = models.CharField(max_length=40)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "group", "created_at"], name="groupevent_ws_group"),
        ]
        ordering = ["created_at", "id"]


class ProjectGrant(OpaqueIdModel):
    """A project role given to a member or a group; mirrored into guardian object perms."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    custom_role = models.ForeignKey(
        CustomRole, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="grant_user_xor_group",
            ),
            models.UniqueConstraint(
                fields=["project", "user"], condition=Q(user__isnull=False), name="grant_user_once"
            ),
            models.UniqueConstraint(
                fields=["project", "group"],
                condition=Q(group__isnull=False),
                name="grant_group_once",
            ),
            _role_pair_check("", "grant_role_pair"),
        ]
        indexes = [models.Index(fields=["workspace", "project"], name="grant_ws_project")]


def hash_token(token: str) -> str:
    """Hash an invitation token; the database never holds the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(OpaqueIdModel):
    """An expiring, single-use invitation into a workspace with a role."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=32, choices=Role.choices)
    custom_role = models.ForeignKey(
        "access.CustomRole", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_email",
            ),
            models.CheckConstraint(
                condition=(Q(role="custom") & Q(custom_role__isnull=False))
                | (~Q(role="custom") & Q(custom_role__isnull=True)),
                name="invitation_role_pair",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "-created_at"], name="inv_ws_status")
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_expired(self) -> bool:
        """True when the token's time is up (whatever the stored status says)."""
        return timezone.now() >= self.expires_at

    @property
    def effective_status(self) -> str:
        """Status as a reader should see it: pending invitations past expiry read as expired."""
        if self.status == self.Status.PENDING and self.is_expired:
            return self.Status.EXPIRED
        return self.status


API_KEY_PREFIX = "lh_"
#: random hex characters after ``lh_`` in a key's public prefix
API_KEY_PREFIX_CHARS = 10


class ApiKey(OpaqueIdModel):
    """A member's key for one workspace; the secret is shown once and stored hashed.

    The key acts as its owner, restricted to ``permissions`` when given (never more than
    the owner holds at the time of each request: a shrinking role shrinks the key, and the
    key dies when the owner leaves the workspace).
    """

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="api_keys"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    #: public part, shown in lists and used for the lookup (``lh_`` + 10 characters)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    #: codenames the key is restricted to; null means "whatever the owner may do"
    permissions = models.JSONField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    #: requests per minute this key may make; null means the installation's default
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "owner", "-created_at"], name="apikey_ws_owner")
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def status(self) -> str:
        """active, revoked or expired."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and timezone.now() >= self.expires_at:
            return "expired"
        return "active"
