"""Writing the audit log; every service that changes access state calls ``audit_record``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labelhub.core.context import current_ip
from labelhub.core.models import AuditLogEntry
from labelhub.core.readable import readable_value

#: actor kinds other apps define (API keys: access), each turned into (user, label)
_ACTOR_FORMATTERS: list[tuple[type, Callable[[Any], tuple[Any, str]]]] = []


def register_actor_formatter(kind: type, formatter: Callable[[Any], tuple[Any, str]]) -> None:
    """Teach the audit log how to name an actor of ``kind`` (called in ``AppConfig.ready``)."""
    if (kind, formatter) not in _ACTOR_FORMATTERS:
        _ACTOR_FORMATTERS.append((kind, formatter))


def actor_identity(actor: Any) -> tuple[Any, str]:
    """The user behind an actor (an API key's owner) and how history should name it."""
    for kind, formatter in _ACTOR_FORMATTERS:
        if isinstance(actor, kind):
            return formatter(actor)
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


#: longest value the audit log shows of one field (the API has the whole record)
SHOWN_VALUE_LENGTH = 200


@dataclass(frozen=True)
class Change:
    """One field of an audit entry: ``kind`` is changed, set (new), removed or same."""

    field: str
    before: str
    after: str
    kind: str


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_VALUE_LENGTH else text[: SHOWN_VALUE_LENGTH - 1] + "…"


def audit_changes(before: Any, after: Any) -> list[Change]:
    """An entry's before/after as field lines, in the order the service wrote them."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    changes = []
    for key in dict.fromkeys([*before, *after]):
        name = str(key).replace("_", " ")
        if key not in before:
            changes.append(Change(name, "", _cut(readable_value(after[key])), "set"))
        elif key not in after:
            changes.append(Change(name, _cut(readable_value(before[key])), "", "removed"))
        else:
            kind = "same" if before[key] == after[key] else "changed"
            old, new = _cut(readable_value(before[key])), _cut(readable_value(after[key]))
            changes.append(Change(name, old, new, kind))
    return changes
