"""API views of the labeling loop: the workflow, the queue, the task page's actions,
review, and the bulk actions of the data rows tab.

Tasks are addressed by their data row (``tasks/<row_id>/``). Who may do what is checked
twice: the view's permission on the project (``ProjectScopedView``), and the services'
rules (the mode's permission, holding the task's reservation).
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from labelhub.access.authz import actor_user
from labelhub.access.permissions import Permission
from labelhub.core.errors import NotFound
from labelhub.core.ids import parse_id
from labelhub.labeling import serializers as s
from labelhub.labeling.models import Contributor, Task, WorkflowStep
from labelhub.labeling.selectors.input_events import input_event_json
from labelhub.labeling.selectors.queue import step_counts, waiting_for
from labelhub.labeling.selectors.work import task_view
from labelhub.labeling.services import actions, input_events, queue, review, work
from labelhub.labeling.services import workflow as workflow_services
from labelhub.labeling.services.sessions import session_beat
from labelhub.projects.api_base import ProjectScopedView


def _step(step: WorkflowStep, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "id": str(step.pk),
        "kind": step.kind,
        "name": step.name,
        "position": step.position,
        "reviewer_users": step.reviewer_users,
        "reviewer_groups": step.reviewer_groups,
        "filters": step.filters,
        "match": step.match,
        "assignment": step.assignment,
        "max_rework_attempts": step.max_rework_attempts,
        "user_limits": step.user_limits,
        "group_limits": step.group_limits,
        "max_labels_per_row": step.max_labels_per_row,
        "task_count": counts.get(str(step.pk), 0),
    }


class WorkflowView(ProjectScopedView):
    """The project's workflow: its steps in order, with the tasks in each."""

    required_permissions = {"GET": Permission.VIEW_PROJECT}

    @extend_schema(operation_id="workflow_read", responses=s.WorkflowStepSerializer(many=True))
    def get(self, request, project_id):
        workflow = workflow_services.workflow_of(self.project)
        counts = step_counts(self.project.pk)
        return Response({"steps": [_step(step, counts) for step in workflow.steps]})


class WorkflowStepsView(ProjectScopedView):
    """Add a review step."""

    required_permissions = {"POST": Permission.MANAGE_WORKFLOW}

    @extend_schema(request=s.StepCreateSerializer, responses=s.WorkflowStepSerializer)
    def post(self, request, project_id):
        data = s.StepCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        step = workflow_services.review_step_add(
            project=self.project, actor=self.actor, **data.validated_data
        )
        return Response(_step(step, {}), status=status.HTTP_201_CREATED)


class WorkflowStepView(ProjectScopedView):
    """Change a step (settings by kind), or remove a review step (its tasks move on)."""

    queryset = WorkflowStep.objects.all()
    required_permissions = {
        "PATCH": Permission.MANAGE_WORKFLOW,
        "DELETE": Permission.MANAGE_WORKFLOW,
    }

    @extend_schema(request=s.StepUpdateSerializer, responses=s.WorkflowStepSerializer)
    def patch(self, request, project_id, id):
        data = s.StepUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        step = workflow_services.step_update(
            step=self.get_object(), actor=self.actor, **data.validated_data
        )
        return Response(_step(step, step_counts(self.project.pk)))

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def delete(self, request, project_id, id):
        moved = workflow_services.review_step_remove(step=self.get_object(), actor=self.actor)
        return Response({"moved": moved})


def _reservation(reservation) -> dict[str, Any]:
    return {
        "data_row": str(reservation.task.data_row_id),
        "mode": reservation.mode,
        "step": str(reservation.step_id),
        "expires_at": reservation.expires_at,
    }


