"""Writing the audit log; every service that changes access state calls ``audit_record``."""

from __future__ import annotations

from typing import Any

from labelhub.core.context import current_ip
from labelhub.core.models import AuditLogEntry


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
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditLogEntry.objects.create(
        workspace=workspace,
        actor=actor if is_user else None,
        actor_label=(actor.email if is_user else "system"),
        verb=verb,
        target_type=target_type or (target._meta.model_name if target is not None else ""),
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:254] if target is not None else "",
        before=before,
        after=after,
        ip_address=ip_address or current_ip.get(),
    )
