"""Rules of the workspace services: tenants, workspaces, switching (members: access)."""

import pytest

from labelhub.core.errors import Conflict, NotFound, ValidationFailed
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
