"""API view: a project's overview (counts per status, batches, members, tags)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from labelhub.access.models import ProjectGrant
from labelhub.access.permissions import Permission
from labelhub.labeling.selectors import tasks as selectors
from labelhub.projects.api_base import ProjectScopedView


class ProjectOverviewView(ProjectScopedView):
    """Counts per status, batches, members, tags, instructions state."""

    required_permissions = {"GET": Permission.VIEW_PROJECT}

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        project = self.project
        counts = selectors.status_counts(project=project)
        return Response(
            {
                "counts": counts,
                "total": sum(counts.values()),
                "batches": selectors.batch_list(project=project).count(),
                "members": ProjectGrant.objects.filter(project=project).count(),
                "tags": [t.name for t in project.tags.all()],
                "instructions": {
                    "kind": project.instructions_kind,
                    "version": project.instructions_version,
                },
            }
        )


urlpatterns = [
    path(
        "projects/<str:project_id>/overview/",
        ProjectOverviewView.as_view(),
        name="project-overview",
    ),
]
