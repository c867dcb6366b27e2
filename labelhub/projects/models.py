"""Projects (minimal for now: the projects issue adds datasets, ontologies, batches, settings).

Project-scoped permissions of the catalogue are this model's permissions, so
django-guardian can hold per-project grants for users and groups in direct-FK tables.
"""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from labelhub.access.permissions import PROJECT_PERMISSIONS
from labelhub.core.models import OpaqueIdModel


class Project(OpaqueIdModel):
    """A labeling effort inside one workspace."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        default_permissions = ()
        permissions = sorted((p.value, p.label) for p in PROJECT_PERMISSIONS)
        indexes = [models.Index(fields=["workspace", "name"], name="project_ws_name")]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ProjectUserObjectPermission(UserObjectPermissionBase):
    """Guardian grant of one project permission to one user (direct FK: fast, cascades)."""

    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)


class ProjectGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian grant of one project permission to one group."""

    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)
