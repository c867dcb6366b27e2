"""Access's answers to the hooks lower layers offer (registered in ``apps.py``)."""

from __future__ import annotations

from typing import Any

from labelhub.access.authz import can
from labelhub.access.models import ApiKey
from labelhub.access.permissions import Permission
from labelhub.core.ids import parse_id
from labelhub.workspaces.models import Workspace


def api_key_identity(key: ApiKey) -> tuple[Any, str]:
    """An API key acts as its owner; history names both."""
    return key.owner, f"{key.owner.email} (API key {key.prefix})"


def may_join_workspace(user: Any, raw_id: str) -> bool:
    """Members of a workspace may follow its live group."""
    workspace = Workspace.objects.filter(pk=parse_id(raw_id)).first()
    return workspace is not None and can(user, Permission.VIEW_WORKSPACE, workspace)
