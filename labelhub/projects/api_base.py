"""The base of project API endpoints (``projects/<project_id>/…``), for every app that
adds some (projects, labeling, imports)."""

from __future__ import annotations

from typing import Any, ClassVar

from labelhub.access.api_base import WorkspaceScopedView
from labelhub.core.errors import NotFound
from labelhub.core.ids import parse_id
from labelhub.projects.models import Project
from labelhub.projects.selectors.projects import access_project


class ProjectScopedView(WorkspaceScopedView):
    """Permissions are checked on the project of the URL (grants included), found with
    ``access_project``: one the actor may not view answers 404 like a missing one. Every
    queryset is limited to the project; ``self.project`` is set."""

    project_url_kwarg: ClassVar[str] = "project_id"

    def resolve_target(self, kwargs: dict[str, Any]) -> Any:
        """The project, looked up inside the workspace (another workspace's is audited)."""
        raw = kwargs.get(self.project_url_kwarg)
        try:
            self.project = access_project(workspace=self.workspace, actor=self.actor, id=raw)
        except NotFound:
            self.audit_if_foreign(parse_id(raw), model=Project)
            raise
        return self.project

    def target_filters(self) -> dict[str, Any]:
        """Only the project's objects."""
        return {"project": self.project}
