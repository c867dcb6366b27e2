"""Reads of the notification center."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from labelhub.notifications.models import Notification


def notification_list(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    entries = Notification.objects.filter(user=user)
    return entries.filter(read_at__isnull=True) if unread_only else entries


def unread_count(user: Any) -> int:
    """How many of the user's notifications are unread."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
