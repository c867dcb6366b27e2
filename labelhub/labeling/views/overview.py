"""Console page: a project's overview (counts per status, batches, members, instructions,
and the *Start labeling / reviewing / rework* buttons with what waits for the visitor).

The counts follow the project's live events: ``static/js/overview.js`` re-reads this page
when a ``task.changed`` or ``queue.changed`` arrives and swaps the parts marked
``data-live-part``."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from django.views import View

from labelhub.access.authz import can
from labelhub.access.models import ProjectGrant
from labelhub.labeling.models import WorkflowStep
from labelhub.labeling.selectors import tasks as selectors
from labelhub.labeling.selectors.console import seconds_spent
from labelhub.labeling.selectors.queue import waiting_for
from labelhub.labeling.services.queue import MODE_PERMISSION
from labelhub.labeling.services.workflow import Workflow
from labelhub.projects.console import ProjectPage
from labelhub.projects.services import projects as project_services

MODES = {"label", "review", "rework"}
#: the buttons of the overview, in order: mode, label, URL name
WORK_BUTTONS = (
    ("label", "Start labeling", "console:project-label"),
    ("review", "Start reviewing", "console:project-review"),
    ("rework", "Start rework", "console:project-rework"),
)


def work_buttons(project, user, *, has_tasks: bool) -> list[dict]:
    """The *Start …* buttons the person may use, each with how many tasks wait for them."""
    allowed = [b for b in WORK_BUTTONS if can(user, MODE_PERMISSION[b[0]], project)]
    if not allowed:
        return []
    # A project without tasks (or without its workflow yet) has nothing waiting; reading
    # the page never makes the workflow (``workflow_of`` does on the first real use).
    steps = list(WorkflowStep.objects.filter(project=project)) if has_tasks else []
    waiting = waiting_for(project, Workflow(steps), user) if steps else dict.fromkeys(MODES, 0)
    return [
        {"mode": mode, "label": label, "url_name": url_name, "waiting": waiting[mode]}
        for mode, label, url_name in allowed
    ]


class ProjectOverviewView(ProjectPage, View):
    tab = "overview"

    def get(self, request, project_id):
        counts = selectors.status_counts(project=self.project)
        total = sum(counts.values())
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
                "total": total,
                "batches": selectors.batch_list(project=self.project)[:10],
                "members": ProjectGrant.objects.filter(project=self.project).select_related(
                    "user", "group", "custom_role"
                ),
                "acknowledged": project_services.instructions_acknowledged(
                    project=self.project, user=request.user
                ),
                "buttons": work_buttons(self.project, request.user, has_tasks=total > 0),
                "hours_spent": seconds_spent(project=self.project) / 3600 if total else 0.0,
                "next_mode": request.GET.get("next") if request.GET.get("next") in MODES else "",
            },
        )

    def post(self, request, project_id):
        if request.POST.get("action") == "acknowledge":
            project_services.instructions_acknowledge(project=self.project, actor=request.user)
            messages.success(request, "Thanks — instructions acknowledged.")
            if request.POST.get("next") in MODES:
                mode = request.POST["next"]
                return redirect(f"console:project-{mode}", project_id=self.project.pk)
        return redirect("console:project", project_id=self.project.pk)


urlpatterns = [
    path("projects/<str:project_id>/", ProjectOverviewView.as_view(), name="project"),
]
