"""No escalation: nobody grants, changes or takes away permissions they do not hold.

The first tests replay the attacks of the security report through the API (each refused
with 403 and nothing changed); the last one is a property test: random custom roles and
random sequences of actions by a non-Admin, after each of which nobody may have gained a
permission the actor did not hold, and the Admin is untouched.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from labelhub.access import services as access
from labelhub.access.authz import permissions_for, project_permissions_for
from labelhub.access.models import ApiKey, CustomRole, Group, Invitation, ProjectGrant
from labelhub.access.permissions import PROJECT_PERMISSIONS, WORKSPACE_PERMISSIONS, Permission
from labelhub.access.services.api_keys import api_key_create
from labelhub.access.services.invitations import invitation_create, invitation_revoke
from labelhub.access.services.members import membership_change_role, membership_remove
from labelhub.core.errors import ApplicationError
from labelhub.workspaces.models import Membership, Role
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.factories import make_member, make_project, make_user

pytestmark = pytest.mark.django_db

P = Permission


def _client(user, workspace) -> APIClient:
    client = APIClient()
    client.force_login(user)
    session = client.session
    session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
    session.save()
    return client


def _custom_member(workspace, admin, email, permissions, scope="workspace"):
    role = access.custom_role_create(
        workspace=workspace, actor=admin, name=email, scope=scope, permissions=permissions
    )
    user = make_user(email)
    Membership.objects.create(workspace=workspace, user=user, role=Role.CUSTOM, custom_role=role)
    return user, role


def _state():
    return (
        list(Membership.objects.order_by("pk").values_list("pk", "role", "custom_role")),
        list(Invitation.objects.order_by("pk").values_list("pk", "role", "status")),
        list(CustomRole.objects.order_by("pk").values_list("pk", "name", "permissions")),
        list(Group.objects.order_by("pk").values_list("pk", "default_role", "default_custom_role")),
        list(ProjectGrant.objects.order_by("pk").values_list("pk", "role", "custom_role")),
        sorted(Group.objects.values_list("auth_group__user", flat=True), key=str),
    )


def _refused(response, message_part: str) -> None:
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert message_part in error["message"], error["message"]


class TestManageMembersOnly:
    """Report item 1: a custom role holding only Manage members became Admin."""

    @pytest.fixture
    def setup(self, workspace, admin, labeler):
        attacker, role = _custom_member(workspace, admin, "mm@alpha.test", ["manage_members"])
        return attacker, role, _client(attacker, workspace)

    def test_cannot_patch_own_membership_to_admin(self, setup, workspace):
        attacker, _, client = setup
        own = Membership.objects.get(user=attacker)
        before = _state()
        r = client.patch(f"/api/v1/members/{own.pk}/", {"role": "admin"}, format="json")
        _refused(r, "Only an Admin can assign")
        assert _state() == before

    def test_cannot_change_own_role_even_to_an_equal_one(self, setup, workspace, admin):
        attacker, _, client = setup
        twin = access.custom_role_create(
            workspace=workspace,
            actor=admin,
            name="Twin",
            scope="workspace",
            permissions=["manage_members"],
        )
        own = Membership.objects.get(user=attacker)
        r = client.patch(f"/api/v1/members/{own.pk}/", {"role": str(twin.pk)}, format="json")
        _refused(r, "You cannot change your own role")
        assert Membership.objects.get(user=attacker).custom_role.name == "mm@alpha.test"

    def test_cannot_promote_others(self, setup, labeler):
        _, _, client = setup
        target = Membership.objects.get(user=labeler)
        before = _state()
        _refused(
            client.patch(f"/api/v1/members/{target.pk}/", {"role": "admin"}, format="json"),
            "Only an Admin can assign",
        )
        r = client.patch(f"/api/v1/members/{target.pk}/", {"role": "reviewer"}, format="json")
        _refused(r, "permissions you do not hold (")
        assert "review" in r.json()["error"]["message"]
        assert _state() == before

    def test_cannot_invite_admins_or_stronger_roles(self, setup):
        _, _, client = setup
        before = _state()
        _refused(
            client.post(
                "/api/v1/invitations/", {"email": "new@x.test", "role": "admin"}, format="json"
            ),
            "Only an Admin can assign",
        )
        _refused(
            client.post(
                "/api/v1/invitations/",
                {"email": "new@x.test", "role": "team_manager"},
                format="json",
            ),
            "create_projects",
        )
        assert _state() == before

    def test_may_invite_with_a_role_within_its_own_permissions(self, setup, workspace):
        _, role, client = setup
        r = client.post(
            "/api/v1/invitations/", {"email": "peer@x.test", "role": str(role.pk)}, format="json"
        )
        assert r.status_code == 201, r.content
        assert Invitation.objects.get(email="peer@x.test").custom_role == role

    def test_cannot_remove_or_demote_the_admin(self, setup, admin):
        _, _, client = setup
        admin_membership = Membership.objects.get(user=admin)
        before = _state()
        _refused(client.delete(f"/api/v1/members/{admin_membership.pk}/"), "Only an Admin")
        _refused(
            client.patch(
                f"/api/v1/members/{admin_membership.pk}/", {"role": "labeler"}, format="json"
            ),
            "Only an Admin",
        )
        assert _state() == before

    def test_cannot_revoke_an_admin_invitation(self, setup, workspace, admin):
        _, _, client = setup
        invitation, _ = invitation_create(
            workspace=workspace, actor=admin, email="boss@x.test", role=Role.ADMIN
        )
        _refused(client.delete(f"/api/v1/invitations/{invitation.pk}/"), "Only an Admin")
        with pytest.raises(ApplicationError):
            invitation_revoke(
                workspace=workspace,
                actor=Membership.objects.get(user__email="mm@alpha.test").user,
                invitation=invitation,
            )
        assert Invitation.objects.get(pk=invitation.pk).status == "pending"


class TestManageRolesOnly:
    """Report item 2: a custom role holding only Manage roles became Admin."""

    @pytest.fixture
    def setup(self, workspace, admin):
        attacker, role = _custom_member(workspace, admin, "mr@alpha.test", ["manage_roles"])
        return attacker, role, _client(attacker, workspace)

    def test_cannot_edit_its_own_role(self, setup):
        _, role, client = setup
        before = _state()
        for perms in (["manage_roles", "manage_members"], ["manage_roles", "manage_all_api_keys"]):
            r = client.patch(f"/api/v1/roles/{role.pk}/", {"permissions": perms}, format="json")
            _refused(r, "You cannot change a role you hold yourself")
        _refused(
            client.patch(f"/api/v1/roles/{role.pk}/", {"name": "Renamed"}, format="json"),
            "You cannot change a role you hold yourself",
        )
        _refused(client.delete(f"/api/v1/roles/{role.pk}/"), "a role you hold yourself")
        assert _state() == before

    def test_cannot_put_permissions_it_lacks_into_any_role(self, setup, workspace, admin, labeler):
        _, _, client = setup
        other = access.custom_role_create(
            workspace=workspace,
            actor=admin,
            name="Other",
            scope="workspace",
            permissions=["view_usage"],
        )
        before = _state()
        r = client.post(
            "/api/v1/roles/",
            {"name": "Boss", "scope": "workspace", "permissions": ["manage_members"]},
            format="json",
        )
        _refused(r, "manage_members")
        r = client.patch(
            f"/api/v1/roles/{other.pk}/", {"permissions": ["manage_roles"]}, format="json"
        )
        _refused(r, "view_usage")  # the role already reaches beyond the actor
        assert _state() == before

    def test_may_define_roles_within_its_own_permissions(self, setup):
        _, _, client = setup
        r = client.post(
            "/api/v1/roles/",
            {"name": "Deputy", "scope": "workspace", "permissions": ["manage_roles"]},
            format="json",
        )
        assert r.status_code == 201, r.content


class TestGroupsAndProjects:
    """Group default roles, group membership and project roles."""

    def test_group_membership_cannot_bring_project_rights_the_actor_lacks(
        self, workspace, admin, labeler
    ):
        project = make_project(workspace)
        group = access.group_create(
            workspace=workspace, actor=admin, name="Leads", default_role=Role.LABELER
        )
        access.project_grant_set(
            workspace=workspace, actor=admin, project=project, group=group, role=Role.ADMIN
        )
        attacker, _ = _custom_member(workspace, admin, "mg@alpha.test", ["manage_groups"])
        client = _client(attacker, workspace)
        before = _state()
        r = client.post(
            f"/api/v1/groups/{group.pk}/members/", {"user": str(attacker.pk)}, format="json"
        )
        _refused(r, "manage_project_members")
        r = client.post(
            f"/api/v1/groups/{group.pk}/members/", {"user": str(labeler.pk)}, format="json"
        )
        _refused(r, "manage_project_members")
        _refused(client.delete(f"/api/v1/groups/{group.pk}/"), "import_labels")
        assert _state() == before
        assert P.MANAGE_PROJECT_MEMBERS not in project_permissions_for(attacker, project)

    def test_group_default_role_is_held_by_the_actor(self, workspace, admin):
        attacker, _ = _custom_member(workspace, admin, "mg2@alpha.test", ["manage_groups"])
        client = _client(attacker, workspace)
        r = client.post("/api/v1/groups/", {"name": "G", "default_role": "admin"}, format="json")
        _refused(r, "manage_project_settings")
        assert Group.objects.count() == 0

    def test_project_member_manager_cannot_hand_out_more_than_it_holds(self, workspace, admin):
        project = make_project(workspace)
        lead_role = access.custom_role_create(
            workspace=workspace,
            actor=admin,
            name="Lead",
            scope="project",
            permissions=["view_project", "manage_project_members", "label"],
        )
        lead = make_member(workspace, Role.PROJECT_BASED, email="lead@alpha.test")
        peer = make_member(workspace, Role.PROJECT_BASED, email="peer@alpha.test")
        access.project_grant_set(
            workspace=workspace, actor=admin, project=project, user_id=lead.pk, role=lead_role.pk
        )
        client = _client(lead, workspace)
        url = f"/api/v1/projects/{project.pk}/members/"
        before = _state()
        for role in ("admin", "reviewer", "labeler"):  # Labeler adds rework and comments
            r = client.post(url, {"user": str(lead.pk), "role": role}, format="json")
            _refused(r, "permissions you do not hold")
            r = client.post(url, {"user": str(peer.pk), "role": role}, format="json")
            _refused(r, "permissions you do not hold")
        assert _state() == before
        r = client.post(url, {"user": str(peer.pk), "role": str(lead_role.pk)}, format="json")
        assert r.status_code == 201, r.content
        assert project_permissions_for(peer, project) == {
            P.VIEW_WORKSPACE,
            P.MANAGE_OWN_API_KEYS,
            P.VIEW_PROJECT,
            P.MANAGE_PROJECT_MEMBERS,
            P.LABEL,
        }

    def test_admin_and_tenant_paths_still_work(self, workspace, admin, labeler):
        membership_change_role(
            workspace=workspace,
            actor=admin,
            membership=Membership.objects.get(user=labeler),
            role=Role.ADMIN,
        )
        membership_remove(
            workspace=workspace, actor=labeler, membership=Membership.objects.get(user=admin)
        )
        assert list(Membership.objects.values_list("user__email", "role")) == [
            ("labeler@alpha.test", "admin")
        ]

    def test_a_restricted_admin_key_is_not_an_admin(self, workspace, admin, labeler):
        _, secret = api_key_create(
            workspace=workspace, actor=admin, name="ops", permissions=list(Permission)[:-1]
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        target = Membership.objects.get(user=labeler)
        r = client.patch(f"/api/v1/members/{target.pk}/", {"role": "admin"}, format="json")
        _refused(r, "Only an Admin can assign")


# --- the invariant, as a property ----------------------------------------------------------

WS_PERMS = sorted(WORKSPACE_PERMISSIONS - {P.VIEW_WORKSPACE})
PR_PERMS = sorted(PROJECT_PERMISSIONS)
SYSTEM = [r.value for r in Role if r != Role.CUSTOM]


def _perm_sets(pool):
    return st.frozensets(st.sampled_from(pool), min_size=1, max_size=len(pool))


MANAGING = [P.MANAGE_MEMBERS, P.MANAGE_ROLES, P.MANAGE_GROUPS, P.MANAGE_PROJECT_MEMBERS]
# The attacker always manages something (else every action is refused up front), plus any
# other permissions; the project role granted around holds project permissions, often
# including managing project members, so project paths are reachable too.
attacker_perms = st.tuples(
    st.frozensets(st.sampled_from(MANAGING), min_size=1),
    st.frozensets(st.sampled_from([*WS_PERMS, *PR_PERMS]), max_size=10),
).map(lambda pair: pair[0] | pair[1])
grant_perms_strategy = st.tuples(
    st.frozensets(st.sampled_from(PR_PERMS), min_size=1, max_size=6), st.booleans()
).map(lambda pair: pair[0] | ({P.MANAGE_PROJECT_MEMBERS} if pair[1] else set()))

role_choice = st.one_of(
    st.sampled_from(SYSTEM), st.sampled_from(["r_ws", "r_pr", "r_attacker", "r_grant"])
)
person = st.sampled_from(["admin", "attacker", "alice", "bob"])
project = st.sampled_from(["p1", "p2"])

actions = st.one_of(
    st.tuples(st.just("change_role"), person, role_choice),
    st.tuples(st.just("remove_member"), person),
    st.tuples(st.just("invite"), role_choice),
    st.tuples(
        st.just("create_role"),
        st.sampled_from(["workspace", "project"]),
        _perm_sets([*WS_PERMS, *PR_PERMS]),
    ),
    st.tuples(
        st.just("update_role"),
        st.sampled_from(["r_ws", "r_pr", "r_attacker", "r_grant"]),
        _perm_sets([*WS_PERMS, *PR_PERMS]),
    ),
    st.tuples(st.just("delete_role"), st.sampled_from(["r_ws", "r_pr", "r_grant"]), role_choice),
    st.tuples(st.just("group_default"), role_choice),
    st.tuples(st.just("group_add"), person),
    st.tuples(st.just("group_remove"), person),
    st.tuples(
        st.just("group_delete"),
    ),
    st.tuples(
        st.just("grant"),
        project,
        st.sampled_from(["attacker", "alice", "bob", "group"]),
        role_choice,
    ),
    st.tuples(st.just("ungrant"), project, st.sampled_from(["attacker", "alice", "bob", "group"])),
    st.tuples(st.just("api_key"), _perm_sets([*WS_PERMS, *PR_PERMS])),
)


def _world(workspace, admin, perms, grant_perms):
    """Build the workspace an attack plays in; return a dict of names to objects."""
    roles = {
        "r_attacker": access.custom_role_create(
            workspace=workspace,
            actor=admin,
            name="Attacker",
            scope="workspace",
            permissions=[p.value for p in perms if p in WORKSPACE_PERMISSIONS]
            + (["access_all_projects"] if perms & PROJECT_PERMISSIONS else [])
            + [p.value for p in perms if p in PROJECT_PERMISSIONS],
        ),
        "r_ws": access.custom_role_create(
            workspace=workspace,
            actor=admin,
            name="Ops",
            scope="workspace",
            permissions=["view_usage", "manage_groups"],
        ),
        "r_pr": access.custom_role_create(
            workspace=workspace,
            actor=admin,
            name="Checker",
            scope="project",
            permissions=["view_project", "review"],
        ),
        "r_grant": access.custom_role_create(
            workspace=workspace,
            actor=admin,
            name="Granted",
            scope="project",
            permissions=[p.value for p in grant_perms],
        ),
    }
    people = {
        "admin": admin,
        "attacker": make_user("attacker@alpha.test"),
        "alice": make_member(workspace, Role.LABELER, email="alice@alpha.test"),
        "bob": make_user("bob@alpha.test"),
    }
    Membership.objects.create(
        workspace=workspace,
        user=people["attacker"],
        role=Role.CUSTOM,
        custom_role=roles["r_attacker"],
    )
    Membership.objects.create(
        workspace=workspace, user=people["bob"], role=Role.CUSTOM, custom_role=roles["r_ws"]
    )
    projects = {"p1": make_project(workspace, "P1"), "p2": make_project(workspace, "P2")}
    group = access.group_create(
        workspace=workspace, actor=admin, name="Crew", default_role=Role.LABELER
    )
    access.group_add_member(
        workspace=workspace, actor=admin, group=group, user_id=people["alice"].pk
    )
    access.project_grant_set(
        workspace=workspace,
        actor=admin,
        project=projects["p1"],
        group=group,
        role=roles["r_grant"].pk,
    )
    access.project_grant_set(
        workspace=workspace,
        actor=admin,
        project=projects["p2"],
        user_id=people["attacker"].pk,
        role=roles["r_grant"].pk,
    )
    return {"roles": roles, "people": people, "projects": projects, "group": group}


def _role_value(world, choice):
    role = world["roles"].get(choice)
    return str(role.pk) if role is not None else choice


def _perform(world, workspace, actor, action):
    kind, *args = action
    people, projects, group = world["people"], world["projects"], world["group"]
    if kind in {"update_role", "delete_role"} and args[0] not in world["roles"]:
        return  # deleted by an earlier step
    if kind.startswith("group_") and not Group.objects.filter(pk=group.pk).exists():
        return
    if kind in {"grant", "ungrant"} and args[1] == "group":
        if not Group.objects.filter(pk=group.pk).exists():
            return
    if kind == "change_role":
        m = Membership.objects.filter(workspace=workspace, user=people[args[0]]).first()
        if m:
            membership_change_role(
                workspace=workspace, actor=actor, membership=m, role=_role_value(world, args[1])
            )
    elif kind == "remove_member":
        m = Membership.objects.filter(workspace=workspace, user=people[args[0]]).first()
        if m:
            membership_remove(workspace=workspace, actor=actor, membership=m)
    elif kind == "invite":
        invitation_create(
            workspace=workspace, actor=actor, email="new@x.test", role=_role_value(world, args[0])
        )
    elif kind == "create_role":
        access.custom_role_create(
            workspace=workspace,
            actor=actor,
            name="New",
            scope=args[0],
            permissions=[p.value for p in args[1]],
        )
    elif kind == "update_role":
        access.custom_role_update(
            workspace=workspace,
            actor=actor,
            role=world["roles"][args[0]],
            permissions=[p.value for p in args[1]],
        )
    elif kind == "delete_role":
        access.custom_role_delete(
            workspace=workspace,
            actor=actor,
            role=world["roles"][args[0]],
            replacement=_role_value(world, args[1]),
        )
    elif kind == "group_default":
        access.group_update(
            workspace=workspace, actor=actor, group=group, default_role=_role_value(world, args[0])
        )
    elif kind == "group_add":
        access.group_add_member(
            workspace=workspace, actor=actor, group=group, user_id=people[args[0]].pk
        )
    elif kind == "group_remove":
        access.group_remove_member(
            workspace=workspace, actor=actor, group=group, user_id=people[args[0]].pk
        )
    elif kind == "group_delete":
        access.group_delete(workspace=workspace, actor=actor, group=group)
    elif kind == "grant":
        target = {"group": group} if args[1] == "group" else {"user_id": people[args[1]].pk}
        access.project_grant_set(
            workspace=workspace,
            actor=actor,
            project=projects[args[0]],
            role=_role_value(world, args[2]),
            **target,
        )
    elif kind == "ungrant":
        who = {"group": group} if args[1] == "group" else {"user": people[args[1]]}
        grant = ProjectGrant.objects.filter(project=projects[args[0]], **who).first()
        if grant:
            access.project_grant_remove(workspace=workspace, actor=actor, grant=grant)
    elif kind == "api_key":
        api_key_create(
            workspace=workspace, actor=actor, name="k", permissions=[p.value for p in args[0]]
        )


def _snapshot(world, workspace):
    """Every person's permissions: workspace level and on each project; pending invites."""
    out = {}
    for name, user in world["people"].items():
        out[(name, "ws")] = permissions_for(user, workspace)
        for pname, proj in world["projects"].items():
            out[(name, pname)] = project_permissions_for(user, proj)
    for key in ApiKey.objects.filter(workspace=workspace, revoked_at__isnull=True):
        out[(f"key:{key.pk}", "ws")] = permissions_for(key, workspace)
        for pname, proj in world["projects"].items():
            out[(f"key:{key.pk}", pname)] = project_permissions_for(key, proj)
    from labelhub.access.selectors import role_ref_of

    for inv in Invitation.objects.filter(workspace=workspace, status="pending"):
        ref = role_ref_of(inv)
        out[(f"invite:{inv.pk}", "ws")] = (
            frozenset(Permission) if ref.role == Role.ADMIN else permissions_for_ref(ref)
        )
    return out


