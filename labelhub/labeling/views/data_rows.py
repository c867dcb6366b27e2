"""Console page: a project's data rows tab. AND/OR filters; each row's step, status and
time spent (kept live by ``static/js/data_rows.js``); bulk actions on the chosen rows —
priority, move to step, send to rework, delete labels and requeue, hide/unhide, assign,
mark as benchmark — each through its service (``services.batches``, ``services.actions``).
A refused action shows its message beside the control and changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, FloatField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import path
from django.views import View

from labelhub.access.authz import can
from labelhub.access.permissions import Permission
from labelhub.core.errors import ApplicationError, ValidationFailed
from labelhub.core.views import error_page
from labelhub.labeling.forms import STATUS_CHOICES
from labelhub.labeling.models import Batch, Label, Task, WorkflowStep
from labelhub.labeling.selectors import tasks as selectors
from labelhub.labeling.services import actions
from labelhub.labeling.services import batches as batch_services
from labelhub.labeling.services.workflow import workflow_of
from labelhub.projects.console import ProjectPage
from labelhub.projects.models import Dataset
from labelhub.workspaces.selectors import member_list

#: action -> (permission, what the success message says was done to the rows)
ACTIONS: dict[str, tuple[Permission, str]] = {
    "priority": (Permission.MANAGE_BATCHES, "Priority changed for {n} data rows."),
    "move": (Permission.MOVE_TASKS, "{n} data rows moved to {step}."),
    "rework": (Permission.MOVE_TASKS, "{n} data rows sent to rework."),
    "requeue": (Permission.DELETE_LABELS, "{n} data rows requeued; their labels {kept}."),
    "hide": (Permission.MOVE_TASKS, "{n} data rows hidden from labelers."),
    "unhide": (Permission.MOVE_TASKS, "{n} data rows shown to labelers again."),
    "assign": (Permission.MOVE_TASKS, "{n} data rows assigned to {user}."),
    "unassign": (Permission.MOVE_TASKS, "{n} data rows served to anyone again."),
    "benchmark": (Permission.MOVE_TASKS, "{n} data rows marked as benchmarks."),
    "unbenchmark": (Permission.MOVE_TASKS, "{n} data rows are no longer benchmarks."),
}
#: where each action's errors are shown: the service's field -> the page's control
ERROR_PLACES = {
    "priority": "priority",
    "step": "move",
    "reason": "rework",
    "keep_as_template": "requeue",
    "user": "assign",
}


def time_spent(seconds: float | None) -> str:
    """Seconds as the table shows them: ``45s``, ``1m 05s``, ``2h 03m 09s``."""
    total = round(seconds or 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _label_seconds():
    """Each task's sum of its labels' seconds (labeling, review and rework)."""
    labels = (
        Label.objects.filter(project_id=OuterRef("project_id"), data_row_id=OuterRef("data_row_id"))
        .order_by()
        .values("data_row_id")
        .annotate(total=Sum(F("seconds_labeling") + F("seconds_review") + F("seconds_rework")))
        .values("total")
    )
    return Coalesce(Subquery(labels, output_field=FloatField()), Value(0.0))


class DataRowsTabView(ProjectPage, View):
    tab = "data-rows"

    def _assignees(self) -> list[tuple[str, str]]:
        """Members who may label in the project (the people rows can be assigned to)."""
        members = member_list(workspace=self.workspace).order_by("user__email")
        return [
            (str(m.user_id), m.user.email)
            for m in members
            if can(m.user, Permission.LABEL, self.project)
        ]

    def render_page(
        self,
        request,
        params,
        *,
        errors: dict[str, str] | None = None,
        chosen: set[str] | None = None,
        posted: dict[str, str] | None = None,
    ):
        conditions = selectors.conditions_from_query(params)
        meta_name, meta_value = (
            params.get("meta_name", "").strip(),
            params.get("meta_value", "").strip(),
        )
        if meta_name and meta_value:
            conditions.append((f"metadata.{meta_name}", meta_value))
        match = params.get("match", "all")
        error = None
        try:
            tasks = selectors.task_filter(
                project=self.project, conditions=conditions, match=match
            ).select_related("step")
            tasks = tasks.annotate(label_seconds=_label_seconds())
            page = Paginator(tasks, 50).get_page(params.get("page"))
        except ApplicationError as exc:
            error, page = exc.message, None
        if page is not None:
            for task in page:
                task.time_spent = time_spent(task.label_seconds)
        datasets = Dataset.objects.filter(
            workspace=self.workspace, data_rows__tasks__project=self.project
        ).distinct()
        workflow = workflow_of(self.project)
        perms = self.perms
        may = {
            "prioritise": Permission.MANAGE_BATCHES in perms,
            "move": Permission.MOVE_TASKS in perms,
            "requeue": Permission.DELETE_LABELS in perms,
        }
        return self.page(
            request,
            "projects/data_rows.html",
            {
                "page": page,
                "error": error,
                "datasets": datasets,
                "batches": Batch.objects.filter(project=self.project),
                "statuses": STATUS_CHOICES,
                "q": params,
                "back": params.urlencode(),
                "match": match,
                "can_prioritise": may["prioritise"],
                "may": may,
                "may_select": any(may.values()),
                "move_steps": [s for s in workflow.steps if s.kind != WorkflowStep.Kind.LABEL],
                "step_names": {str(s.pk): s.name for s in workflow.steps},
                "status_names": dict(Task.Status.choices),
                "assignees": self._assignees() if may["move"] else [],
                "bulk_errors": errors or {},
                "chosen": chosen or set(),
                "posted": posted or {},
            },
        )

    def get(self, request, project_id):
        return self.render_page(request, request.GET)

    def post(self, request, project_id):
        # Forms without JavaScript and API-like posts without an action set the priority.
        action = request.POST.get("action") or "priority"
        if action not in ACTIONS:
            messages.error(request, "Choose one of the bulk actions.")
            return redirect(f"/projects/{self.project.pk}/data-rows/")
        permission, done = ACTIONS[action]
        if not can(request.user, permission, self.project):
            return error_page(request, 403, "You do not have permission to perform this action.")
        back = request.POST.get("back", "")
        back = back if "\n" not in back else ""
        chosen = [v for v in request.POST.getlist("data_row") if v]
        posted = {
            k: request.POST.get(k, "") for k in ("priority", "step", "reason", "keep", "user")
        }
        params = _query(back)
        if not chosen:
            return self.render_page(
                request,
                params,
                errors={"rows": "Select at least one data row."},
                posted=posted,
            )
        try:
            n, words = self._run(action, request, chosen, posted)
        except ApplicationError as exc:
            problems = exc.details or {}
            place = next((ERROR_PLACES[f] for f in problems if f in ERROR_PLACES), "rows")
            return self.render_page(
                request,
                params,
                errors={place: exc.message},
                chosen=set(chosen),
                posted=posted,
            )
        messages.success(request, done.format(n=n, **words))
        url = f"/projects/{self.project.pk}/data-rows/"
        return redirect(url + (f"?{back}" if back else ""))

    def _run(self, action: str, request, chosen: list[str], posted: dict[str, str]):
        common = {"project": self.project, "actor": request.user, "data_row_ids": chosen}
        if action == "priority":
            priority = posted["priority"]
            n = batch_services.tasks_set_priority(
                project=self.project,
                actor=request.user,
                task_ids=chosen,
                priority=int(priority) if priority.isdigit() else priority,
            )
            return n, {}
        if action == "move":
            step = workflow_of(self.project).by_id(posted["step"])
            n = actions.tasks_move(**common, step_id=posted["step"])
            return n, {"step": step.name if step else ""}
        if action == "rework":
            return actions.tasks_send_to_rework(**common, reason=posted["reason"]), {}
        if action == "requeue":
            keep = posted["keep"]
            if keep not in {"keep", "drop"}:
                raise_choice("keep_as_template")
            n = actions.tasks_requeue(**common, keep_as_template=keep == "keep")
            kept = "were kept as templates" if keep == "keep" else "were deleted"
            return n, {"kept": kept}
        if action in {"hide", "unhide"}:
            return actions.tasks_hide(**common, hidden=action == "hide"), {}
        if action in {"assign", "unassign"}:
            user_id = posted["user"] if action == "assign" else None
            if action == "assign" and not user_id:
                raise_choice("user", "Choose the person to assign the rows to.")
            n = actions.tasks_assign(**common, user_id=user_id)
            email = dict(self._assignees()).get(str(user_id), "")
            return n, {"user": email}
        return actions.tasks_mark_benchmark(**common, benchmark=action == "benchmark"), {}


def raise_choice(field: str, message: str = "Choose one.") -> None:
    raise ValidationFailed(message, field=field)


def _query(back: str) -> QueryDict:
    return QueryDict(back or "")


urlpatterns = [
    path(
        "projects/<str:project_id>/data-rows/", DataRowsTabView.as_view(), name="project-data-rows"
    ),
]
