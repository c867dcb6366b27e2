"""Live events of the notification center (JSON-safe dicts; a test round-trips each)."""

from __future__ import annotations

from typing import Any

from labelhub.notifications.links import safe_link
from labelhub.notifications.models import Notification


def notification_created(entry: Notification, *, unread: int) -> dict[str, Any]:
    """A new (or refreshed) entry for the user's open pages: the toast and the badge."""
    return {
        "type": "notification.created",
        "id": str(entry.pk),
        "kind": entry.kind,
        "title": entry.title,
        "body": entry.body,
        # The toast renders it as a link: only a path on this site.
        "url": safe_link(entry.url),
        "unread": unread,
    }


def notification_read(*, unread: int) -> dict[str, Any]:
    """Entries were marked read: the badge's new count."""
    return {"type": "notification.read", "unread": unread}
