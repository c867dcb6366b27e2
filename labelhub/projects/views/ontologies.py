"""Console pages: ontologies (list and create, form editor, JSON view).

Every change goes through ``ontology_update`` with the whole tree, so the form editor and
the JSON view obey the same rules and report problems with the same paths.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views import View

from labelhub.access.authz import can
from labelhub.access.console import ConsoleView
from labelhub.access.permissions import Permission
from labelhub.core.errors import ApplicationError, NotFound
from labelhub.core.views import flash_error
from labelhub.projects.forms.ontologies import (
    ClassificationForm,
    OntologyCreateForm,
    OntologyForm,
    OntologyJsonForm,
    OptionForm,
    ToolForm,
)
from labelhub.projects.selectors.ontologies import (
    access_ontology,
    ontology_labeled_projects,
    ontology_list,
    ontology_projects,
    ontology_version,
)
from labelhub.projects.services import ontologies as services
from labelhub.projects.services.ontologies import PALETTE, TOOL_TYPES


def _not_found(request):
    return render(
        request, "error.html", {"status": 404, "message": "Ontology not found."}, status=404
    )


def _forbidden(request):
    return render(
        request,
        "error.html",
        {"status": 403, "message": "You do not have permission to change ontologies."},
        status=403,
    )


def ontology_json_text(tree: dict) -> str:
    """The Labelbox JSON as the JSON view shows and downloads it."""
    return json.dumps(tree or {"tools": [], "classifications": []}, indent=2, ensure_ascii=False)


def _show_problems(form, exc: ApplicationError, prefix: str | None = None) -> None:
    """Put a service error beside the fields it concerns, else on top of the form.

    Problems of the element just added (``prefix``, e.g. ``tools[3]``) lose their path and go
    beside its field (name, colour, answers); other ontology problems keep their path.
    """
    details = exc.details or {}
    placed = False
    for field, errors in details.items():
        if field != "ontology" and field in form.fields:
            for error in errors:
                form.add_error(field, error)
            placed = True
    targets = {"name": "name", "instructions": "name", "color": "color", "value": "value"}
    for problem in details.get("ontology") or []:
        placed = True
        where, _, text = problem.partition(": ")
        if prefix and text and (where == prefix or where.startswith(prefix + ".")):
            key = where[len(prefix) :].lstrip(".").split("[")[0].split(".")[0]
            target = "options" if key == "options" else targets.get(key)
            if target in form.fields:
                form.add_error(target, text)
                continue
        form.add_error(None, problem)
    if not placed:
        form.add_error(None, exc.message)


_SHORT = {"radio": "Radio", "checklist": "Checklist", "text": "Free text"}


def _rows(tree: dict) -> tuple[list[dict], list[dict]]:
    """Flatten the tree into indented table rows: (tools, classifications)."""

    def classification(c: dict, depth: int, out: list[dict], top: bool) -> None:
        out.append(
            {
                "depth": depth,
                "kind": "classification",
                "name": c["name"],
                "type": c["type"],
                "type_label": _SHORT.get(c["type"], c["type"]),
                "required": c.get("required"),
                "scope": c.get("scope") if top else None,
                "schema_id": c["featureSchemaId"],
            }
        )
        options = c.get("options") or []
        for option in options:
            out.append(
                {
                    "depth": depth + 1,
                    "kind": "option",
                    "name": option["label"],
                    "value": option["value"],
                    "type": "option",
                    "type_label": "Answer",
                    "schema_id": option["featureSchemaId"],
                    # the ontology rules refuse a radio or checklist question without answers
                    "only_answer": len(options) == 1,
                }
            )
            for nested in option.get("options") or []:
                classification(nested, depth + 2, out, False)

    tools: list[dict] = []
    for tool in tree.get("tools") or []:
        tools.append(
            {
                "depth": 0,
                "kind": "tool",
                "name": tool["name"],
                "type": tool["tool"],
                "type_label": TOOL_TYPES.get(tool["tool"], tool["tool"]),
                "color": tool.get("color"),
                "required": tool.get("required"),
                "schema_id": tool["featureSchemaId"],
            }
        )
        for c in tool.get("classifications") or []:
            classification(c, 1, tools, False)
    classifications: list[dict] = []
    for c in tree.get("classifications") or []:
        classification(c, 0, classifications, True)
    return tools, classifications


def _places(tree: dict) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Choices for the editor: where a classification may go, which questions take answers."""
    parents: list[tuple[str, str]] = []
    questions: list[tuple[str, str]] = []

    def classification(c: dict, trail: str) -> None:
        here = f"{trail} › {c['name']}" if trail else c["name"]
        if c["type"] in {"radio", "checklist"}:
            questions.append((c["featureSchemaId"], here))
        for option in c.get("options") or []:
            at = f"{here} › {option['label']}"
            parents.append((option["featureSchemaId"], f"Under answer {at}"))
            for nested in option.get("options") or []:
                classification(nested, at)

    for tool in tree.get("tools") or []:
        parents.append((tool["featureSchemaId"], f"Under tool {tool['name']}"))
    for tool in tree.get("tools") or []:
        for c in tool.get("classifications") or []:
            classification(c, tool["name"])
    for c in tree.get("classifications") or []:
        classification(c, "")
    return parents, questions


