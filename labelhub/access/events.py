"""Live events about memberships (JSON-safe dicts; a test round-trips each builder)."""

from __future__ import annotations

from typing import Any

from labelhub.access.selectors import role_ref_of
from labelhub.workspaces.models import Membership, Workspace


def role_changed(*, workspace: Workspace, membership: Membership) -> dict[str, Any]:
    """Tell a member their role changed."""
    ref = role_ref_of(membership)
    label = ref.label
    return {
        "type": "membership.role_changed",
        "workspace": str(workspace.pk),
        "role": ref.key,
        "role_label": label,
        "message": f"Your role in {workspace.name} is now {label}.",
    }


def membership_removed(*, workspace: Workspace) -> dict[str, Any]:
    """Tell a former member they were removed."""
    return {
        "type": "membership.removed",
        "workspace": str(workspace.pk),
        "message": f"You were removed from {workspace.name}.",
    }
