"""Periodic writes: closing invitations whose time is up."""

from __future__ import annotations

from django.utils import timezone

from labelhub.access.models import Invitation


def invitations_expire() -> int:
    """Mark every pending invitation past its expiry as expired; return how many."""
    now = timezone.now()
    return Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__lte=now).update(
        status=Invitation.Status.EXPIRED, closed_at=now
    )
