"""Custom roles and groups: services' rules, API, history CSV."""

import csv
import io

import pytest

from labelhub.access import services
from labelhub.access.models import CustomRole, Group, GroupEvent
from labelhub.access.services.invitations import invitation_create
from labelhub.access.services.members import membership_change_role
from labelhub.core.errors import Conflict, PermissionDenied, ValidationFailed
from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Membership, Role
from tests.factories import make_member, make_project

pytestmark = pytest.mark.django_db


def _role(workspace, admin, name="Auditor", scope="workspace", permissions=("view_audit_log",)):
    return services.custom_role_create(
        workspace=workspace, actor=admin, name=name, scope=scope, permissions=list(permissions)
    )


class TestCustomRoles:
    def test_create_and_audit(self, workspace, admin):
        role = _role(workspace, admin, permissions=["view_usage", "view_audit_log"])
        assert (role.name, role.scope, role.permissions) == (
            "Auditor",
            "workspace",
            ["view_audit_log", "view_usage"],
        )
        assert AuditLogEntry.objects.get(verb="role.created").after == {
            "name": "Auditor",
            "scope": "workspace",
            "permissions": ["view_audit_log", "view_usage"],
        }

    @pytest.mark.parametrize(
        ("scope", "permissions", "field", "message"),
        [
            (
                "project",
                ["label", "manage_members"],
                "permissions",
                "A project-scoped role cannot carry workspace permissions: manage_members.",
            ),
            ("workspace", ["fly"], "permissions", "Unknown permission: fly."),
            ("workspace", [], "permissions", "Choose at least one permission."),
            ("galaxy", ["label"], "scope", "Choose the scope: workspace or project."),
        ],
    )
    def test_bad_input_is_refused(self, workspace, admin, scope, permissions, field, message):
        with pytest.raises(ValidationFailed) as exc:
            _role(workspace, admin, scope=scope, permissions=permissions)
        assert exc.value.details == {field: [message]}
        assert CustomRole.objects.count() == 0

    def test_names_unique_per_workspace_case_insensitive(
        self, workspace, admin, other_workspace, other_admin
    ):
        _role(workspace, admin)
        with pytest.raises(Conflict) as exc:
            _role(workspace, admin, name="AUDITOR")
        assert exc.value.details == {
            "name": ["A role with this name already exists in the workspace."]
        }
        _role(other_workspace, other_admin)  # another workspace may reuse it
        assert CustomRole.objects.count() == 2

    def test_rename_and_edit(self, workspace, admin):
        role = _role(workspace, admin)
        services.custom_role_update(
            workspace=workspace, actor=admin, role=role, name="Auditors", permissions=["view_usage"]
        )
        role.refresh_from_db()
        assert (role.name, role.permissions) == ("Auditors", ["view_usage"])
        row = AuditLogEntry.objects.get(verb="role.updated")
        assert (row.before["name"], row.after["name"]) == ("Auditor", "Auditors")

    def test_only_role_managers(self, workspace, labeler):
        with pytest.raises(PermissionDenied):
            _role(workspace, labeler)

    def test_delete_unused(self, workspace, admin):
        role = _role(workspace, admin)
        assert services.custom_role_delete(workspace=workspace, actor=admin, role=role) == {
            "members": 0,
            "invitations": 0,
            "groups": 0,
            "project_grants": 0,
        }
        assert CustomRole.objects.count() == 0

    def test_delete_in_use_needs_replacement_then_moves_members(self, workspace, admin, labeler):
        role = _role(workspace, admin)
        m = Membership.objects.get(user=labeler)
        membership_change_role(workspace=workspace, actor=admin, membership=m, role=str(role.pk))
        invitation_create(workspace=workspace, actor=admin, email="x@y.test", role=str(role.pk))
        with pytest.raises(Conflict) as exc:
            services.custom_role_delete(workspace=workspace, actor=admin, role=role)
        assert (
            exc.value.message
            == "The role 'Auditor' is in use (1 members, 1 pending invitations); choose a replacement role."
        )
        assert CustomRole.objects.count() == 1
        with pytest.raises(ValidationFailed):  # a project role cannot replace a workspace role
            other = _role(workspace, admin, name="P", scope="project", permissions=["label"])
            services.custom_role_delete(
                workspace=workspace, actor=admin, role=role, replacement=str(other.pk)
            )
        services.custom_role_delete(
            workspace=workspace, actor=admin, role=role, replacement=Role.REVIEWER
        )
        m.refresh_from_db()
        assert (m.role, m.custom_role) == (Role.REVIEWER, None)
        assert list(CustomRole.objects.values_list("name", flat=True)) == ["P"]

    def test_project_role_cannot_be_a_workspace_membership(self, workspace, admin, labeler):
        role = _role(workspace, admin, name="P", scope="project", permissions=["label"])
        with pytest.raises(ValidationFailed) as exc:
            membership_change_role(
                workspace=workspace,
                actor=admin,
                membership=Membership.objects.get(user=labeler),
                role=str(role.pk),
            )
        assert exc.value.details == {
            "role": ["The custom role 'P' is a project role; a workspace role is needed here."]
        }


