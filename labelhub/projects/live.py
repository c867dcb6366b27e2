"""Who may follow a project's live group (registered with ``core.live`` in ``apps.py``)."""

from __future__ import annotations

from typing import Any

from labelhub.core.errors import NotFound
from labelhub.core.ids import parse_id
from labelhub.projects.models import Project
from labelhub.projects.selectors.projects import access_project


def may_join_project(user: Any, raw_id: str) -> bool:
    """Whoever ``access_project`` lets view the project."""
    project = Project.objects.filter(pk=parse_id(raw_id)).select_related("workspace").first()
    if project is None:
        return False
    try:
        access_project(workspace=project.workspace, actor=user, id=project.pk)
    except NotFound:
        return False
    return True