def permissions_for_ref(ref):
    from labelhub.access.authz import effective_workspace_permissions

    return effective_workspace_permissions(ref.workspace_permissions())


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    perms=attacker_perms,
    grant_perms=grant_perms_strategy,
    steps=st.lists(actions, min_size=1, max_size=8),
)
def test_no_action_sequence_escalates(workspace, admin, perms, grant_perms, steps):
    with transaction.atomic():
        world = _world(workspace, admin, perms, grant_perms)
        attacker = world["people"]["attacker"]
        admin_membership = Membership.objects.get(user=admin)
        for step in steps:
            held_before = _snapshot(world, workspace)
            attacker_ctx = {
                ctx: held_before.get(("attacker", ctx), frozenset())
                for ctx in ("ws", *world["projects"])
            }
            try:
                with transaction.atomic():
                    _perform(world, workspace, attacker, step)
            except ApplicationError:
                pass
            live = set(CustomRole.objects.values_list("pk", flat=True))
            world["roles"] = {k: v for k, v in world["roles"].items() if v.pk in live}
            after = _snapshot(world, workspace)
            for (who, ctx), now in after.items():
                gained = now - held_before.get((who, ctx), frozenset())
                assert gained <= attacker_ctx[ctx], (step, who, ctx, sorted(gained))
            # The Admin stays Admin; nobody else became one.
            assert Membership.objects.get(pk=admin_membership.pk).role == Role.ADMIN
            assert list(
                Membership.objects.filter(workspace=workspace, role=Role.ADMIN).values_list(
                    "user", flat=True
                )
            ) == [admin.pk]
        transaction.set_rollback(True)
