"""Background jobs of the access app: invitation e-mails and their expiry."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail
from django.template.loader import render_to_string

from labelhub.access.models import Invitation
from labelhub.access.selectors import invitation_accept_url
from labelhub.access.services.maintenance import invitations_expire


# The names keep their first app's prefix: queued messages and beat schedules name them.
@shared_task(
    name="accounts.send_invitation_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=8,
)
def send_invitation_email_task(
    *, workspace_id: str, invitation_id: str, token: str, **kwargs
) -> bool:
    """E-mail the invitation link; skip quietly if it was revoked or accepted meanwhile."""
    inv = (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(pk=invitation_id, workspace_id=workspace_id, status=Invitation.Status.PENDING)
        .first()
    )
    if inv is None:
        return False
    ctx = {"invitation": inv, "url": invitation_accept_url(token), "workspace": inv.workspace}
    send_mail(
        subject=f"You are invited to {inv.workspace.name} on LabelHub",
        message=render_to_string("accounts/email/invitation.txt", ctx),
        html_message=render_to_string("accounts/email/invitation.html", ctx),
        from_email=None,
        recipient_list=[inv.email],
    )
    return True


@shared_task(name="accounts.expire_invitations")
def expire_invitations_task(**kwargs) -> int:
    """Periodic: close invitations past their expiry."""
    return invitations_expire()
