"""Rules of the member services: role changes, removal, joining, the live role event."""

import pytest
from django.db import transaction

from labelhub.access.services import members
from labelhub.core.errors import Conflict, PermissionDenied, ValidationFailed
from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Membership, Role
from tests.factories import make_member, make_tenant_admin


@pytest.mark.django_db
class TestMembershipRole:
    def test_admin_changes_role_with_audit_before_after(self, workspace, admin, labeler):
        m = Membership.objects.get(user=labeler)
        members.membership_change_role(
            workspace=workspace, actor=admin, membership=m, role=Role.REVIEWER
        )
        m.refresh_from_db()
        assert m.role == Role.REVIEWER
        row = AuditLogEntry.objects.get(verb="member.role_changed")
        assert (row.actor, row.before, row.after, row.target_label) == (
            admin,
            {"role": "labeler", "role_label": "Labeler"},
            {"role": "reviewer", "role_label": "Reviewer"},
            "labeler@alpha.test",
        )

    def test_labeler_may_not_change_roles(self, workspace, admin, labeler):
        m = Membership.objects.get(user=admin)
        with pytest.raises(PermissionDenied):
            members.membership_change_role(
                workspace=workspace, actor=labeler, membership=m, role=Role.LABELER
            )
        assert Membership.objects.get(user=admin).role == Role.ADMIN
        assert AuditLogEntry.objects.count() == 0

    def test_last_admin_cannot_be_demoted(self, workspace, admin):
        m = Membership.objects.get(user=admin)
        with pytest.raises(Conflict) as exc:
            members.membership_change_role(
                workspace=workspace, actor=admin, membership=m, role=Role.LABELER
            )
        assert exc.value.message == "The workspace must keep at least one Admin."
        assert Membership.objects.get(user=admin).role == Role.ADMIN

    def test_one_of_two_admins_can_be_demoted(self, workspace, admin):
        second = make_member(workspace, Role.ADMIN)
        m = Membership.objects.get(user=second)
        members.membership_change_role(
            workspace=workspace, actor=admin, membership=m, role=Role.LABELER
        )
        assert Membership.objects.get(user=second).role == Role.LABELER

    def test_unknown_role_is_field_error(self, workspace, admin, labeler):
        m = Membership.objects.get(user=labeler)
        with pytest.raises(ValidationFailed) as exc:
            members.membership_change_role(
                workspace=workspace, actor=admin, membership=m, role="owner"
            )
        assert list(exc.value.details) == ["role"]

    def test_tenant_admin_manages_members_without_membership(self, workspace, labeler):
        boss = make_tenant_admin(workspace.tenant)
        m = Membership.objects.get(user=labeler)
        members.membership_change_role(
            workspace=workspace, actor=boss, membership=m, role=Role.REVIEWER
        )
        assert Membership.objects.get(user=labeler).role == Role.REVIEWER

    def test_admin_of_other_workspace_cannot_touch_this_one(self, workspace, labeler, other_admin):
        m = Membership.objects.get(user=labeler)
        with pytest.raises(PermissionDenied):
            members.membership_change_role(
                workspace=workspace, actor=other_admin, membership=m, role=Role.ADMIN
            )


@pytest.mark.django_db
class TestMembershipRemove:
    def test_remove_member_writes_audit(self, workspace, admin, labeler):
        members.membership_remove(
            workspace=workspace, actor=admin, membership=Membership.objects.get(user=labeler)
        )
        assert not Membership.objects.filter(user=labeler).exists()
        row = AuditLogEntry.objects.get(verb="member.removed")
        assert row.before == {"email": "labeler@alpha.test", "role": "labeler"}

    def test_last_admin_cannot_be_removed(self, workspace, admin):
        with pytest.raises(Conflict):
            members.membership_remove(
                workspace=workspace, actor=admin, membership=Membership.objects.get(user=admin)
            )
        assert Membership.objects.filter(user=admin).exists()

    def test_membership_add_twice_is_conflict(self, workspace, admin, labeler):
        with pytest.raises(Conflict):
            members.membership_add(workspace=workspace, user=labeler, role=Role.ADMIN, actor=admin)
        assert Membership.objects.get(user=labeler).role == Role.LABELER


@pytest.mark.django_db
@pytest.mark.django_db(transaction=True)
def test_role_change_event_is_sent_after_commit_only(monkeypatch, workspace, admin, labeler):
    sent = []
    monkeypatch.setattr(
        "labelhub.core.live.send_event_now", lambda event, groups: sent.append((event, groups))
    )
    m = Membership.objects.get(user=labeler)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            members.membership_change_role(
                workspace=workspace, actor=admin, membership=m, role=Role.REVIEWER
            )
            raise RuntimeError("roll back")
    assert sent == []
    assert Membership.objects.get(user=labeler).role == Role.LABELER
    members.membership_change_role(
        workspace=workspace, actor=admin, membership=m, role=Role.REVIEWER
    )
    assert sent == [
        (
            {
                "type": "membership.role_changed",
                "workspace": str(workspace.pk),
                "role": "reviewer",
                "role_label": "Reviewer",
                "message": "Your role in Alpha is now Reviewer.",
            },
            [f"user.{labeler.pk}"],
        )
    ]