class QueueView(ProjectScopedView):
    """Counts per step, what waits for you per mode, and the tasks you hold."""

    required_permissions = {"GET": Permission.VIEW_PROJECT}

    @extend_schema(operation_id="queue_read", responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        project = self.project
        user = actor_user(self.actor)
        workflow = workflow_services.workflow_of(project)
        contributor = Contributor.objects.filter(project=project, user=user).first()
        held = (
            queue.Reservation.objects.filter(project=project, user=user)
            .select_related("task")
            .order_by("created_at", "id")
        )
        return Response(
            {
                "steps": step_counts(project.pk),
                "waiting_for_you": waiting_for(project, workflow, user),
                "held": [_reservation(r) for r in held],
                "removed": bool(contributor and contributor.removed_at),
            }
        )


class QueueNextView(ProjectScopedView):
    """Reserve the next tasks for you in a mode (up to the project's reservation count);
    returns every task you hold there, oldest first."""

    required_permissions = {"POST": Permission.VIEW_PROJECT}

    @extend_schema(request=s.QueueNextSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id):
        data = s.QueueNextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        held = queue.queue_next(
            project=self.project,
            actor=self.actor,
            mode=data.validated_data["mode"],
            step_id=data.validated_data.get("step"),
        )
        return Response({"tasks": [_reservation(r) for r in held]})


class TaskView(ProjectScopedView):
    """Base of the task endpoints: the task of the row in the URL (404 when none)."""

    queryset = Task.objects.all()
    required_permissions = {"GET": Permission.VIEW_PROJECT, "POST": Permission.VIEW_PROJECT}

    def task(self) -> Task:
        """The project's task of the URL's data row."""
        pk = parse_id(self.kwargs.get("row_id"))
        found = (
            self.get_queryset()
            .select_related("project", "step", "data_row")
            .filter(data_row_id=pk)
            .first()
            if pk
            else None
        )
        if found is None:
            raise NotFound("Task not found.")
        return found


class TaskDetailView(TaskView):
    """The task page's data: the row, its step, your reservation, pre-labels, labels
    (review and rework), your draft and the seconds counted so far."""

    @extend_schema(operation_id="task_read", responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id, row_id):
        return Response(task_view(self.task(), actor_user(self.actor)))


class TaskHeartbeatView(TaskView):
    """Keep your reservation (renews the lease) and count the time, like the task page's
    live connection does; ``visible: false`` stops the clock."""

    @extend_schema(request=s.HeartbeatSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, row_id):
        data = s.HeartbeatSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = self.task()
        reservation = queue.reservation_renew(task=task, actor=self.actor)
        timer = session_beat(
            task=task,
            user=actor_user(self.actor),
            mode=reservation.mode,
            visible=data.validated_data["visible"],
        )
        return Response({"expires_at": reservation.expires_at, "timer": timer.as_dict()})


class TaskReleaseView(TaskView):
    """Give the task back to the queue."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, row_id):
        queue.reservation_release(task=self.task(), actor=self.actor)
        return Response({"released": True})


class TaskDraftView(TaskView):
    """Save what you have so far (a reload or a lost connection loses nothing)."""

    required_permissions = {"PUT": Permission.VIEW_PROJECT}

    @extend_schema(request=s.DraftSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request, project_id, row_id):
        data = s.DraftSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = work.draft_save(
            task=self.task(), actor=self.actor, payload=data.validated_data["draft"]
        )
        return Response({"saved_at": draft.updated_at})


class TaskSubmitView(TaskView):
    """Submit your label (labeling) or your rework of a rejected label."""

    @extend_schema(request=s.SubmitSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, row_id):
        data = s.SubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = self.task()
        label = work.label_submit(
            task=task, actor=self.actor, annotations=data.validated_data["annotations"]
        )
        task.refresh_from_db(fields=["step", "status"])
        return Response(
            {"label": str(label.pk), "status": task.status, "step": str(task.step_id)},
            status=status.HTTP_201_CREATED,
        )


class TaskSkipView(TaskView):
    """Skip the task (it is never served to you again)."""

    @extend_schema(request=s.SkipSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, row_id):
        data = s.SkipSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = self.task()
        work.task_skip(task=task, actor=self.actor, reason=data.validated_data.get("reason", ""))
        task.refresh_from_db(fields=["step", "status", "skip_count"])
        return Response({"status": task.status, "skip_count": task.skip_count})


class TaskReviewView(TaskView):
    """Approve or reject the task you hold for review, with scores (0-100) if you like;
    ``annotations`` (and ``label``) correct a label first (needs the rework permission)."""

    @extend_schema(request=s.ReviewSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, row_id):
        data = s.ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = self.task()
        review.review_decide(task=task, actor=self.actor, **data.validated_data)
        task.refresh_from_db(fields=["step", "status"])
        return Response({"status": task.status, "step": str(task.step_id)})


class TaskInputEventsView(TaskView):
    """Report a paste the task page blocked or a rapid entry it measured in a free-text
    answer (projects with authentic input protection; you must hold the task)."""

    @extend_schema(
        operation_id="task_input_event_create",
        request=s.InputEventSerializer,
        responses={201: s.InputEventResponseSerializer},
    )
    def post(self, request, project_id, row_id):
        data = s.InputEventSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = input_events.input_event_record(
            task=self.task(), actor=self.actor, **data.validated_data
        )
        return Response(input_event_json(event), status=status.HTTP_201_CREATED)


class ContributorsView(ProjectScopedView):
    """The people who worked in the project's queue: served, scores, removed or not."""

    required_permissions = {"GET": Permission.VIEW_QUALITY_SCORES}

    @extend_schema(operation_id="contributors_list", responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        rows = (
            Contributor.objects.filter(project=self.project)
            .select_related("user")
            .order_by("user__email")
        )
        return Response(
            {
                "contributors": [
                    {
                        "user": {"id": str(c.user_id), "email": c.user.email},
                        "served": c.served,
                        "benchmarks_served": c.benchmarks_served,
                        "average_score": c.average_score,
                        "scores": c.score_count,
                        "removed_at": c.removed_at,
                        "removed_reason": c.removed_reason,
                    }
                    for c in rows
                ]
            }
        )


class ContributorRestoreView(ProjectScopedView):
    """Put someone taken out of the queue back in (their scores start over)."""

    required_permissions = {"POST": Permission.MANAGE_PROJECT_MEMBERS}

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, user_id):
        contributor = (
            Contributor.objects.filter(project=self.project, user_id=parse_id(user_id))
            .select_related("user")
            .first()
        )
        if contributor is None:
            raise NotFound("No such contributor in this project.")
        review.contributor_restore(project=self.project, actor=self.actor, user=contributor.user)
        return Response({"restored": True})


# --- bulk actions of the data rows tab -----------------------------------------------------

ACTIONS = {
    "move": (s.MoveActionSerializer, Permission.MOVE_TASKS),
    "rework": (s.ReworkActionSerializer, Permission.MOVE_TASKS),
    "requeue": (s.RequeueActionSerializer, Permission.DELETE_LABELS),
    "hide": (s.HideActionSerializer, Permission.MOVE_TASKS),
    "assign": (s.AssignActionSerializer, Permission.MOVE_TASKS),
    "benchmark": (s.BenchmarkActionSerializer, Permission.MOVE_TASKS),
}


def _action_view(name: str) -> type[ProjectScopedView]:
    serializer, permission = ACTIONS[name]

    def run(project, actor, data: dict[str, Any]) -> int:
        ids = data["data_row_ids"]
        common = {"project": project, "actor": actor, "data_row_ids": ids}
        if name == "move":
            return actions.tasks_move(**common, step_id=data["step"])
        if name == "rework":
            return actions.tasks_send_to_rework(**common, reason=data.get("reason", ""))
        if name == "requeue":
            return actions.tasks_requeue(**common, keep_as_template=data["keep_as_template"])
        if name == "hide":
            return actions.tasks_hide(**common, hidden=data["hidden"])
        if name == "assign":
            return actions.tasks_assign(**common, user_id=data["user"])
        return actions.tasks_mark_benchmark(**common, benchmark=data["benchmark"])

    class ActionView(ProjectScopedView):
        required_permissions = {"POST": permission}

        @extend_schema(
            operation_id=f"data_rows_{name}", request=serializer, responses=OpenApiTypes.OBJECT
        )
        def post(self, request, project_id):
            data = serializer(data=request.data)
            data.is_valid(raise_exception=True)
            return Response({"changed": run(self.project, self.actor, data.validated_data)})

    ActionView.__name__ = ActionView.__qualname__ = f"DataRows{name.title()}ActionView"
    ActionView.__doc__ = f"Bulk action of the data rows tab: {name} the chosen rows."
    return ActionView


P = "projects/<str:project_id>/"
urlpatterns = [
    path(f"{P}workflow/", WorkflowView.as_view(), name="workflow"),
    path(f"{P}workflow/steps/", WorkflowStepsView.as_view(), name="workflow-steps"),
    path(f"{P}workflow/steps/<str:id>/", WorkflowStepView.as_view(), name="workflow-step"),
    path(f"{P}queue/", QueueView.as_view(), name="queue"),
    path(f"{P}queue/next/", QueueNextView.as_view(), name="queue-next"),
    path(f"{P}tasks/<str:row_id>/", TaskDetailView.as_view(), name="task"),
    path(f"{P}tasks/<str:row_id>/heartbeat/", TaskHeartbeatView.as_view(), name="task-heartbeat"),
    path(f"{P}tasks/<str:row_id>/release/", TaskReleaseView.as_view(), name="task-release"),
    path(f"{P}tasks/<str:row_id>/draft/", TaskDraftView.as_view(), name="task-draft"),
    path(f"{P}tasks/<str:row_id>/submit/", TaskSubmitView.as_view(), name="task-submit"),
    path(f"{P}tasks/<str:row_id>/skip/", TaskSkipView.as_view(), name="task-skip"),
    path(f"{P}tasks/<str:row_id>/review/", TaskReviewView.as_view(), name="task-review"),
    path(
        f"{P}tasks/<str:row_id>/input-events/",
        TaskInputEventsView.as_view(),
        name="task-input-events",
    ),
    path(f"{P}contributors/", ContributorsView.as_view(), name="contributors"),
    path(
        f"{P}contributors/<str:user_id>/restore/",
        ContributorRestoreView.as_view(),
        name="contributor-restore",
    ),
    *[
        path(
            f"{P}data-rows/actions/{name}/",
            _action_view(name).as_view(),
            name=f"data-rows-{name}",
        )
        for name in ACTIONS
    ],
]