class TestGroups:
    def test_lifecycle_is_recorded_and_exported(self, workspace, admin, labeler, admin_client):
        reviewer = make_member(workspace, Role.REVIEWER, email="rev@alpha.test")
        group = services.group_create(
            workspace=workspace,
            actor=admin,
            name="Vendors",
            default_role=Role.LABELER,
            colour="#ff8800",
        )
        assert group.colour == "#FF8800"
        services.group_add_member(workspace=workspace, actor=admin, group=group, user_id=labeler.pk)
        services.group_add_member(
            workspace=workspace, actor=admin, group=group, user_id=reviewer.pk
        )
        services.group_update(
            workspace=workspace,
            actor=admin,
            group=group,
            name="Vendors EU",
            default_role=Role.REVIEWER,
        )
        services.group_remove_member(
            workspace=workspace, actor=admin, group=group, user_id=reviewer.pk
        )
        project = make_project(workspace, "Cats")
        services.project_grant_set(
            workspace=workspace, actor=admin, project=project, group=group, role=None
        )
        grant = group.grants.get()
        services.project_grant_remove(workspace=workspace, actor=admin, grant=grant)
        r = admin_client.get(f"/api/v1/groups/{group.pk}/history.csv")
        assert r.status_code == 200
        assert r["Content-Type"] == "text/csv; charset=utf-8"
        assert r["Content-Disposition"] == f'attachment; filename="group-{group.pk}-history.csv"'
        rows = list(csv.reader(io.StringIO(r.content.decode())))
        assert rows[0] == ["time", "group", "actor", "action", "detail"]
        assert [row[1:] for row in rows[1:]] == [
            ["Vendors", "admin@alpha.test", "created", "default role Labeler"],
            ["Vendors", "admin@alpha.test", "member_added", "labeler@alpha.test"],
            ["Vendors", "admin@alpha.test", "member_added", "rev@alpha.test"],
            ["Vendors", "admin@alpha.test", "renamed", "Vendors → Vendors EU"],
            ["Vendors EU", "admin@alpha.test", "default_role_changed", "Labeler → Reviewer"],
            ["Vendors EU", "admin@alpha.test", "member_removed", "rev@alpha.test"],
            ["Vendors EU", "admin@alpha.test", "project_added", "Cats as Reviewer"],
            ["Vendors EU", "admin@alpha.test", "project_removed", "Cats"],
        ]
        assert all(len(row[0]) == 20 and row[0].endswith("Z") for row in rows[1:])

    def test_all_groups_history_keeps_deleted_groups(self, workspace, admin, admin_client):
        a = services.group_create(
            workspace=workspace, actor=admin, name="A", default_role=Role.LABELER
        )
        services.group_create(workspace=workspace, actor=admin, name="B", default_role=Role.LABELER)
        services.group_delete(workspace=workspace, actor=admin, group=a)
        rows = list(
            csv.reader(io.StringIO(admin_client.get("/api/v1/groups/history.csv").content.decode()))
        )
        assert [(r[1], r[3]) for r in rows[1:]] == [
            ("A", "created"),
            ("B", "created"),
            ("A", "deleted"),
        ]
        assert Group.objects.count() == 1 and GroupEvent.objects.count() == 3

    def test_rules(self, workspace, admin, labeler, other_admin):
        with pytest.raises(ValidationFailed) as exc:
            services.group_create(workspace=workspace, actor=admin, name="G", default_role="")
        assert exc.value.details == {"default_role": ["Choose the group's default role."]}
        with pytest.raises(ValidationFailed):
            services.group_create(
                workspace=workspace, actor=admin, name="G", default_role=Role.LABELER, colour="red"
            )
        g = services.group_create(
            workspace=workspace, actor=admin, name="G", default_role=Role.LABELER
        )
        with pytest.raises(Conflict):
            services.group_create(
                workspace=workspace, actor=admin, name="g", default_role=Role.LABELER
            )
        with pytest.raises(ValidationFailed) as exc:
            services.group_add_member(
                workspace=workspace, actor=admin, group=g, user_id=other_admin.pk
            )
        assert exc.value.details == {"user": ["Only members of the workspace can join its groups."]}
        services.group_add_member(workspace=workspace, actor=admin, group=g, user_id=labeler.pk)
        with pytest.raises(Conflict):
            services.group_add_member(workspace=workspace, actor=admin, group=g, user_id=labeler.pk)
        with pytest.raises(PermissionDenied):
            services.group_create(
                workspace=workspace, actor=labeler, name="H", default_role=Role.LABELER
            )
        ws_role = services.custom_role_create(
            workspace=workspace,
            actor=admin,
            name="W",
            scope="workspace",
            permissions=["view_usage"],
        )
        with pytest.raises(ValidationFailed):  # group roles are project roles
            services.group_create(
                workspace=workspace, actor=admin, name="H", default_role=str(ws_role.pk)
            )
        assert Group.objects.count() == 1


