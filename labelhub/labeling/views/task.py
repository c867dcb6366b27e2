"""Console pages of the labeling loop: *Start labeling / reviewing / rework* and the task
page.

``…/label/``, ``…/review/`` and ``…/rework/`` ask the queue for work (``queue_next``:
the tasks the person holds in that mode, topped up) and send the person to the first
one, or show that nothing waits for them. Asking is a GET on purpose: it is what the
*Start* buttons link to and where the task page goes after a submit or a skip; what it
writes is a reservation, which the person would get anyway and which expires with its
lease.

The task page (``…/tasks/<row_id>/?mode=label``) shows the row, the instructions, the
server's timer, and a form of the ontology's global classifications; its script
(``static/js/task.js``) talks to the REST API (draft, submit, skip, release, review) and
beats the clock over the live socket. Every rule is the services': this module only
reads and renders.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views import View

from labelhub.access.authz import can
from labelhub.access.permissions import Permission
from labelhub.core.errors import Conflict, NotFound, PermissionDenied
from labelhub.core.ids import parse_id
from labelhub.core.views import error_page
from labelhub.labeling.models import Label, Reservation, Task
from labelhub.labeling.selectors.console import editor_ontology, rejection_of
from labelhub.labeling.selectors.queue import waiting_for
from labelhub.labeling.selectors.work import task_view
from labelhub.labeling.services import queue
from labelhub.labeling.services.workflow import workflow_of
from labelhub.projects.console import ProjectPage
from labelhub.projects.models import MediaType

Mode = Reservation.Mode
MODE_NAMES = {Mode.LABEL: "labeling", Mode.REVIEW: "reviewing", Mode.REWORK: "rework"}


def work_url(project_id: Any, mode: str) -> str:
    """Where the person asks for their next task in a mode."""
    return reverse(f"console:project-{mode}", kwargs={"project_id": project_id})


def task_url(project_id: Any, row_id: Any, mode: str) -> str:
    """The task page of a row in a mode."""
    url = reverse("console:project-task", kwargs={"project_id": project_id, "row_id": row_id})
    return f"{url}?{urlencode({'mode': mode})}"


class ModePage(ProjectPage):
    """A page of one mode of the loop: the visitor must be allowed to work in it (403)."""

    mode: str = Mode.LABEL

    def resolve_target(self, kwargs: dict[str, Any]) -> Any:
        project = super().resolve_target(kwargs)
        self.mode = self.pick_mode(kwargs)
        if not can(self.request.user, queue.MODE_PERMISSION[self.mode], project):
            raise PermissionDenied(f"You may not do {MODE_NAMES[self.mode]} in this project.")
        return project

    def pick_mode(self, kwargs: dict[str, Any]) -> str:
        return kwargs["mode"]


class WorkStartView(ModePage, View):
    """Ask the queue for the next task in a mode; go to it, or say nothing waits."""

    def get(self, request, project_id, mode):
        project = self.project
        try:
            held = queue.queue_next(project=project, actor=request.user, mode=self.mode)
        except Conflict as exc:
            if "instructions" not in (exc.details or {}):
                raise
            messages.warning(request, exc.message)
            overview = reverse("console:project", kwargs={"project_id": project.pk})
            return redirect(f"{overview}?{urlencode({'next': self.mode})}#instructions")
        except PermissionDenied as exc:
            return self.page(
                request,
                "labeling/task_empty.html",
                {"mode": self.mode, "mode_name": MODE_NAMES[self.mode], "removed": exc.message},
            )
        if held:
            return redirect(task_url(project.pk, held[0].task.data_row_id, self.mode))
        return self.page(
            request,
            "labeling/task_empty.html",
            {"mode": self.mode, "mode_name": MODE_NAMES[self.mode]},
        )


#: the editor's scripts, in the order they load (each builds on the ones before it)
EDITOR_SCRIPTS = [
    "vendor/konva/konva.min.js",
    "js/editor/geometry.js",
    "js/editor/model.js",
    "js/editor/forms.js",
    "js/editor/canvas.js",
    "js/editor/text.js",
    "js/task.js",
    "js/editor/editor.js",
]


def _answers_of(label: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list(label["annotations"]) if label else []


def _display(line: dict[str, Any]) -> str:
    """A stored answer as text (review): the chosen options, or the free text."""
    if "answer" in line and isinstance(line["answer"], str):
        return line["answer"]
    chosen = line.get("answers") or []
    if isinstance(line.get("answer"), dict):
        chosen = [line["answer"]]
    if chosen:
        return ", ".join(str(a.get("name") or a.get("schemaId") or "?") for a in chosen)
    return "(an object: shown in the editor)"


class TaskPageView(ModePage, View):
    """The task page: the row, the timer, the form (label, rework) or the decision
    (review) of a task the person holds."""

    def pick_mode(self, kwargs: dict[str, Any]) -> str:
        mode = self.request.GET.get("mode") or Mode.LABEL
        if mode not in Mode.values:
            raise NotFound("No such mode.")
        return mode

    def get(self, request, project_id, row_id):
        project = self.project
        pk = parse_id(row_id)
        task = (
            Task.objects.select_related("project", "step", "data_row")
            .filter(project=project, data_row_id=pk)
            .first()
            if pk
            else None
        )
        if task is None:
            return error_page(request, 404, "Task not found.")
        user = request.user
        view = task_view(task, user)
        reservation = view["reservation"]
        held = reservation is not None and reservation["mode"] == self.mode
        ontology = editor_ontology(project)
        # the review panel lists a label's answers to the global questions as text
        global_ids = {c["featureSchemaId"] for c in ontology["classifications"]}
        context: dict[str, Any] = {
            "mode": self.mode,
            "mode_name": MODE_NAMES[self.mode],
            "task": task,
            "row": task.data_row,
            "held": held,
            "next_url": work_url(project.pk, self.mode),
        }
        if not held:
            return self.page(request, "labeling/task.html", context)

        workflow = workflow_of(project)
        mine = list(
            Reservation.objects.filter(project=project, user=user, mode=self.mode)
            .order_by("created_at", "id")
            .values_list("task__data_row_id", flat=True)
        )
        position = mine.index(task.data_row_id) + 1 if task.data_row_id in mine else 1
        waiting = waiting_for(project, workflow, user)[self.mode]

        labels = view["labels"]
        rejection = rejection_of(task) if self.mode == Mode.REWORK else None
        initial: list[dict[str, Any]] = []
        if self.mode == Mode.LABEL:
            initial = view["prelabels"]
        elif self.mode == Mode.REWORK:
            rejected = [lb for lb in labels if lb["status"] == Label.Status.REJECTED]
            own = [lb for lb in rejected if lb["author"] and lb["author"]["id"] == str(user.pk)]
            initial = _answers_of((own or rejected or [None])[0])
        review_labels = [
            {
                **label,
                "answers": [
                    {"name": line.get("name"), "text": _display(line)}
                    for line in label["annotations"]
                    if str(line.get("schemaId")) in global_ids
                ],
            }
            for label in labels
        ]
        row = task.data_row
        row_is_url = str(row.row_data).startswith(("http://", "https://"))
        api = f"/api/v1/projects/{project.pk}/tasks/{task.data_row_id}/"
        context.update(
            {
                "position": position,
                "held_count": len(mine),
                "waiting": waiting,
                "labels": review_labels if self.mode == Mode.REVIEW else [],
                "rejection": rejection,
                "media": row.media_type,
                "is_image": row.media_type == MediaType.IMAGE,
                "is_text": row.media_type == MediaType.TEXT,
                "row_is_url": row_is_url,
                "editor_scripts": EDITOR_SCRIPTS,
                "page_data": {
                    "project": str(project.pk),
                    "data_row": str(task.data_row_id),
                    "mode": self.mode,
                    "media": row.media_type,
                    "api": api,
                    "next_url": work_url(project.pk, self.mode),
                    "overview_url": reverse("console:project", kwargs={"project_id": project.pk}),
                    "ontology": ontology,
                    # the text is the asset of a text row: the editor marks entities in it
                    "text": row.row_data
                    if row.media_type == MediaType.TEXT and not row_is_url
                    else None,
                    "initial": initial,
                    "labels": labels if self.mode == Mode.REVIEW else [],
                    "draft": view["draft"],
                    "seconds": view["seconds"],
                    "allow_skip": project.allow_skip,
                    "authentic_input": project.authentic_input_protection,
                    "can_edit_in_review": can(user, Permission.REWORK, project),
                },
            }
        )
        return self.page(request, "labeling/task.html", context)


P = "projects/<str:project_id>/"
urlpatterns = [
    path(f"{P}label/", WorkStartView.as_view(), {"mode": "label"}, name="project-label"),
    path(f"{P}review/", WorkStartView.as_view(), {"mode": "review"}, name="project-review"),
    path(f"{P}rework/", WorkStartView.as_view(), {"mode": "rework"}, name="project-rework"),
    path(f"{P}tasks/<str:row_id>/", TaskPageView.as_view(), name="project-task"),
]
