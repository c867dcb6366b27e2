"""Writes of the notification center: entries are created by other apps' services."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from labelhub.core.ids import parse_id
from labelhub.core.jobs import JobEnd
from labelhub.core.live import send_event_on_commit, user_group
from labelhub.notifications import events
from labelhub.notifications.models import Notification
from labelhub.notifications.selectors import unread_count


def notification_create(
    *,
    user_id: Any,
    workspace_id: Any,
    kind: str,
    subject: str,
    title: str,
    body: str = "",
    url: str = "",
) -> Notification:
    """Create (or refresh, unread again) the user's entry about ``subject``; the user's
    open pages get a live ``notification.created`` event after commit."""
    with transaction.atomic():
        entry, _ = Notification.objects.update_or_create(
            user_id=user_id,
            kind=kind,
            subject=subject,
            defaults={
                "workspace_id": workspace_id,
                "title": title[:300],
                "body": body,
                "url": url,
                "read_at": None,
                "created_at": timezone.now(),
            },
        )
        unread = Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()
        event = events.notification_created(entry, unread=unread)
        send_event_on_commit(event, [user_group(user_id)])
    return entry


def notify_job_end(end: JobEnd) -> Notification:
    """The job owner's entry about a background job that ended (finished or failed)."""
    return notification_create(
        user_id=end.user_id,
        workspace_id=end.workspace_id,
        kind=end.kind,
        subject=end.subject,
        title=end.title,
        body=end.body,
        url=end.url,
    )


def notification_mark_read(*, user: Any, ids: list[Any] | None = None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None); returns how
    many changed. Other users' ids and malformed ids are ignored."""
    with transaction.atomic():
        entries = Notification.objects.filter(user=user, read_at__isnull=True)
        if ids is not None:
            # Malformed ids come from form input; they match nothing rather than erroring.
            entries = entries.filter(pk__in=[pk for pk in map(parse_id, ids) if pk is not None])
        changed = entries.update(read_at=timezone.now())
        if changed:
            event = events.notification_read(unread=unread_count(user))
            send_event_on_commit(event, [user_group(user.pk)])
    return changed
