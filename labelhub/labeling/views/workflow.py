"""Console page: a project's Workflow tab. The steps in order with the tasks in each (kept
live by ``static/js/workflow.js``); for those who may manage the workflow, forms to add,
rename, reorder and remove review steps, choose their reviewers and filters, set the
rework rules and the initial labeling limits. Every form goes through
``services.workflow``; its errors are shown beside the fields and change nothing."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from django.views import View

from labelhub.access.permissions import Permission
from labelhub.access.selectors import group_list
from labelhub.core.errors import ApplicationError
from labelhub.core.views import apply_error_to_form, flash_error
from labelhub.labeling.models import Batch, WorkflowStep
from labelhub.labeling.selectors.queue import step_counts
from labelhub.labeling.services import workflow as services
from labelhub.labeling.workflow_forms import (
    LabelStepForm,
    ReviewStepAddForm,
    ReviewStepForm,
    ReworkStepForm,
)
from labelhub.projects.console import ProjectPage
from labelhub.projects.models import Dataset
from labelhub.workspaces.selectors import member_list

Kind = WorkflowStep.Kind
FILTER_ERROR = re.compile(r"^filters\[(\d+)\]: (.*)$")


def _prefix(step: WorkflowStep) -> str:
    return f"step-{step.pk.hex}"


class WorkflowPage(ProjectPage, View):
    tab = "workflow"
    required_permissions = {
        "GET": Permission.VIEW_PROJECT,
        "POST": Permission.MANAGE_WORKFLOW,
    }

    # --- choices of the forms -------------------------------------------------------------

    def _choices(self) -> dict[str, list[tuple[str, str]]]:
        if not hasattr(self, "_choice_cache"):
            members = sorted(
                member_list(workspace=self.workspace), key=lambda m: m.user.email.lower()
            )
            self._choice_cache = {
                "members": [
                    (
                        str(m.user_id),
                        m.user.email
                        if m.user.display_name == m.user.email
                        else f"{m.user.display_name} ({m.user.email})",
                    )
                    for m in members
                ],
                "groups": [(str(g.pk), g.name) for g in group_list(workspace=self.workspace)],
                "datasets": [
                    (str(d.pk), d.name)
                    for d in Dataset.objects.filter(workspace=self.workspace).order_by("name")
                ],
                "batches": [
                    (str(b.pk), b.name)
                    for b in Batch.objects.filter(project=self.project).order_by("created_at")
                ],
            }
        return self._choice_cache

    def _review_form(self, step: WorkflowStep, place: int, data=None) -> ReviewStepForm:
        return ReviewStepForm(
            data,
            prefix=_prefix(step),
            initial=ReviewStepForm.initial_of(step, place),
            **self._choices(),
        )

    def _rework_form(self, step: WorkflowStep, data=None) -> ReworkStepForm:
        return ReworkStepForm(data, prefix="rework", initial=ReworkStepForm.initial_of(step))

    def _label_form(self, step: WorkflowStep, data=None) -> LabelStepForm:
        c = self._choices()
        return LabelStepForm(
            data,
            prefix="label",
            initial=LabelStepForm.initial_of(step, c["members"], c["groups"]),
            members=c["members"],
            groups=c["groups"],
        )

    # --- the page --------------------------------------------------------------------------

    def render_page(self, request, *, bound: dict[str, Any] | None = None, status: int = 200):
        """The page; ``bound`` holds the submitted form with its errors (by step id or name)."""
        bound = bound or {}
        workflow = services.workflow_of(self.project)
        counts = step_counts(self.project.pk)
        may_edit = Permission.MANAGE_WORKFLOW in self.perms
        names = {pk: label for pk, label in self._choices()["members"]}
        groups = dict(self._choices()["groups"])
        datasets = dict(self._choices()["datasets"])
        batches = dict(self._choices()["batches"])
        cards = []
        for step in workflow.steps:
            place = workflow.reviews.index(step) + 1 if step.kind == Kind.REVIEW else None
            card: dict[str, Any] = {
                "step": step,
                "count": counts.get(str(step.pk), 0),
                "place": place,
                "form": None,
            }
            if step.kind == Kind.REVIEW:
                card["reviewers"] = [names.get(u, "a former member") for u in step.reviewer_users]
                card["reviewers"] += [
                    f"group {groups.get(g, 'deleted')}" for g in step.reviewer_groups
                ]
                card["filters"] = [
                    _describe(rule, names, datasets, batches) for rule in step.filters
                ]
                if may_edit:
                    card["form"] = bound.get(str(step.pk)) or self._review_form(step, place)
            elif step.kind == Kind.REWORK and may_edit:
                card["form"] = bound.get("rework") or self._rework_form(step)
            elif step.kind == Kind.LABEL:
                card["user_limits"] = [
                    (names.get(u, "a former member"), n) for u, n in step.user_limits.items()
                ]
                card["group_limits"] = [
                    (groups.get(g, "a deleted group"), n) for g, n in step.group_limits.items()
                ]
                if may_edit:
                    card["form"] = bound.get("label") or self._label_form(step)
            cards.append(card)
        return self.page(
            request,
            "labeling/workflow.html",
            {
                "cards": cards,
                "may_edit": may_edit,
                "add_form": bound.get("add") or ReviewStepAddForm(),
                "open_step": next(iter(bound), None),
            },
            status=status,
        )

    def get(self, request, project_id):
        return self.render_page(request)

    def post(self, request, project_id):
        action = request.POST.get("action")
        workflow = services.workflow_of(self.project)
        step = workflow.by_id(request.POST.get("step"))
        handlers = {
            "add": self._add,
            "review": self._save_review,
            "remove": self._remove,
            "rework": self._save_rework,
            "label": self._save_label,
        }
        if action not in handlers or (action in {"review", "remove"} and step is None):
            messages.error(request, "That step is no longer in the workflow.")
            return redirect("console:project-workflow", project_id=self.project.pk)
        if action == "rework":
            step = workflow.rework
        elif action == "label":
            step = workflow.label
        if action in {"review", "remove"} and step.kind != Kind.REVIEW:
            messages.error(request, "Only review steps can be changed here.")
            return redirect("console:project-workflow", project_id=self.project.pk)
        return handlers[action](request, step, workflow)

    def _done(self, request, message: str):
        messages.success(request, message)
        return redirect("console:project-workflow", project_id=self.project.pk)

    def _add(self, request, step, workflow):
        form = ReviewStepAddForm(request.POST)
        if form.is_valid():
            try:
                added = services.review_step_add(
                    project=self.project,
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    position=form.cleaned_data["position"],
                )
            except ApplicationError as exc:
                apply_error_to_form(form, exc)
            else:
                return self._done(request, f"Review step {added.name} added.")
        return self.render_page(request, bound={"add": form})

    def _save_review(self, request, step, workflow):
        place = workflow.reviews.index(step) + 1
        form = self._review_form(step, place, request.POST)
        if form.is_valid():
            changes, sources = form.changes()
            current = {
                "name": step.name,
                "position": place,
                "reviewer_users": step.reviewer_users,
                "reviewer_groups": step.reviewer_groups,
                "filters": step.filters,
                "match": step.match,
            }
            changed = {k: v for k, v in changes.items() if current[k] != v}
            if not changed:
                return self._done(request, f"Nothing changed in {step.name}.")
            try:
                saved = services.step_update(step=step, actor=request.user, **changed)
            except ApplicationError as exc:
                _place_filter_errors(form, exc, sources)
            else:
                return self._done(request, f"Step {saved.name} saved.")
        return self.render_page(request, bound={str(step.pk): form})

    def _remove(self, request, step, workflow):
        try:
            moved = services.review_step_remove(step=step, actor=request.user)
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("console:project-workflow", project_id=self.project.pk)
        return self._done(
            request,
            f"Review step {step.name} removed; {moved} "
            f"{'task' if moved == 1 else 'tasks'} moved to the next step.",
        )

    def _save_rework(self, request, step, workflow):
        form = self._rework_form(step, request.POST)
        if form.is_valid():
            try:
                services.step_update(step=step, actor=request.user, **form.changes())
            except ApplicationError as exc:
                apply_error_to_form(form, exc)
            else:
                return self._done(request, "Rework settings saved.")
        return self.render_page(request, bound={"rework": form})

    def _save_label(self, request, step, workflow):
        form = self._label_form(step, request.POST)
        if form.is_valid():
            try:
                services.step_update(step=step, actor=request.user, **form.changes())
            except ApplicationError as exc:
                apply_error_to_form(form, exc)
            else:
                return self._done(request, "Initial labeling settings saved.")
        return self.render_page(request, bound={"label": form})


def _place_filter_errors(form: ReviewStepForm, exc: ApplicationError, sources: list[str]) -> None:
    """Show a service error beside the field it names; a filter's beside its own field."""
    problems = (exc.details or {}).get("filters")
    if not problems:
        apply_error_to_form(form, exc)
        return
    for problem in problems:
        found = FILTER_ERROR.match(str(problem))
        index = int(found.group(1)) if found else -1
        if 0 <= index < len(sources):
            form.add_error(sources[index], found.group(2)[:1].upper() + found.group(2)[1:])
        else:
            form.add_error(None, problem)


def _describe(rule: dict[str, Any], names, datasets, batches) -> str:
    """A filter in words, as the page shows it."""
    kind = rule.get("field")
    values = rule.get("values", [])
    if kind == "dataset":
        return "Dataset is " + " or ".join(datasets.get(v, "a deleted dataset") for v in values)
    if kind == "batch":
        return "Batch is " + " or ".join(batches.get(v, "a removed batch") for v in values)
    if kind == "metadata":
        return f"Metadata {rule.get('name')} is " + " or ".join(values)
    if kind == "labeled_by":
        return "Labeled by " + " or ".join(names.get(v, "a former member") for v in values)
    if kind == "labeling_seconds":
        low, high = rule.get("min"), rule.get("max")
        if low is not None and high is not None:
            return f"Labeling time {low}–{high} s"
        return (
            f"Labeling time at least {low} s"
            if low is not None
            else f"Labeling time at most {high} s"
        )
    return "Unknown filter"


urlpatterns = [
    path("projects/<str:project_id>/workflow/", WorkflowPage.as_view(), name="project-workflow"),
]
