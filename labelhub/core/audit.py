"""Writing the audit log; every service that changes access state calls ``audit_record``."""

from __future__ import annotations

from typing import Any

from labelhub.core.context import current_ip
from labelhub.core.models import AuditLogEntry


def actor_identity(actor: Any) -> tuple[Any, str]:
    """The user behind an actor (an API key's owner) and how history should name it."""
    from labelhub.accounts.models import ApiKey

    if isinstance(actor, ApiKey):
        return actor.owner, f"{actor.owner.email} (API key {actor.prefix})"
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor, actor.email
    return None, "system"


def audit_record(
    *,
    workspace: Any,
    actor: Any,
    verb: str,
    target: Any = None,
    target_type: str = "",
    before: dict | None = None,
    after: dict | None = None,
    ip_address: str | None = None,
) -> AuditLogEntry:
    """Write one audit row inside the caller's transaction."""
    user, label = actor_identity(actor)
    return AuditLogEntry.objects.create(
        workspace=workspace,
        actor=user,
        actor_label=label,
        verb=verb,
        target_type=target_type or (target._meta.model_name if target is not None else ""),
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:254] if target is not None else "",
        before=before,
        after=after,
        ip_address=ip_address or current_ip.get(),
    )
