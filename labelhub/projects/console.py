"""The base of a project's console pages (its tabs), shared by the apps that add tabs to
a project (labeling's overview, batches and data rows; imports' "Import labels"): the
project is found with ``access_project`` (a hidden or missing one answers 404), and
``required_permissions`` are checked on it."""

from __future__ import annotations

from typing import Any, ClassVar

from django.shortcuts import render

from labelhub.access.authz import project_permissions_for
from labelhub.access.console import ConsoleView
from labelhub.access.permissions import Permission
from labelhub.projects.selectors.projects import access_project


class ProjectPage(ConsoleView):
    """A page of one project (``project_id`` in the URL)."""

    required_permissions: ClassVar[dict[str, Permission | None]] = {
        "GET": Permission.VIEW_PROJECT,
        "POST": Permission.VIEW_PROJECT,
    }
    tab = "overview"

    def resolve_target(self, kwargs: dict[str, Any]) -> Any:
        """The project of the URL, with what the visitor may do there."""
        self.project = access_project(
            workspace=self.workspace, actor=self.request.user, id=kwargs.get("project_id")
        )
        self.perms = project_permissions_for(self.request.user, self.project)
        return self.project

    def page(self, request, template, context, status=200):
        """Render a tab with the project, the visitor's permissions and the tab's name."""
        ctx = {
            "project": self.project,
            "perms": {p.value for p in self.perms},
            "tab": self.tab,
            **context,
        }
        return render(request, template, ctx, status=status)
