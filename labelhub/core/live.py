"""Live events: group names and the one way services send them (after commit)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import OperationalError, transaction

from labelhub.core.errors import ApplicationError

logger = logging.getLogger(__name__)


def user_group(user_id: Any) -> str:
    """Group every socket of one user joins."""
    return f"user.{user_id}"


def workspace_group(workspace_id: Any) -> str:
    """Group for events everyone in a workspace may see."""
    return f"workspace.{workspace_id}"


def project_group(project_id: Any) -> str:
    """Group for a project's live state (members who may view the project)."""
    return f"project.{project_id}"


def send_event_now(event: dict[str, Any], recipients: Iterable[str]) -> None:
    """Push an event to groups immediately; delivery is at-most-once.

    A socket in several of the groups (the importer's own and the project's) would get it
    once per group: every group's copy carries the same delivery id, and the socket passes
    an id on once (``LiveConsumer.live_event``).
    """
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "live.event", "event": event, "delivery": uuid.uuid4().hex}
    for group in recipients:
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:  # noqa: BLE001 - a lost live event must never fail the write
            logger.warning(
                "live event %s to %s not delivered", event.get("type"), group, exc_info=True
            )


def send_event_on_commit(event: dict[str, Any], recipients: Iterable[str]) -> None:
    """Push an event once the surrounding transaction commits (never on rollback)."""
    groups = list(recipients)
    transaction.on_commit(lambda: send_event_now(event, groups))


#: group kind ("workspace", "project") -> who may join such a group; apps register theirs
_AUTHORISERS: dict[str, Callable[[Any, str], bool]] = {}


def register_channel_authoriser(kind: str, authoriser: Callable[[Any, str], bool]) -> None:
    """Say who may join ``<kind>.<id>`` groups: ``authoriser(user, id) -> bool``."""
    _AUTHORISERS[kind] = authoriser


def may_subscribe(user: Any, group: str) -> bool:
    """Decide whether a user's socket may join a group (the websocket's authorization).

    ``user.<id>`` is the user's own; other kinds ask the app that registered them (an
    unknown kind is refused).
    """
    kind, _, raw_id = group.partition(".")
    if kind == "user":
        return str(user.pk) == raw_id
    authoriser = _AUTHORISERS.get(kind)
    return authoriser is not None and authoriser(user, raw_id)


#: client message type -> ``handler(user, content, state) -> reply or None``; ``state`` is
#: the socket's own dict (what the handler must undo when the socket closes)
_HANDLERS: dict[str, Callable[[Any, dict[str, Any], dict[str, Any]], Any]] = {}
_CLOSERS: list[Callable[[Any, dict[str, Any]], None]] = []


def register_message_handler(
    kind: str, handler: Callable[[Any, dict[str, Any], dict[str, Any]], Any]
) -> None:
    """Let an app answer a client message type on the live socket (e.g. ``timer.beat``)."""
    _HANDLERS[kind] = handler


def register_close_handler(handler: Callable[[Any, dict[str, Any]], None]) -> None:
    """Let an app hear that a socket closed: ``handler(user, state)``."""
    if handler not in _CLOSERS:
        _CLOSERS.append(handler)


def has_handler(kind: Any) -> bool:
    """Whether some app answers this client message type."""
    return isinstance(kind, str) and kind in _HANDLERS


def handle_message(user: Any, content: dict[str, Any], state: dict[str, Any]) -> Any:
    """Run the app's handler (synchronous: it may use the database); application errors
    become an ``error`` reply, never a dropped socket."""
    try:
        return _HANDLERS[content["type"]](user, content, state)
    except ApplicationError as exc:
        return {"type": "error", "code": exc.code, "message": exc.message, "of": content["type"]}


#: a close handler that meets a locked database tries again this many times (SQLite's
#: shared-cache tables answer "locked" at once instead of waiting)
CLOSE_ATTEMPTS = 5


def socket_closed(user: Any, state: dict[str, Any]) -> None:
    """Tell every close handler; one failing must not stop the others. A locked
    database is waited for (a closing socket's timer must still stop)."""
    for handler in _CLOSERS:
        for attempt in range(CLOSE_ATTEMPTS):
            try:
                handler(user, state)
                break
            except OperationalError as exc:
                if "locked" not in str(exc) or attempt == CLOSE_ATTEMPTS - 1:
                    logger.warning("live close handler %s failed", handler, exc_info=True)
                    break
                time.sleep(0.05 * (attempt + 1))
            except Exception:  # noqa: BLE001 - a close handler's failure is logged, not raised
                logger.warning("live close handler %s failed", handler, exc_info=True)
                break