class TestApi:
    def test_roles_list_and_crud(self, admin_client):
        body = admin_client.get("/api/v1/roles/").json()
        assert [r["id"] for r in body["system"]] == [
            "admin",
            "team_manager",
            "project_based",
            "reviewer",
            "labeler",
        ]
        assert body["custom"] == []
        r = admin_client.post(
            "/api/v1/roles/",
            {"name": "QA", "scope": "project", "permissions": ["review", "label"]},
            format="json",
        )
        assert r.status_code == 201 and r.json()["permissions"] == ["label", "review"]
        rid = r.json()["id"]
        assert [
            c["name"] for c in admin_client.get("/api/v1/roles/?scope=project").json()["custom"]
        ] == ["QA"]
        assert admin_client.get("/api/v1/roles/?scope=workspace").json()["custom"] == []
        assert admin_client.get("/api/v1/roles/?scope=nope").status_code == 400
        bad = admin_client.patch(
            f"/api/v1/roles/{rid}/", {"permissions": ["manage_roles"]}, format="json"
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["details"] == {
            "permissions": [
                "A project-scoped role cannot carry workspace permissions: manage_roles."
            ]
        }
        assert admin_client.get(f"/api/v1/roles/{rid}/").json()["usage"] == {
            "members": 0,
            "invitations": 0,
            "groups": 0,
            "project_grants": 0,
        }
        assert admin_client.delete(f"/api/v1/roles/{rid}/").status_code == 204

    def test_groups_api(self, admin_client, labeler):
        r = admin_client.post(
            "/api/v1/groups/", {"name": "Night shift", "default_role": "labeler"}, format="json"
        )
        assert r.status_code == 201
        gid = r.json()["id"]
        r = admin_client.post(
            f"/api/v1/groups/{gid}/members/", {"user": str(labeler.pk)}, format="json"
        )
        assert r.status_code == 201
        assert [m["email"] for m in r.json()["members"]] == ["labeler@alpha.test"]
        listed = admin_client.get("/api/v1/groups/").json()["results"]
        assert [(g["name"], g["default_role_label"], len(g["members"])) for g in listed] == [
            ("Night shift", "Labeler", 1)
        ]
        assert admin_client.delete(f"/api/v1/groups/{gid}/members/{labeler.pk}/").status_code == 204
        assert (
            admin_client.patch(
                f"/api/v1/groups/{gid}/", {"colour": "blue"}, format="json"
            ).status_code
            == 400
        )
        assert admin_client.delete(f"/api/v1/groups/{gid}/").status_code == 204

    def test_other_workspace_roles_and_groups_are_404(
        self, admin_client, other_workspace, other_admin
    ):
        role = _role(other_workspace, other_admin)
        group = services.group_create(
            workspace=other_workspace, actor=other_admin, name="F", default_role=Role.LABELER
        )
        for url in (
            f"/api/v1/roles/{role.pk}/",
            f"/api/v1/groups/{group.pk}/",
            f"/api/v1/groups/{group.pk}/history.csv",
        ):
            assert admin_client.get(url).status_code == 404
        assert admin_client.delete(f"/api/v1/roles/{role.pk}/").status_code == 404
        assert admin_client.get("/api/v1/roles/").json()["custom"] == []
        assert admin_client.get("/api/v1/groups/").json()["results"] == []
        assert CustomRole.objects.filter(pk=role.pk).exists()
        refused = AuditLogEntry.objects.filter(verb="access.cross_workspace_refused")
        assert refused.count() == 4
        assert {r.target_type for r in refused} == {"customrole", "group"}
        assert refused.first().ip_address == "127.0.0.1"
