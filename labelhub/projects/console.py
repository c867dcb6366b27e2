"""The base of a project's console pages (its tabs), shared by the apps that add tabs to
a project (imports' "Import labels"): find the project in the workspace, answer 404 for
one the user may not view, guard the page with a project permission."""

from __future__ import annotations

from django.shortcuts import render

from labelhub.access.authz import can, project_permissions_for
from labelhub.access.permissions import Permission
from labelhub.core.errors import NotFound
from labelhub.core.ids import parse_id
from labelhub.core.views import ConsoleView
from labelhub.projects.models import Project


class ProjectPage(ConsoleView):
    """A page of one project: the project is found inside the workspace; one the user may
    not view answers 404 like a missing one; ``project_permission`` guards the page."""

    project_permission = Permission.VIEW_PROJECT
    tab = "overview"

    def dispatch(self, request, *args, **kwargs):
        self._project_id = kwargs.get("project_id")
        return super().dispatch(request, *args, **kwargs)

    def load_project(self, request):
        project = (
            Project.objects.select_related("ontology", "workspace")
            .filter(
                workspace=self.workspace,
                pk=parse_id(self._project_id),
                deleting_since__isnull=True,
            )
            .first()
        )
        if project is None or not can(request.user, Permission.VIEW_PROJECT, project):
            raise NotFound("Project not found.")
        if not can(request.user, self.project_permission, project):
            raise PermissionError
        self.project = project
        self.perms = project_permissions_for(request.user, project)
        return project

    def page(self, request, template, context, status=200):
        ctx = {
            "project": self.project,
            "perms": {p.value for p in self.perms},
            "tab": self.tab,
            **context,
        }
        return render(request, template, ctx, status=status)


def guarded(handler):
    """Turn NotFound/PermissionError from load_project into 404/403 pages."""

    def wrapper(self, request, *args, **kwargs):
        try:
            self.load_project(request)
        except NotFound:
            return render(
                request, "error.html", {"status": 404, "message": "Project not found."}, status=404
            )
        except PermissionError:
            return render(
                request,
                "error.html",
                {"status": 403, "message": "You do not have access to this page."},
                status=403,
            )
        return handler(self, request, *args, **kwargs)

    return wrapper
