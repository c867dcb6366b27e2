"""Custom roles, groups with their history, and project grants."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

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
