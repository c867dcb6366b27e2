"""Rules of the workspace services: tenants, workspaces, roles, removal, switching, audit."""

import pytest
from django.db import transaction

from labelhub.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from labelhub.core.models import AuditLogEntry
from labelhub.workspaces import services
from labelhub.workspaces.models import Membership, Role, Tenant, TenantAdmin, Workspace
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.factories import make_member, make_tenant_admin, make_user, make_workspace


@pytest.mark.django_db
class TestTenantCreate:
    def test_creates_tenant_workspace_admin_and_audit(self):
        user = make_user("boss@acme.test")
        tenant, ws = services.tenant_create(
            name="  Acme   Corp ", workspace_name="Images", admin=user
        )
        assert tenant.name == "Acme Corp"
        assert ws.name == "Images" and ws.tenant == tenant
        assert TenantAdmin.objects.filter(tenant=tenant, user=user).count() == 1
        assert Membership.objects.get(workspace=ws).role == Role.ADMIN
        verbs = list(
            AuditLogEntry.objects.filter(workspace=ws)
            .order_by("created_at")
            .values_list("verb", flat=True)
        )
        assert verbs == ["workspace.created", "tenant.created"]

    def test_duplicate_tenant_name_is_refused_and_nothing_written(self):
        user = make_user()
        services.tenant_create(name="Acme", workspace_name="A", admin=user)
        with pytest.raises(Conflict):
            services.tenant_create(name="ACME", workspace_name="B", admin=user)
        assert Tenant.objects.count() == 1 and Workspace.objects.count() == 1

    def test_blank_names_are_field_errors(self):
        with pytest.raises(ValidationFailed) as exc:
            services.tenant_create(name=" ", workspace_name="A", admin=make_user())
        assert exc.value.details == {"name": ["This field is required."]}


@pytest.mark.django_db
class TestWorkspaceCreate:
    def test_tenant_admin_creates_and_becomes_admin(self):
        ws = make_workspace()
        boss = make_tenant_admin(ws.tenant)
        new = services.workspace_create(tenant=ws.tenant, actor=boss, name="Second")
        assert Membership.objects.get(workspace=new, user=boss).role == Role.ADMIN
        assert AuditLogEntry.objects.get(workspace=new).verb == "workspace.created"

    def test_non_tenant_admin_gets_not_found(self):
        ws = make_workspace()
        admin = make_member(ws, Role.ADMIN)
        with pytest.raises(NotFound):
            services.workspace_create(tenant=ws.tenant, actor=admin, name="Nope")
        assert Workspace.objects.count() == 1

    def test_duplicate_name_in_tenant_is_conflict(self):
        ws = make_workspace("Images")
        boss = make_tenant_admin(ws.tenant)
        with pytest.raises(Conflict) as exc:
            services.workspace_create(tenant=ws.tenant, actor=boss, name="images")
        assert exc.value.details == {
            "name": ["A workspace with this name already exists in the tenant."]
        }


@pytest.mark.django_db
class TestMembershipRole:
    def test_admin_changes_role_with_audit_before_after(self, workspace, admin, labeler):
        m = Membership.objects.get(user=labeler)
        services.membership_change_role(
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
            services.membership_change_role(
                workspace=workspace, actor=labeler, membership=m, role=Role.LABELER
            )
        assert Membership.objects.get(user=admin).role == Role.ADMIN
        assert AuditLogEntry.objects.count() == 0

    def test_last_admin_cannot_be_demoted(self, workspace, admin):
        m = Membership.objects.get(user=admin)
        with pytest.raises(Conflict) as exc:
            services.membership_change_role(
                workspace=workspace, actor=admin, membership=m, role=Role.LABELER
            )
        assert exc.value.message == "The workspace must keep at least one Admin."
        assert Membership.objects.get(user=admin).role == Role.ADMIN

    def test_one_of_two_admins_can_be_demoted(self, workspace, admin):
        second = make_member(workspace, Role.ADMIN)
        m = Membership.objects.get(user=second)
        services.membership_change_role(
            workspace=workspace, actor=admin, membership=m, role=Role.LABELER
        )
        assert Membership.objects.get(user=second).role == Role.LABELER

    def test_unknown_role_is_field_error(self, workspace, admin, labeler):
        m = Membership.objects.get(user=labeler)
        with pytest.raises(ValidationFailed) as exc:
            services.membership_change_role(
                workspace=workspace, actor=admin, membership=m, role="owner"
            )
        assert list(exc.value.details) == ["role"]

    def test_tenant_admin_manages_members_without_membership(self, workspace, labeler):
        boss = make_tenant_admin(workspace.tenant)
        m = Membership.objects.get(user=labeler)
        services.membership_change_role(
            workspace=workspace, actor=boss, membership=m, role=Role.REVIEWER
        )
        assert Membership.objects.get(user=labeler).role == Role.REVIEWER

    def test_admin_of_other_workspace_cannot_touch_this_one(self, workspace, labeler, other_admin):
        m = Membership.objects.get(user=labeler)
        with pytest.raises(PermissionDenied):
            services.membership_change_role(
                workspace=workspace, actor=other_admin, membership=m, role=Role.ADMIN
            )


@pytest.mark.django_db
class TestMembershipRemove:
    def test_remove_member_writes_audit(self, workspace, admin, labeler):
        services.membership_remove(
            workspace=workspace, actor=admin, membership=Membership.objects.get(user=labeler)
        )
        assert not Membership.objects.filter(user=labeler).exists()
        row = AuditLogEntry.objects.get(verb="member.removed")
        assert row.before == {"email": "labeler@alpha.test", "role": "labeler"}

    def test_last_admin_cannot_be_removed(self, workspace, admin):
        with pytest.raises(Conflict):
            services.membership_remove(
                workspace=workspace, actor=admin, membership=Membership.objects.get(user=admin)
            )
        assert Membership.objects.filter(user=admin).exists()

    def test_membership_add_twice_is_conflict(self, workspace, admin, labeler):
        with pytest.raises(Conflict):
            services.membership_add(workspace=workspace, user=labeler, role=Role.ADMIN, actor=admin)
        assert Membership.objects.get(user=labeler).role == Role.LABELER


@pytest.mark.django_db
class TestSwitch:
    def test_switch_to_own_workspace(self, workspace, admin):
        second = make_workspace("Second", tenant=workspace.tenant)
        make_member(second, Role.LABELER, user=admin)
        session = {}
        assert (
            services.workspace_switch(session=session, user=admin, workspace_id=second.pk) == second
        )
        assert session == {SESSION_WORKSPACE_KEY: str(second.pk)}

    @pytest.mark.parametrize("bad", ["not-an-id", None, 7])
    def test_switch_to_foreign_or_malformed_is_not_found(
        self, workspace, admin, other_workspace, bad
    ):
        session = {}
        with pytest.raises(NotFound):
            services.workspace_switch(session=session, user=admin, workspace_id=other_workspace.pk)
        with pytest.raises(NotFound):
            services.workspace_switch(session=session, user=admin, workspace_id=bad)
        assert session == {}


@pytest.mark.django_db(transaction=True)
def test_role_change_event_is_sent_after_commit_only(monkeypatch, workspace, admin, labeler):
    sent = []
    monkeypatch.setattr(
        "labelhub.core.live.send_event_now", lambda event, groups: sent.append((event, groups))
    )
    m = Membership.objects.get(user=labeler)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.membership_change_role(
                workspace=workspace, actor=admin, membership=m, role=Role.REVIEWER
            )
            raise RuntimeError("roll back")
    assert sent == []
    assert Membership.objects.get(user=labeler).role == Role.LABELER
    services.membership_change_role(
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