def _locate(tree: dict, schema_id: str) -> tuple[list, int, dict, str] | None:
    """Find a feature: (the list holding it, its index, the feature, its path)."""

    def classification(items: list, trail: str):
        for i, c in enumerate(items):
            here = f"{trail}[{i}]"
            if c.get("featureSchemaId") == schema_id:
                return items, i, c, here
            for j, option in enumerate(c.get("options") or []):
                at = f"{here}.options[{j}]"
                if option.get("featureSchemaId") == schema_id:
                    return c["options"], j, option, at
                found = classification(option.get("options") or [], f"{at}.options")
                if found:
                    return found
        return None

    for i, tool in enumerate(tree.get("tools") or []):
        if tool.get("featureSchemaId") == schema_id:
            return tree["tools"], i, tool, f"tools[{i}]"
        found = classification(tool.get("classifications") or [], f"tools[{i}].classifications")
        if found:
            return found
    return classification(tree.get("classifications") or [], "classifications")


class _OntologyPage(ConsoleView, View):
    required_permissions = {"GET": Permission.VIEW_WORKSPACE, "POST": Permission.VIEW_WORKSPACE}
    write_permission = Permission.CREATE_PROJECTS

    def can_edit(self, request) -> bool:
        return can(request.user, Permission.CREATE_PROJECTS, self.workspace)

    def _ontology(self, id: Any):
        return access_ontology(workspace=self.workspace, id=id)


