"""Console pages: project list (tags, search, sort, manage tags), create, members,
settings (basic, quality, advanced, instructions, duplicate, delete)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views import View

from labelhub.access import services as access_services
from labelhub.access.authz import can
from labelhub.access.console import ConsoleView
from labelhub.access.models import Group, ProjectGrant
from labelhub.access.permissions import Permission, Scope
from labelhub.access.selectors import group_list, role_choices, role_ref_of
from labelhub.core.errors import ApplicationError, NotFound
from labelhub.core.ids import parse_id
from labelhub.core.views import apply_error_to_form, flash_error
from labelhub.projects.console import ProjectPage
from labelhub.projects.forms.projects import (
    InstructionsForm,
    ProjectBasicForm,
    ProjectCreateForm,
    ProjectSettingsForm,
)
from labelhub.projects.models import Ontology, Project
from labelhub.projects.selectors import projects as selectors
from labelhub.projects.serializers.projects import settings_payload
from labelhub.projects.services import projects as services
from labelhub.workspaces.selectors import member_list


class ProjectListView(ConsoleView, View):
    """Projects the user may see, with tag filters, search, sort; create; manage tags."""

    def _forms(self, form=None):
        ontologies = Ontology.objects.filter(workspace=self.workspace).order_by("name")
        tags = selectors.tag_list(workspace=self.workspace)
        return form or ProjectCreateForm(ontologies=ontologies, tags=tags), tags

    def get(self, request, form=None):
        chosen = request.GET.getlist("tag")
        sort = request.GET.get("sort", "name")
        try:
            projects = selectors.project_list(
                actor=request.user,
                workspace=self.workspace,
                tags=chosen,
                search=request.GET.get("search", ""),
                sort=sort if sort in selectors.SORTS else "name",
            ).select_related("ontology")
        except ApplicationError as exc:
            flash_error(request, exc)
            projects = Project.objects.none()
        form, tags = self._forms(form)
        return render(
            request,
            "projects/list.html",
            {
                "projects": projects,
                "tags": tags,
                "chosen_tags": chosen,
                "search": request.GET.get("search", ""),
                # "No projects match." only under a filter; else the page explains itself
                "filtered": bool(chosen or request.GET.get("search", "").strip()),
                "sort": sort,
                "form": form,
                "can_create": can(request.user, Permission.CREATE_PROJECTS, self.workspace),
            },
        )

    def post(self, request):
        action = request.POST.get("action")
        try:
            if action == "tag_create":
                services.tag_create(
                    workspace=self.workspace,
                    actor=request.user,
                    name=request.POST.get("name", ""),
                    colour=request.POST.get("colour") or "#868E96",
                )
                messages.success(request, "Tag created.")
            elif action in {"tag_rename", "tag_delete"}:
                tag = selectors.access_tag(workspace=self.workspace, id=request.POST.get("tag"))
                if action == "tag_rename":
                    services.tag_update(
                        workspace=self.workspace,
                        actor=request.user,
                        tag=tag,
                        name=request.POST.get("name", ""),
                    )
                    messages.success(request, f"Tag renamed to {tag.name} everywhere.")
                else:
                    services.tag_delete(workspace=self.workspace, actor=request.user, tag=tag)
                    messages.success(request, f"Tag {tag.name} deleted from every project.")
            else:
                form, _ = self._forms(
                    ProjectCreateForm(
                        request.POST,
                        ontologies=Ontology.objects.filter(workspace=self.workspace),
                        tags=selectors.tag_list(workspace=self.workspace),
                    )
                )
                if not form.is_valid():
                    return self.get(request, form=form)
                try:
                    project = services.project_create(
                        workspace=self.workspace, actor=request.user, **form.cleaned_data
                    )
                except ApplicationError as exc:
                    apply_error_to_form(form, exc)
                    return self.get(request, form=form)
                messages.success(request, f"Project {project.name} created.")
                return redirect("console:project", project_id=project.pk)
        except ApplicationError as exc:
            flash_error(request, exc)
        return redirect("console:projects")


class ProjectMembersView(ProjectPage, View):
    tab = "members"

    def get(self, request, project_id):
        grants = (
            ProjectGrant.objects.filter(project=self.project)
            .select_related("user", "group", "custom_role")
            .order_by("created_at")
        )
        rows = [
            {
                "grant": g,
                "who": g.user.email if g.user_id else g.group.name,
                "kind": "member" if g.user_id else "group",
                "role": role_ref_of(g),
            }
            for g in grants
        ]
        return self.page(
            request,
            "projects/members.html",
            {
                "rows": rows,
                "roles": role_choices(workspace=self.workspace, scope=Scope.PROJECT),
                "members": [m.user for m in member_list(workspace=self.workspace)],
                "groups": group_list(workspace=self.workspace),
                "can_manage": Permission.MANAGE_PROJECT_MEMBERS in self.perms,
            },
        )

    def post(self, request, project_id):
        action = request.POST.get("action")
        try:
            if action == "remove":
                grant = ProjectGrant.objects.filter(
                    project=self.project, pk=parse_id(request.POST.get("grant"))
                ).first()
                if grant is None:
                    raise NotFound("Member not found.")
                access_services.project_grant_remove(
                    workspace=self.workspace, actor=request.user, grant=grant
                )
                messages.success(request, "Removed from the project.")
            else:
                who = request.POST.get("who", "")
                kind, _, raw = who.partition(":")
                group = (
                    Group.objects.filter(workspace=self.workspace, pk=parse_id(raw)).first()
                    if kind == "group"
                    else None
                )
                if kind == "group" and group is None:
                    raise NotFound("Group not found.")
                access_services.project_grant_set(
                    workspace=self.workspace,
                    actor=request.user,
                    project=self.project,
                    user_id=raw if kind == "user" else None,
                    group=group,
                    role=request.POST.get("role") or None,
                )
                messages.success(request, "Project role saved.")
        except ApplicationError as exc:
            flash_error(request, exc)
        return redirect("console:project-members", project_id=self.project.pk)


class ProjectSettingsView(ProjectPage, View):
    tab = "settings"
    required_permissions = {
        "GET": Permission.MANAGE_PROJECT_SETTINGS,
        "POST": Permission.MANAGE_PROJECT_SETTINGS,
    }

    def _basic(self, data=None):
        ontologies = Ontology.objects.filter(workspace=self.workspace).order_by("name")
        tags = selectors.tag_list(workspace=self.workspace)
        initial = {
            "name": self.project.name,
            "description": self.project.description,
            "ontology": str(self.project.ontology_id or ""),
            "tags": [str(t.pk) for t in self.project.tags.all()],
        }
        return ProjectBasicForm(data, initial=initial, ontologies=ontologies, tags=tags)

    def _settings(self, data=None):
        return ProjectSettingsForm(data, initial=settings_payload(self.project))

    def _instructions(self, data=None, files=None):
        p = self.project
        initial = {
            "kind": p.instructions_kind,
            "text": p.instructions_text,
            "url": p.instructions_url,
            "enforce_instructions": p.enforce_instructions,
        }
        return InstructionsForm(data, files, initial=initial)

    def render_page(self, request, **forms):
        return self.page(
            request,
            "projects/settings.html",
            {
                "basic": forms.get("basic") or self._basic(),
                "settings": forms.get("settings") or self._settings(),
                "instructions": forms.get("instructions") or self._instructions(),
                "delete_error": forms.get("delete_error"),
                "has_labels": services.project_has_labels(self.project),
            },
        )

    def get(self, request, project_id):
        return self.render_page(request)

    def post(self, request, project_id):
        action = request.POST.get("action")
        p = self.project
        try:
            if action == "basic":
                form = self._basic(request.POST)
                if not form.is_valid():
                    return self.render_page(request, basic=form)
                try:
                    services.project_update(project=p, actor=request.user, **form.cleaned_data)
                except ApplicationError as exc:
                    apply_error_to_form(form, exc)
                    return self.render_page(request, basic=form)
            elif action == "settings":
                form = self._settings(request.POST)
                if not form.is_valid():
                    return self.render_page(request, settings=form)
                try:
                    services.project_settings_update(
                        project=p, actor=request.user, **form.cleaned_data
                    )
                except ApplicationError as exc:
                    apply_error_to_form(form, exc)
                    return self.render_page(request, settings=form)
            elif action == "instructions":
                form = self._instructions(request.POST, request.FILES)
                if not form.is_valid():
                    return self.render_page(request, instructions=form)
                d = form.cleaned_data
                try:
                    services.instructions_update(
                        project=p,
                        actor=request.user,
                        kind=d["kind"],
                        text=d["text"],
                        url=d["url"],
                        file=d["file"],
                    )
                    services.project_settings_update(
                        project=p,
                        actor=request.user,
                        enforce_instructions=d["enforce_instructions"],
                    )
                except ApplicationError as exc:
                    apply_error_to_form(form, exc)
                    return self.render_page(request, instructions=form)
            elif action == "duplicate":
                copy = services.project_duplicate(project=p, actor=request.user)
                messages.success(request, f"Created {copy.name}.")
                return redirect("console:project", project_id=copy.pk)
            elif action == "delete":
                try:
                    done = services.project_delete(
                        project=p, actor=request.user, confirm=request.POST.get("confirm", "")
                    )
                except ApplicationError as exc:
                    return self.render_page(request, delete_error=exc.message)
                messages.success(
                    request,
                    f"Project {p.name} deleted."
                    if done
                    else f"Project {p.name} is being deleted in the background.",
                )
                return redirect("console:projects")
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("console:project-settings", project_id=p.pk)
        messages.success(request, "Saved.")
        return redirect("console:project-settings", project_id=p.pk)


class InstructionsFileView(ProjectPage, View):
    """Serve the uploaded instructions file to those who may view the project."""

    def get(self, request, project_id):
        from django.http import FileResponse

        f = self.project.instructions_file
        if not f or self.project.instructions_kind != Project.InstructionsKind.FILE:
            return render(
                request,
                "error.html",
                {"status": 404, "message": "No instructions file."},
                status=404,
            )
        response = FileResponse(f.open("rb"), filename=f.name.rsplit("/", 1)[-1])
        # An uploaded HTML file must not run scripts in our origin.
        response["Content-Security-Policy"] = "sandbox"
        response["X-Content-Type-Options"] = "nosniff"
        return response


urlpatterns = [
    path("projects/", ProjectListView.as_view(), name="projects"),
    path(
        "projects/<str:project_id>/instructions/file",
        InstructionsFileView.as_view(),
        name="project-instructions-file",
    ),
    path(
        "projects/<str:project_id>/members/", ProjectMembersView.as_view(), name="project-members"
    ),
    path(
        "projects/<str:project_id>/settings/",
        ProjectSettingsView.as_view(),
        name="project-settings",
    ),
]
