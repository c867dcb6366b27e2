"""Console page: a project's overview (counts per status, batches, members, instructions)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from django.views import View

from labelhub.access.models import ProjectGrant
from labelhub.labeling.selectors import tasks as selectors
from labelhub.projects.console import ProjectPage
from labelhub.projects.services import projects as project_services


class ProjectOverviewView(ProjectPage, View):
    tab = "overview"

    def get(self, request, project_id):
        counts = selectors.status_counts(project=self.project)
        labels = {
            "to_label": "To label",
            "in_review": "In review",
            "in_rework": "In rework",
            "done": "Done",
            "skipped": "Skipped",
        }
        return self.page(
            request,
            "projects/overview.html",
            {
                "counts": [(labels[k], k, v) for k, v in counts.items()],
                "total": sum(counts.values()),
                "batches": selectors.batch_list(project=self.project)[:10],
                "members": ProjectGrant.objects.filter(project=self.project).select_related(
                    "user", "group", "custom_role"
                ),
                "acknowledged": project_services.instructions_acknowledged(
                    project=self.project, user=request.user
                ),
            },
        )

    def post(self, request, project_id):
        if request.POST.get("action") == "acknowledge":
            project_services.instructions_acknowledge(project=self.project, actor=request.user)
            messages.success(request, "Thanks — instructions acknowledged.")
        return redirect("console:project", project_id=self.project.pk)


urlpatterns = [
    path("projects/<str:project_id>/", ProjectOverviewView.as_view(), name="project"),
]