class OntologiesView(_OntologyPage):
    """Ontologies of the workspace; create one (empty, or from pasted Labelbox JSON)."""

    def get(self, request, form=None):
        return render(
            request,
            "projects/ontologies/list.html",
            {
                "ontologies": ontology_list(workspace=self.workspace).order_by("name"),
                "can_edit": self.can_edit(request),
                "form": form or OntologyCreateForm(),
            },
        )

    def post(self, request):
        if not self.can_edit(request):
            return _forbidden(request)
        form = OntologyCreateForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form)
        try:
            ontology = services.ontology_create(
                workspace=self.workspace, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            _show_problems(form, exc)
            return self.get(request, form=form)
        messages.success(request, f"Ontology {ontology.name} created.")
        return redirect("console:ontology", id=ontology.pk)


class OntologyDetailView(_OntologyPage):
    """The form editor: details, the feature tree with removal, adding tools/questions/answers."""

    def _render(self, request, ontology, **forms):
        tree = ontology.normalized or {}
        tools, classifications = _rows(tree)
        parents, questions = _places(tree)
        used = {t.get("color") for t in tree.get("tools") or []}
        labeled = ontology_labeled_projects(ontology=ontology)
        colour = next((c for c in PALETTE if c not in used), PALETTE[0])
        context = {
            "ontology": ontology,
            "tab": "editor",
            "tools": tools,
            "classifications": classifications,
            "projects": list(ontology_projects(ontology=ontology)),
            "labeled_projects": labeled,
            "has_labels": bool(labeled),
            "can_edit": self.can_edit(request),
            "details_form": forms.get("details_form")
            or OntologyForm(
                initial={
                    "name": ontology.name,
                    "description": ontology.description,
                    "media_type": ontology.media_type,
                }
            ),
            "tool_form": forms.get("tool_form") or ToolForm(initial={"color": colour}),
            "classification_form": forms.get("classification_form")
            or ClassificationForm(parents=parents),
            "option_form": forms.get("option_form") or OptionForm(questions=questions),
        }
        return render(request, "projects/ontologies/detail.html", context)

    def get(self, request, id):
        try:
            return self._render(request, self._ontology(id))
        except NotFound:
            return _not_found(request)

    def post(self, request, id):
        try:
            ontology = self._ontology(id)
        except NotFound:
            return _not_found(request)
        if not self.can_edit(request):
            return _forbidden(request)
        action = request.POST.get("action")
        handler = {
            "details": self._details,
            "add_tool": self._add_tool,
            "add_classification": self._add_classification,
            "add_option": self._add_option,
            "remove": self._remove,
            "delete": self._delete,
        }.get(action)
        if handler is None:
            messages.error(request, "Unknown action.")
            return redirect("console:ontology", id=ontology.pk)
        return handler(request, ontology)

    def _save(self, request, ontology, tree=None, **fields) -> None:
        # Additions and removals apply to the tree read by this request; the version makes
        # sure nobody saved in between.
        services.ontology_update(
            workspace=self.workspace,
            actor=request.user,
            ontology=ontology,
            tree=tree,
            version=ontology_version(ontology),
            **fields,
        )

    def _details(self, request, ontology):
        form = OntologyForm(request.POST)
        if form.is_valid():
            try:
                self._save(request, ontology, **form.cleaned_data)
                messages.success(request, "Ontology saved.")
                return redirect("console:ontology", id=ontology.pk)
            except ApplicationError as exc:
                _show_problems(form, exc)
        return self._render(request, ontology, details_form=form)

    def _add_tool(self, request, ontology):
        form = ToolForm(request.POST)
        if form.is_valid():
            tree = copy.deepcopy(ontology.normalized) or {"tools": [], "classifications": []}
            tools = tree.setdefault("tools", [])
            d = form.cleaned_data
            tools.append(
                {
                    "tool": d["tool"],
                    "name": d["name"],
                    "color": d["color"],
                    "required": d["required"],
                    "classifications": [],
                }
            )
            try:
                self._save(request, ontology, tree)
                messages.success(request, f"Tool {d['name']} added.")
                return redirect("console:ontology", id=ontology.pk)
            except ApplicationError as exc:
                _show_problems(form, exc, prefix=f"tools[{len(tools) - 1}]")
        return self._render(request, ontology, tool_form=form)

    def _add_classification(self, request, ontology):
        tree = copy.deepcopy(ontology.normalized) or {"tools": [], "classifications": []}
        parents, _ = _places(tree)
        form = ClassificationForm(request.POST, parents=parents)
        if form.is_valid():
            d = form.cleaned_data
            new = {
                "type": d["type"],
                "name": d["name"],
                "required": d["required"],
                "options": [{"value": v} for v in d["options"]] if d["type"] != "text" else [],
            }
            if d["parent"]:
                holder, _, parent, where = _locate(tree, d["parent"])
                key = "classifications" if "tool" in parent else "options"
                items = parent.setdefault(key, [])
                prefix = f"{where}.{key}[{len(items)}]"
            else:
                new["scope"] = d["scope"]
                items = tree.setdefault("classifications", [])
                prefix = f"classifications[{len(items)}]"
            items.append(new)
            try:
                self._save(request, ontology, tree)
                messages.success(request, f"Classification {d['name']} added.")
                return redirect("console:ontology", id=ontology.pk)
            except ApplicationError as exc:
                _show_problems(form, exc, prefix=prefix)
        return self._render(request, ontology, classification_form=form)

    def _add_option(self, request, ontology):
        tree = copy.deepcopy(ontology.normalized) or {"tools": [], "classifications": []}
        _, questions = _places(tree)
        form = OptionForm(request.POST, questions=questions)
        if form.is_valid():
            _, _, question, where = _locate(tree, form.cleaned_data["classification"])
            options = question.setdefault("options", [])
            options.append({"value": form.cleaned_data["value"]})
            try:
                self._save(request, ontology, tree)
                messages.success(request, f"Answer {form.cleaned_data['value']} added.")
                return redirect("console:ontology", id=ontology.pk)
            except ApplicationError as exc:
                _show_problems(form, exc, prefix=f"{where}.options[{len(options) - 1}]")
        return self._render(request, ontology, option_form=form)

    def _remove(self, request, ontology):
        tree = copy.deepcopy(ontology.normalized) or {}
        found = _locate(tree, request.POST.get("feature") or "")
        if found is None:
            messages.error(request, "That feature is no longer in the ontology.")
            return redirect("console:ontology", id=ontology.pk)
        items, index, feature, _ = found
        items.pop(index)
        name = feature.get("name") or feature.get("label")
        try:
            self._save(request, ontology, tree)
            messages.success(request, f"{name} removed.")
        except ApplicationError as exc:
            flash_error(request, exc)
        return redirect("console:ontology", id=ontology.pk)

    def _delete(self, request, ontology):
        try:
            services.ontology_delete(
                workspace=self.workspace, actor=request.user, ontology=ontology
            )
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("console:ontology", id=ontology.pk)
        messages.success(request, f"Ontology {ontology.name} deleted.")
        return redirect("console:ontologies")


class OntologyJsonView(_OntologyPage):
    """The ontology as Labelbox JSON: read, download, replace (problems listed with paths)."""

    def _render(self, request, ontology, form=None, problems=None):
        return render(
            request,
            "projects/ontologies/json.html",
            {
                "ontology": ontology,
                "tab": "json",
                "can_edit": self.can_edit(request),
                "form": form
                or OntologyJsonForm(
                    initial={
                        "ontology": ontology_json_text(ontology.normalized),
                        "version": ontology_version(ontology),
                    }
                ),
                "problems": problems or [],
            },
        )

    def get(self, request, id):
        try:
            ontology = self._ontology(id)
        except NotFound:
            return _not_found(request)
        if request.GET.get("download"):
            response = HttpResponse(
                ontology_json_text(ontology.normalized), content_type="application/json"
            )
            response["Content-Disposition"] = f'attachment; filename="ontology-{ontology.pk}.json"'
            return response
        return self._render(request, ontology)

    def post(self, request, id):
        try:
            ontology = self._ontology(id)
        except NotFound:
            return _not_found(request)
        if not self.can_edit(request):
            return _forbidden(request)
        form = OntologyJsonForm(request.POST)
        if not form.is_valid():
            return self._render(request, ontology, form=form)
        try:
            services.ontology_update(
                workspace=self.workspace,
                actor=request.user,
                ontology=ontology,
                tree=form.cleaned_data["ontology"],
                version=form.cleaned_data["version"] or None,
            )
        except ApplicationError as exc:
            problems = (exc.details or {}).get("ontology") or [exc.message]
            return self._render(request, ontology, form=form, problems=problems)
        messages.success(request, "Ontology saved from JSON.")
        return redirect("console:ontology-json", id=ontology.pk)


urlpatterns = [
    path("ontologies/", OntologiesView.as_view(), name="ontologies"),
    path("ontologies/<str:id>/", OntologyDetailView.as_view(), name="ontology"),
    path("ontologies/<str:id>/json/", OntologyJsonView.as_view(), name="ontology-json"),
]
