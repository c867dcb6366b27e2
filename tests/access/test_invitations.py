"""Invitation and account rules."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from labelhub.access.models import Invitation, hash_token
from labelhub.access.services import invitations
from labelhub.access.tasks import expire_invitations_task
from labelhub.accounts.models import User
from labelhub.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Membership, Role
from tests.factories import PASSWORD, make_member, make_tenant_admin, make_user


@pytest.fixture
def invite(workspace, admin, django_capture_on_commit_callbacks):
    def make(email="new@alpha.test", role=Role.REVIEWER):
        with django_capture_on_commit_callbacks(execute=True):
            return invitations.invitation_create(
                workspace=workspace, actor=admin, email=email, role=role
            )

    return make


@pytest.mark.django_db
class TestInvitationCreate:
    def test_creates_pending_invitation_hashes_token_and_mails_link(self, workspace, admin, invite):
        inv, token = invite(email="  New@Alpha.TEST ")
        assert (inv.email, inv.role, inv.status) == ("new@alpha.test", "reviewer", "pending")
        assert inv.token_hash == hash_token(token) and token not in inv.token_hash
        assert Invitation.objects.filter(token_hash__contains=token).count() == 0
        assert timedelta(days=6, hours=23) < inv.expires_at - timezone.now() <= timedelta(days=7)
        assert len(mail.outbox) == 1
        msg = mail.outbox[0]
        assert msg.to == ["new@alpha.test"]
        assert msg.subject == "You are invited to Alpha on LabelHub"
        assert f"http://127.0.0.1:8000/invitations/{token}/" in msg.body
        assert msg.alternatives[0][1] == "text/html"
        row = AuditLogEntry.objects.get(verb="invitation.created")
        assert row.after == {
            "email": "new@alpha.test",
            "role": "reviewer",
            "role_label": "Reviewer",
        }

    def test_duplicate_pending_invitation_is_conflict(self, invite):
        invite()
        with pytest.raises(Conflict) as exc:
            invite(email="NEW@alpha.test")
        assert exc.value.details == {
            "email": ["A pending invitation for this e-mail already exists."]
        }
        assert Invitation.objects.count() == 1
        assert len(mail.outbox) == 1

    def test_existing_member_is_conflict(self, invite, labeler):
        with pytest.raises(Conflict) as exc:
            invite(email="labeler@alpha.test")
        assert exc.value.message == "This person is already a member of the workspace."
        assert Invitation.objects.count() == 0

    def test_expired_pending_invitation_does_not_block_a_new_one(self, invite):
        old, _ = invite()
        Invitation.objects.filter(pk=old.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        new, _ = invite()
        old.refresh_from_db()
        assert (old.status, new.status) == ("expired", "pending")

    @pytest.mark.parametrize(
        ("email", "role", "field"),
        [
            ("not-an-email", Role.LABELER, "email"),
            ("", Role.LABELER, "email"),
            ("x@y.test", "god", "role"),
        ],
    )
    def test_bad_input_is_field_error(self, workspace, admin, email, role, field):
        with pytest.raises(ValidationFailed) as exc:
            invitations.invitation_create(workspace=workspace, actor=admin, email=email, role=role)
        assert list(exc.value.details) == [field]
        assert Invitation.objects.count() == 0

    def test_labeler_cannot_invite(self, workspace, labeler):
        with pytest.raises(PermissionDenied):
            invitations.invitation_create(
                workspace=workspace, actor=labeler, email="x@y.test", role=Role.ADMIN
            )
        assert Invitation.objects.count() == 0

    def test_tenant_admin_invites_into_any_workspace_of_tenant(self, workspace):
        boss = make_tenant_admin(workspace.tenant)
        inv, _ = invitations.invitation_create(
            workspace=workspace, actor=boss, email="x@y.test", role=Role.LABELER
        )
        assert inv.workspace == workspace


@pytest.mark.django_db
class TestInvitationAccept:
    def test_new_person_creates_account_and_joins(self, workspace, invite):
        inv, token = invite()
        user, membership = invitations.invitation_accept(
            token=token, name="Nia New", password=PASSWORD
        )
        assert (user.email, user.name) == ("new@alpha.test", "Nia New")
        assert user.check_password(PASSWORD)
        assert (membership.workspace, membership.role) == (workspace, "reviewer")
        inv.refresh_from_db()
        assert (inv.status, inv.accepted_by) == ("accepted", user)
        assert list(
            AuditLogEntry.objects.filter(actor=user)
            .values_list("verb", flat=True)
            .order_by("created_at")
        ) == [
            "member.added",
            "invitation.accepted",
        ]

    def test_existing_user_signed_in_joins(self, workspace, other_workspace, invite):
        person = make_member(other_workspace, Role.ADMIN, email="new@alpha.test")
        _, token = invite()
        user, membership = invitations.invitation_accept(token=token, user=person)
        assert user == person and membership.workspace == workspace
        assert Membership.objects.filter(user=person).count() == 2

    def test_token_is_single_use(self, invite):
        _, token = invite()
        invitations.invitation_accept(token=token, password=PASSWORD)
        with pytest.raises(Conflict) as exc:
            invitations.invitation_accept(token=token, password=PASSWORD)
        assert exc.value.message == "This invitation has been accepted and can no longer be used."
        assert User.objects.filter(email="new@alpha.test").count() == 1

    def test_expired_token_is_refused(self, invite):
        inv, token = invite()
        Invitation.objects.filter(pk=inv.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        with pytest.raises(Conflict) as exc:
            invitations.invitation_accept(token=token, password=PASSWORD)
        assert exc.value.message == "This invitation has been expired and can no longer be used."
        assert not User.objects.filter(email="new@alpha.test").exists()

    def test_revoked_token_is_refused(self, workspace, admin, invite):
        inv, token = invite()
        invitations.invitation_revoke(workspace=workspace, actor=admin, invitation=inv)
        with pytest.raises(Conflict):
            invitations.invitation_accept(token=token, password=PASSWORD)

    @pytest.mark.parametrize("token", ["", "nope", "x" * 500, None, 12])
    def test_unknown_token_is_not_found(self, token):
        with pytest.raises(NotFound):
            invitations.invitation_accept(token=token, password=PASSWORD)

    def test_wrong_signed_in_user_is_refused(self, invite):
        _, token = invite()
        stranger = make_user("someone@else.test")
        with pytest.raises(PermissionDenied):
            invitations.invitation_accept(token=token, user=stranger)
        assert Invitation.objects.get().status == "pending"

    def test_existing_account_must_sign_in(self, invite):
        make_user("new@alpha.test")
        _, token = invite()
        with pytest.raises(Conflict):
            invitations.invitation_accept(token=token, password=PASSWORD)

    def test_weak_password_is_field_error_and_nothing_written(self, invite):
        _, token = invite()
        with pytest.raises(ValidationFailed) as exc:
            invitations.invitation_accept(token=token, password="123")
        assert (
            "This password is too short. It must contain at least 8 characters."
            in exc.value.details["password"]
        )
        assert not User.objects.filter(email="new@alpha.test").exists()
        assert Invitation.objects.get().status == "pending"


@pytest.mark.django_db
class TestRevokeAndExpire:
    def test_revoke_writes_audit(self, workspace, admin, invite):
        inv, _ = invite()
        invitations.invitation_revoke(workspace=workspace, actor=admin, invitation=inv)
        inv.refresh_from_db()
        assert inv.status == "revoked"
        assert AuditLogEntry.objects.get(verb="invitation.revoked").after == {"status": "revoked"}

    def test_revoking_twice_is_conflict(self, workspace, admin, invite):
        inv, _ = invite()
        invitations.invitation_revoke(workspace=workspace, actor=admin, invitation=inv)
        with pytest.raises(Conflict):
            invitations.invitation_revoke(workspace=workspace, actor=admin, invitation=inv)

    def test_periodic_task_expires_old_pending(self, invite):
        old, _ = invite("old@alpha.test")
        fresh, _ = invite("fresh@alpha.test")
        Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(hours=1))
        assert expire_invitations_task.delay().get() == 1
        assert dict(Invitation.objects.values_list("email", "status")) == {
            "old@alpha.test": "expired",
            "fresh@alpha.test": "pending",
        }

    def test_invitation_email_task_skips_revoked(self, workspace, admin, invite):
        from labelhub.access.tasks import send_invitation_email_task

        inv, token = invite()
        invitations.invitation_revoke(workspace=workspace, actor=admin, invitation=inv)
        result = send_invitation_email_task.delay(
            workspace_id=str(workspace.pk), invitation_id=str(inv.pk), token=token
        )
        assert result.get() is False
        assert len(mail.outbox) == 1  # only the original invitation mail
