"""Console pages of the access app: roles, groups (detail, history, CSV), API keys, and the
members page's groups and custom roles.

Pages are read through a small DOM (stdlib ``html.parser``), so assertions name the element
a text must appear in: an error beside its field, a row of a table, a message.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from labelhub.access import services
from labelhub.access.models import ApiKey, CustomRole, Group, GroupEvent
from labelhub.access.permissions import COMING, Permission
from labelhub.access.roles import SYSTEM_ROLE_PERMISSIONS
from labelhub.access.services.api_keys import api_key_authenticate, api_key_create
from labelhub.access.services.members import membership_change_role
from labelhub.workspaces.models import Membership, Role
from tests.factories import make_member

pytestmark = pytest.mark.django_db

SYSTEM_ROLE_NAMES = ["Admin", "Team Manager", "Project-based", "Reviewer", "Labeler"]
CSV_HEADER = ["time", "group", "actor", "action", "detail"]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# --- a small DOM ----------------------------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    @property
    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return " ".join(" ".join(parts).split())

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def has(self, attr: str) -> bool:
        return attr in self.attrs

    def all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        """Descendants matching a tag, a class and attribute values (``data_x`` → ``data-x``)."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag)
            and (cls is None or cls in n.classes)
            and all(n.attrs.get(k) == v for k, v in wanted.items())
        ]

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.all(tag, cls, **attrs)
        assert len(found) == 1, f"expected one {tag}.{cls} {attrs}, found {len(found)}"
        return found[0]

    def texts(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[str]:
        return [n.text for n in self.all(tag, cls, **attrs)]


def _attrs(pairs) -> dict[str, str]:
    return {k: "" if v is None else v for k, v in pairs}  # bare attributes read as ""


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, _attrs(attrs), self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, _attrs(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def dom(response) -> Node:
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    builder = _Builder()
    builder.feed(response.content.decode())
    return builder.root


def messages(doc: Node) -> list[str]:
    return doc.one("div", id="messages").texts("div", cls="message")


def field(form: Node, name: str) -> Node:
    """The ``.field`` wrapper holding the input(s) called ``name``."""
    found = [f for f in form.all("div", cls="field") if f.all(name=name)]
    assert len(found) == 1, f"expected one field {name!r}, found {len(found)}"
    return found[0]


def field_errors(form: Node, name: str) -> list[str]:
    return field(form, name).texts("p", cls="field-error")


def all_field_errors(form: Node) -> list[str]:
    return form.texts("p", cls="field-error")


def form_errors(form: Node) -> list[str]:
    return [p.text for box in form.all("div", cls="form-errors") for p in box.all("p")]


def options(select: Node) -> list[tuple[str, str]]:
    return [(o.attrs.get("value"), o.text) for o in select.all("option")]


def selected(select: Node) -> list[str]:
    return [o.attrs.get("value") for o in select.all("option") if o.has("selected")]


def checked(form: Node, name: str = "permissions") -> list[str]:
    return [i.attrs["value"] for i in form.all("input", name=name) if i.has("checked")]


def rows(table: Node) -> list[list[str]]:
    body = table.one("tbody")
    return [[td.text for td in tr.all("td")] for tr in body.all("tr")]


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- fixtures -------------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def web(admin) -> Client:
    return signed_in(admin)


@pytest.fixture
def labeler_web(labeler) -> Client:
    return signed_in(labeler)


def make_role(workspace, actor, name="Auditor", scope="workspace", permissions=None, **kw):
    perms = permissions or (["view_audit_log", "view_usage"] if scope == "workspace" else ["label"])
    return services.custom_role_create(
        workspace=workspace, actor=actor, name=name, scope=scope, permissions=perms, **kw
    )


def make_group(workspace, actor, name="Night shift", default_role=Role.LABELER, **kw):
    return services.group_create(
        workspace=workspace, actor=actor, name=name, default_role=default_role, **kw
    )


def role_form(doc: Node) -> Node:
    return doc.one("form", data_testid="role-form")


# --- roles ----------------------------------------------------------------------------------


class TestRolesPage:
    def test_lists_the_five_system_roles_and_the_custom_roles(
        self, web, workspace, admin, labeler, other_workspace, other_admin
    ):
        auditor = make_role(
            workspace, admin, "Auditor", permissions=["view_usage", "view_audit_log"]
        )
        qa = make_role(workspace, admin, "QA Reviewer", "project", ["view_project", "review"])
        membership_change_role(
            workspace=workspace,
            actor=admin,
            membership=Membership.objects.get(user=labeler),
            role=str(auditor.pk),
        )
        make_group(workspace, admin, "Vendors", default_role=str(qa.pk))
        make_role(other_workspace, other_admin, "Foreign role")

        r = web.get("/roles/")
        assert r.status_code == 200
        doc = dom(r)
        assert doc.one("h1").text == "Roles"

        system = doc.one("table", data_testid="system-roles")
        system_rows = system.one("tbody").all("tr")
        assert [tr.all("td")[0].text for tr in system_rows] == SYSTEM_ROLE_NAMES
        for tr, role in zip(system_rows, Role.system_values(), strict=True):
            badges = tr.all("td")[1].texts("span", cls="badge")
            assert badges == [
                p.label + (" (coming)" if p in COMING else "")
                for p in Permission
                if p in SYSTEM_ROLE_PERMISSIONS[role]
            ]
        assert len(system_rows[0].all("td")[1].all("span", cls="badge")) == len(Permission)

        custom = doc.one("table", data_testid="custom-roles")
        assert rows(custom) == [
            ["Auditor", "Workspace", "2", "1 members, 0 groups, 0 project grants"],
            ["QA Reviewer", "Project", "2", "0 members, 1 groups, 0 project grants"],
        ]
        links = [a.attrs["href"] for a in custom.all("a")]
        assert links == [f"/roles/{auditor.pk}/", f"/roles/{qa.pk}/"]
        assert "Foreign role" not in r.content.decode()

        # The editor: scope select and the catalogue as checkboxes with the scope filter.
        form = role_form(doc)
        assert options(form.one("select", name="scope")) == [
            ("workspace", "Workspace"),
            ("project", "Project"),
        ]
        picker = form.one("div", data_permission_picker="")
        assert picker.texts("button") == ["All", "Workspace", "Project"]
        boxes = picker.all("label", cls="perm")
        assert [b.one("input").attrs["value"] for b in boxes] == [p.value for p in Permission]
        assert [b.attrs["data-scope"] for b in boxes] == [p.scope.value for p in Permission]
        assert checked(form) == []

    def test_no_custom_roles_yet(self, web):
        doc = dom(web.get("/roles/"))
        assert rows(doc.one("table", data_testid="custom-roles")) == [["No custom roles yet."]]

    def test_create_a_custom_role(self, web, workspace):
        r = web.post(
            "/roles/",
            {
                "name": "  Ops   Analyst ",
                "scope": "workspace",
                "description": "Reads usage.",
                "permissions": ["view_usage", "view_audit_log"],
            },
        )
        assert (r.status_code, r.url) == (302, "/roles/")
        role = CustomRole.objects.get()
        assert (role.workspace, role.name, role.scope, role.description, role.permissions) == (
            workspace,
            "Ops Analyst",
            "workspace",
            "Reads usage.",
            ["view_audit_log", "view_usage"],
        )
        doc = dom(web.get(r.url))
        assert messages(doc) == ["Role Ops Analyst created."]
        assert rows(doc.one("table", data_testid="custom-roles")) == [
            ["Ops Analyst", "Workspace", "2", "0 members, 0 groups, 0 project grants"]
        ]

    def test_duplicate_name_shows_the_error_beside_the_name(self, web, workspace, admin):
        make_role(workspace, admin, "Auditor")
        r = web.post(
            "/roles/", {"name": "auditor", "scope": "workspace", "permissions": ["view_usage"]}
        )
        assert r.status_code == 200
        form = role_form(dom(r))
        assert field_errors(form, "name") == [
            "A role with this name already exists in the workspace."
        ]
        assert "has-error" in field(form, "name").classes
        assert all_field_errors(form) == field_errors(form, "name")
        assert form_errors(form) == []
        assert form.one("input", name="name").attrs["value"] == "auditor"
        assert checked(form) == ["view_usage"]
        assert messages(dom(r)) == []
        assert list(CustomRole.objects.values_list("name", flat=True)) == ["Auditor"]

    def test_project_role_with_workspace_permissions_is_refused_beside_permissions(self, web):
        r = web.post(
            "/roles/",
            {
                "name": "QA Reviewer",
                "scope": "project",
                "permissions": ["review", "manage_members", "view_usage"],
            },
        )
        assert r.status_code == 200
        form = role_form(dom(r))
        assert field_errors(form, "permissions") == [
            "A project-scoped role cannot carry workspace permissions: manage_members, view_usage."
        ]
        assert "has-error" in field(form, "permissions").classes
        assert all_field_errors(form) == field_errors(form, "permissions")
        # The input comes back as typed.
        assert form.one("input", name="name").attrs["value"] == "QA Reviewer"
        assert selected(form.one("select", name="scope")) == ["project"]
        assert checked(form) == ["manage_members", "view_usage", "review"]
        assert CustomRole.objects.count() == 0

    @pytest.mark.parametrize(
        ("data", "name", "error"),
        [
            ({"name": "", "scope": "workspace", "permissions": ["view_usage"]}, "name", None),
            ({"name": "X", "scope": "workspace"}, "permissions", "Choose at least one permission."),
            (
                {"name": "X", "scope": "galaxy", "permissions": ["label"]},
                "scope",
                "Select a valid choice. galaxy is not one of the available choices.",
            ),
            (
                {"name": "X", "scope": "workspace", "permissions": ["fly"]},
                "permissions",
                "Select a valid choice. fly is not one of the available choices.",
            ),
        ],
        ids=["no-name", "no-permission", "bad-scope", "unknown-permission"],
    )
    def test_other_bad_input_creates_nothing(self, web, data, name, error):
        r = web.post("/roles/", data)
        assert r.status_code == 200
        form = role_form(dom(r))
        assert field_errors(form, name) == [error or "This field is required."]
        assert CustomRole.objects.count() == 0


class TestRoleDetail:
    def test_shows_the_role_in_its_editor(self, web, workspace, admin):
        role = make_role(
            workspace, admin, "QA Reviewer", "project", ["review", "view_project"], description="QA"
        )
        doc = dom(web.get(f"/roles/{role.pk}/"))
        assert doc.one("h1").text == "QA Reviewer project role"
        assert doc.one("p", cls="muted", data_testid="usage").text == (
            "Held by 0 members, 0 pending invitations, 0 groups (default role), 0 project grants."
        )
        form = role_form(doc)
        assert form.one("input", name="name").attrs["value"] == "QA Reviewer"
        assert form.one("input", name="description").attrs["value"] == "QA"
        scope = form.one("select", name="scope")
        assert scope.has("disabled") and selected(scope) == ["project"]
        assert checked(form) == ["view_project", "review"]

    def test_rename_and_change_permissions(self, web, workspace, admin):
        role = make_role(workspace, admin, "Auditor")
        r = web.post(
            f"/roles/{role.pk}/",
            {
                "action": "save",
                "name": "Senior Auditor",
                "scope": "workspace",
                "description": "Reads all.",
                "permissions": ["view_audit_log", "view_monitor"],
            },
        )
        assert (r.status_code, r.url) == (302, f"/roles/{role.pk}/")
        role.refresh_from_db()
        assert (role.name, role.description, role.permissions) == (
            "Senior Auditor",
            "Reads all.",
            ["view_audit_log", "view_monitor"],
        )
        doc = dom(web.get(r.url))
        assert messages(doc) == ["Role Senior Auditor saved."]
        assert checked(role_form(doc)) == ["view_audit_log", "view_monitor"]

    def test_scope_is_locked(self, web, workspace, admin):
        role = make_role(workspace, admin, "Auditor")
        r = web.post(
            f"/roles/{role.pk}/",
            {"action": "save", "name": "Auditor", "scope": "project", "permissions": ["review"]},
        )
        assert r.status_code == 302
        role.refresh_from_db()
        assert (role.scope, role.permissions) == ("workspace", ["review"])

    def test_project_role_edit_refuses_workspace_permissions(self, web, workspace, admin):
        role = make_role(workspace, admin, "QA", "project", ["review"])
        r = web.post(
            f"/roles/{role.pk}/",
            {"action": "save", "name": "QA", "permissions": ["review", "manage_roles"]},
        )
        assert r.status_code == 200
        assert field_errors(role_form(dom(r)), "permissions") == [
            "A project-scoped role cannot carry workspace permissions: manage_roles."
        ]
        role.refresh_from_db()
        assert role.permissions == ["review"]

    def test_rename_to_a_taken_name(self, web, workspace, admin):
        make_role(workspace, admin, "Auditor")
        role = make_role(workspace, admin, "Other")
        r = web.post(
            f"/roles/{role.pk}/",
            {"action": "save", "name": "AUDITOR", "permissions": ["view_usage"]},
        )
        assert r.status_code == 200
        assert field_errors(role_form(dom(r)), "name") == [
            "A role with this name already exists in the workspace."
        ]
        role.refresh_from_db()
        assert role.name == "Other"

    def test_delete_an_unused_role(self, web, workspace, admin):
        role = make_role(workspace, admin, "Auditor")
        r = web.post(f"/roles/{role.pk}/", {"action": "delete", "replacement": ""})
        assert (r.status_code, r.url) == (302, "/roles/")
        assert not CustomRole.objects.exists()
        assert messages(dom(web.get(r.url))) == ["Role Auditor deleted."]

    def test_delete_offers_replacements_of_the_same_scope(self, web, workspace, admin):
        role = make_role(workspace, admin, "Auditor")
        other = make_role(workspace, admin, "Billing")
        make_role(workspace, admin, "QA", "project")
        doc = dom(web.get(f"/roles/{role.pk}/"))
        delete_form = [f for f in doc.all("form") if f.all("select", name="replacement")][0]
        assert options(delete_form.one("select", name="replacement")) == [
            ("", "— none (role unused) —"),
            *[(r.value, r.label) for r in Role if r != Role.CUSTOM],
            (str(other.pk), "Billing"),
        ]

    def test_delete_in_use_without_replacement_keeps_the_role(self, web, workspace, admin, labeler):
        role = make_role(workspace, admin, "Auditor")
        membership = Membership.objects.get(user=labeler)
        membership_change_role(
            workspace=workspace, actor=admin, membership=membership, role=str(role.pk)
        )
        r = web.post(f"/roles/{role.pk}/", {"action": "delete", "replacement": ""})
        assert r.status_code == 200
        doc = dom(r)
        delete_form = [f for f in doc.all("form") if f.all("select", name="replacement")][0]
        assert form_errors(delete_form) == [
            "The role 'Auditor' is in use (1 members); choose a replacement role."
        ]
        assert field_errors(delete_form, "replacement") == [
            "Choose the role to give to those who hold this one."
        ]
        assert CustomRole.objects.filter(pk=role.pk).exists()
        membership.refresh_from_db()
        assert membership.custom_role == role

    def test_delete_in_use_with_a_replacement_moves_the_members(
        self, web, workspace, admin, labeler
    ):
        role = make_role(workspace, admin, "Auditor")
        membership = Membership.objects.get(user=labeler)
        membership_change_role(
            workspace=workspace, actor=admin, membership=membership, role=str(role.pk)
        )
        r = web.post(f"/roles/{role.pk}/", {"action": "delete", "replacement": Role.REVIEWER})
        assert (r.status_code, r.url) == (302, "/roles/")
        assert not CustomRole.objects.exists()
        membership.refresh_from_db()
        assert (membership.role, membership.custom_role) == (Role.REVIEWER, None)
        assert messages(dom(web.get(r.url))) == ["Role Auditor deleted."]

    def test_project_role_in_use_by_a_group_moves_to_another_custom_role(
        self, web, workspace, admin
    ):
        old = make_role(workspace, admin, "QA", "project")
        new = make_role(workspace, admin, "QA 2", "project")
        group = make_group(workspace, admin, default_role=str(old.pk))
        r = web.post(f"/roles/{old.pk}/", {"action": "delete", "replacement": str(new.pk)})
        assert r.status_code == 302
        group.refresh_from_db()
        assert (group.default_role, group.default_custom_role) == (Role.CUSTOM, new)


# --- groups ---------------------------------------------------------------------------------


def group_form(doc: Node) -> Node:
    return doc.one("form", data_testid="group-form")


def settings_form(doc: Node) -> Node:
    return [f for f in doc.all("form") if f.all("input", name="action", value="save")][0]


def history_rows(doc: Node) -> list[list[str]]:
    return [row[1:] for row in rows(doc.one("table", data_testid="group-history"))]


class TestGroupsPage:
    def test_lists_groups_and_offers_project_roles_as_default(
        self, web, workspace, admin, labeler, other_workspace, other_admin
    ):
        qa = make_role(workspace, admin, "QA Reviewer", "project", ["review"])
        make_role(workspace, admin, "Auditor", "workspace")
        vendors = make_group(
            workspace, admin, "Vendors", str(qa.pk), description="External", colour="#F76707"
        )
        services.group_add_member(
            workspace=workspace, actor=admin, group=vendors, user_id=labeler.pk
        )
        night = make_group(workspace, admin, "Night shift")
        make_group(other_workspace, other_admin, "Foreign group")

        doc = dom(web.get("/groups/"))
        table = doc.one("table", data_testid="groups-table")
        assert rows(table) == [
            ["Night shift", "Labeler", "0", ""],
            ["Vendors", "QA Reviewer", "1", "External"],
        ]
        assert [a.attrs["href"] for a in table.all("a")] == [
            f"/groups/{night.pk}/",
            f"/groups/{vendors.pk}/",
        ]
        assert doc.one("a", data_testid="export-all-history").attrs["href"] == (
            "/groups/history.csv"
        )
        # Default role: the system roles and the project-scoped custom roles only.
        select = group_form(doc).one("select", name="default_role")
        assert options(select) == [
            ("", "Choose a role"),
            *[(r.value, r.label) for r in Role if r != Role.CUSTOM],
            (str(qa.pk), "QA Reviewer"),
        ]
        assert selected(select) == [""]

    def test_create_a_group(self, web, workspace, admin):
        qa = make_role(workspace, admin, "QA Reviewer", "project", ["review"])
        r = web.post(
            "/groups/",
            {
                "name": "Night shift",
                "description": "Works at night",
                "colour": "#12ab34",
                "default_role": str(qa.pk),
            },
        )
        group = Group.objects.get()
        assert (r.status_code, r.url) == (302, f"/groups/{group.pk}/")
        assert (group.name, group.description, group.colour) == (
            "Night shift",
            "Works at night",
            "#12AB34",
        )
        assert (group.default_role, group.default_custom_role) == (Role.CUSTOM, qa)
        doc = dom(web.get(r.url))
        assert messages(doc) == ["Group Night shift created."]
        assert doc.one(data_testid="default-role").text == "QA Reviewer"
        assert history_rows(doc) == [["admin@alpha.test", "created", "default role QA Reviewer"]]

    def test_default_role_is_required(self, web):
        r = web.post("/groups/", {"name": "Night shift", "colour": "#4C6EF5", "default_role": ""})
        assert r.status_code == 200
        form = group_form(dom(r))
        assert field_errors(form, "default_role") == ["Choose the group's default role."]
        assert all_field_errors(form) == field_errors(form, "default_role")
        assert form.one("input", name="name").attrs["value"] == "Night shift"
        assert not Group.objects.exists()

    def test_workspace_custom_role_cannot_be_a_default_role(self, web, workspace, admin):
        auditor = make_role(workspace, admin, "Auditor", "workspace")
        r = web.post(
            "/groups/", {"name": "N", "colour": "#4C6EF5", "default_role": str(auditor.pk)}
        )
        assert r.status_code == 200
        assert field_errors(group_form(dom(r)), "default_role") == [
            f"Select a valid choice. {auditor.pk} is not one of the available choices."
        ]
        assert not Group.objects.exists()

    def test_duplicate_group_name(self, web, workspace, admin):
        make_group(workspace, admin, "Night shift")
        r = web.post(
            "/groups/", {"name": "NIGHT SHIFT", "colour": "#4C6EF5", "default_role": "labeler"}
        )
        assert r.status_code == 200
        assert field_errors(group_form(dom(r)), "name") == [
            "A group with this name already exists in the workspace."
        ]
        assert Group.objects.count() == 1


class TestGroupDetail:
    def test_add_and_remove_a_member(self, web, workspace, admin, labeler, other_admin):
        group = make_group(workspace, admin)
        url = f"/groups/{group.pk}/"
        doc = dom(web.get(url))
        assert doc.one("h1").text == "Night shift"
        assert rows(doc.one("table", data_testid="group-members")) == [["No members yet."]]
        # Only members of the workspace are offered.
        add = doc.one("form", data_testid="add-member-form")
        assert options(add.one("select", name="user")) == [
            (str(admin.pk), "admin@alpha.test"),
            (str(labeler.pk), "labeler@alpha.test"),
        ]

        r = web.post(url, {"action": "add_member", "user": str(labeler.pk)})
        assert (r.status_code, r.url) == (302, url)
        assert list(group.auth_group.user_set.all()) == [labeler]
        doc = dom(web.get(url))
        assert messages(doc) == ["Member added."]
        members = doc.one("table", data_testid="group-members")
        assert [tr.attrs["data-email"] for tr in members.all("tr")] == ["labeler@alpha.test"]
        assert rows(members) == [["labeler@alpha.test", "Remove"]]
        # The one already in is no longer offered.
        add = doc.one("form", data_testid="add-member-form")
        assert options(add.one("select", name="user")) == [(str(admin.pk), "admin@alpha.test")]

        r = web.post(url, {"action": "remove_member", "user": str(labeler.pk)})
        assert r.status_code == 302
        assert not group.auth_group.user_set.exists()
        doc = dom(web.get(url))
        assert messages(doc) == ["Member removed."]
        assert history_rows(doc) == [
            ["admin@alpha.test", "created", "default role Labeler"],
            ["admin@alpha.test", "member_added", "labeler@alpha.test"],
            ["admin@alpha.test", "member_removed", "labeler@alpha.test"],
        ]

    def test_a_non_member_cannot_be_added(self, web, workspace, admin, other_admin):
        group = make_group(workspace, admin)
        url = f"/groups/{group.pk}/"
        r = web.post(url, {"action": "add_member", "user": str(other_admin.pk)}, follow=True)
        assert messages(dom(r)) == ["Only members of the workspace can join its groups."]
        assert not group.auth_group.user_set.exists()
        assert not GroupEvent.objects.filter(verb="member_added").exists()

    def test_adding_twice_is_refused(self, web, workspace, admin, labeler):
        group = make_group(workspace, admin)
        url = f"/groups/{group.pk}/"
        r = web.post(url, {"action": "add_member", "user": str(labeler.pk)}, follow=True)
        assert messages(dom(r)) == ["Member added."]
        r = web.post(url, {"action": "add_member", "user": str(labeler.pk)}, follow=True)
        assert messages(dom(r)) == ["This member is already in the group."]
        assert group.auth_group.user_set.count() == 1

    def test_all_members_in_the_group_hides_the_add_form(self, web, workspace, admin):
        group = make_group(workspace, admin)
        services.group_add_member(workspace=workspace, actor=admin, group=group, user_id=admin.pk)
        doc = dom(web.get(f"/groups/{group.pk}/"))
        assert doc.all("form", data_testid="add-member-form") == []

    def test_rename_and_change_the_default_role(self, web, workspace, admin):
        qa = make_role(workspace, admin, "QA Reviewer", "project", ["review"])
        group = make_group(workspace, admin, "Night shift")
        url = f"/groups/{group.pk}/"
        form = settings_form(dom(web.get(url)))
        assert form.one("input", name="name").attrs["value"] == "Night shift"
        assert selected(form.one("select", name="default_role")) == [Role.LABELER]

        r = web.post(
            url,
            {
                "action": "save",
                "name": "Late shift",
                "description": "",
                "colour": "#4C6EF5",
                "default_role": str(qa.pk),
            },
        )
        assert (r.status_code, r.url) == (302, url)
        group.refresh_from_db()
        assert (group.name, group.default_custom_role) == ("Late shift", qa)
        doc = dom(web.get(url))
        assert messages(doc) == ["Group saved."]
        assert doc.one("h1").text == "Late shift"
        assert history_rows(doc)[1:] == [
            ["admin@alpha.test", "renamed", "Night shift → Late shift"],
            ["admin@alpha.test", "default_role_changed", "Labeler → QA Reviewer"],
        ]

    def test_rename_with_errors_stays_on_the_form(self, web, workspace, admin):
        make_group(workspace, admin, "Vendors")
        group = make_group(workspace, admin, "Night shift")
        url = f"/groups/{group.pk}/"
        r = web.post(
            url,
            {"action": "save", "name": "vendors", "colour": "#4C6EF5", "default_role": "labeler"},
        )
        assert r.status_code == 200
        assert field_errors(settings_form(dom(r)), "name") == [
            "A group with this name already exists in the workspace."
        ]
        r = web.post(
            url, {"action": "save", "name": "", "colour": "red", "default_role": "labeler"}
        )
        assert r.status_code == 200
        form = settings_form(dom(r))
        assert field_errors(form, "name") == ["This field is required."]
        group.refresh_from_db()
        assert group.name == "Night shift"

    def test_history_table_and_csv_export(self, web, workspace, admin, labeler):
        group = make_group(workspace, admin)
        other = make_group(workspace, admin, "Vendors")
        services.group_add_member(workspace=workspace, actor=admin, group=group, user_id=labeler.pk)
        url = f"/groups/{group.pk}/"

        doc = dom(web.get(url))
        table = doc.one("table", data_testid="group-history")
        assert table.one("thead").texts("th") == ["Time", "Actor", "Action", "Detail"]
        assert history_rows(doc) == [
            ["admin@alpha.test", "created", "default role Labeler"],
            ["admin@alpha.test", "member_added", "labeler@alpha.test"],
        ]
        assert doc.one("a", data_testid="export-history").attrs["href"] == "?export=csv"

        r = web.get(url, {"export": "csv"})
        assert r.status_code == 200
        assert r["Content-Type"] == "text/csv; charset=utf-8"
        assert r["Content-Disposition"] == f'attachment; filename="group-{group.pk}-history.csv"'
        lines = read_csv(r)
        assert lines[0] == CSV_HEADER
        assert [line[1:] for line in lines[1:]] == [
            ["Night shift", "admin@alpha.test", "created", "default role Labeler"],
            ["Night shift", "admin@alpha.test", "member_added", "labeler@alpha.test"],
        ]
        assert all(TIMESTAMP.match(line[0]) for line in lines[1:])

        # Every group's history, the deleted ones' included.
        web.post(f"/groups/{other.pk}/", {"action": "delete"})
        r = web.get("/groups/history.csv")
        assert r.status_code == 200
        assert r["Content-Disposition"] == 'attachment; filename="groups-history.csv"'
        lines = read_csv(r)
        assert lines[0] == CSV_HEADER
        assert [line[1:] for line in lines[1:]] == [
            ["Night shift", "admin@alpha.test", "created", "default role Labeler"],
            ["Vendors", "admin@alpha.test", "created", "default role Labeler"],
            ["Night shift", "admin@alpha.test", "member_added", "labeler@alpha.test"],
            ["Vendors", "admin@alpha.test", "deleted", ""],
        ]

    def test_delete_a_group(self, web, workspace, admin):
        group = make_group(workspace, admin)
        r = web.post(f"/groups/{group.pk}/", {"action": "delete"})
        assert (r.status_code, r.url) == (302, "/groups/")
        assert not Group.objects.exists()
        doc = dom(web.get("/groups/"))
        assert messages(doc) == ["Group Night shift deleted."]
        assert doc.all("table", data_testid="groups-table") == []
        assert "No groups yet" in doc.one(data_testid="empty-state").text


# --- API keys -------------------------------------------------------------------------------


def key_form(doc: Node) -> Node:
    return doc.one("form", data_testid="key-form")


class TestApiKeysPage:
    def test_create_shows_the_secret_exactly_once(self, web, workspace, admin):
        doc = dom(web.get("/api-keys/"))
        assert doc.all(data_testid="new-secret") == []
        assert rows(doc.one("table", data_testid="own-keys")) == [
            [
                "You have no keys yet. Create one below to call the API from a script or CI; "
                "its secret is shown once."
            ]
        ]

        r = web.post("/api-keys/", {"action": "create", "name": "CI pipeline"})
        assert r.status_code == 200
        key = ApiKey.objects.get()
        assert (key.workspace, key.owner, key.name, key.permissions) == (
            workspace,
            admin,
            "CI pipeline",
            None,
        )
        doc = dom(r)
        box = doc.one(data_testid="new-secret")
        secret = box.one("code", cls="secret-value").text
        assert secret.startswith(f"{key.prefix}_")
        assert api_key_authenticate(secret) == key
        assert messages(doc) == [
            f"Key {key.prefix} created. Copy the secret now: it is shown only once."
        ]
        own = doc.one("table", data_testid="own-keys")
        assert [tr.attrs["data-prefix"] for tr in own.one("tbody").all("tr")] == [key.prefix]
        assert rows(own)[0][:3] == ["CI pipeline", f"{key.prefix}…", "active"]
        # The form is fresh again.
        assert key_form(doc).one("input", name="name").attrs.get("value") is None

        again = web.get("/api-keys/")
        assert dom(again).all(data_testid="new-secret") == []
        assert secret not in again.content.decode()
        assert messages(dom(again)) == []

    def test_restricted_key_with_chosen_permissions(self, web, labeler_web, labeler):
        # A labeler is offered only the permissions it holds.
        form = key_form(dom(labeler_web.get("/api-keys/")))
        offered = [i.attrs["value"] for i in form.all("input", name="permissions")]
        assert offered == [
            "view_workspace",
            "manage_own_api_keys",
            "access_all_projects",
            "view_project",
            "label",
            "rework",
            "comment_on_issues",
        ]
        r = labeler_web.post(
            "/api-keys/",
            {
                "action": "create",
                "name": "Labeling bot",
                "restrict": "on",
                "permissions": ["view_project", "label"],
            },
        )
        assert r.status_code == 200
        key = ApiKey.objects.get()
        assert (key.owner, key.permissions) == (labeler, ["label", "view_project"])
        assert dom(r).all(data_testid="new-secret") != []

    def test_restricted_key_refuses_what_the_owner_lacks_or_nothing(self, labeler_web):
        r = labeler_web.post(
            "/api-keys/",
            {"action": "create", "name": "x", "restrict": "on", "permissions": ["manage_roles"]},
        )
        assert field_errors(key_form(dom(r)), "permissions") == [
            "Select a valid choice. manage_roles is not one of the available choices."
        ]
        r = labeler_web.post("/api-keys/", {"action": "create", "name": "x", "restrict": "on"})
        form = key_form(dom(r))
        assert field_errors(form, "permissions") == [
            "Choose at least one permission, or omit the list."
        ]
        assert dom(r).all(data_testid="new-secret") == []
        assert not ApiKey.objects.exists()

    def test_name_is_required(self, web):
        r = web.post("/api-keys/", {"action": "create", "name": ""})
        assert field_errors(key_form(dom(r)), "name") == ["This field is required."]
        assert not ApiKey.objects.exists()

    def test_unchecked_restrict_ignores_permissions(self, web):
        web.post(
            "/api-keys/", {"action": "create", "name": "Full", "permissions": ["view_project"]}
        )
        assert ApiKey.objects.get().permissions is None

    def test_revoke_own_key(self, web, workspace, admin):
        key, _ = api_key_create(workspace=workspace, actor=admin, name="Old")
        r = web.post("/api-keys/", {"action": "revoke", "key": str(key.pk)})
        assert (r.status_code, r.url) == (302, "/api-keys/")
        key.refresh_from_db()
        assert key.status == "revoked"
        doc = dom(web.get("/api-keys/"))
        assert messages(doc) == [f"Key {key.prefix} revoked."]
        own = doc.one("table", data_testid="own-keys")
        assert rows(own)[0][:3] == ["Old", f"{key.prefix}…", "revoked"]
        assert own.all("button") == []  # nothing left to revoke
        r = web.post("/api-keys/", {"action": "revoke", "key": str(key.pk)}, follow=True)
        assert messages(dom(r)) == ["This key is already revoked."]

    def test_admin_sees_every_key_and_a_labeler_only_its_own(
        self, web, labeler_web, workspace, admin, labeler
    ):
        mine, _ = api_key_create(workspace=workspace, actor=admin, name="Admin key")
        theirs, _ = api_key_create(workspace=workspace, actor=labeler, name="Labeler key")

        doc = dom(web.get("/api-keys/"))
        assert [h.text for h in doc.all("h2")] == [
            "Your keys",
            "New key",
            "All keys of the workspace",
        ]
        everyone = doc.one("table", data_testid="all-keys")
        assert everyone.one("thead").texts("th")[:4] == ["Name", "Prefix", "Owner", "Status"]
        assert sorted(r[:4] for r in rows(everyone)) == [
            ["Admin key", f"{mine.prefix}…", "admin@alpha.test", "active"],
            ["Labeler key", f"{theirs.prefix}…", "labeler@alpha.test", "active"],
        ]
        assert [r[0] for r in rows(doc.one("table", data_testid="own-keys"))] == ["Admin key"]

        doc = dom(labeler_web.get("/api-keys/"))
        assert [h.text for h in doc.all("h2")] == ["Your keys", "New key"]
        assert doc.all(data_testid="all-keys") == []
        assert [r[0] for r in rows(doc.one("table", data_testid="own-keys"))] == ["Labeler key"]
        assert mine.prefix not in labeler_web.get("/api-keys/").content.decode()

    def test_admin_revokes_a_labelers_key_but_a_labeler_cannot_revoke_others(
        self, web, labeler_web, workspace, admin, labeler
    ):
        mine, _ = api_key_create(workspace=workspace, actor=admin, name="Admin key")
        theirs, _ = api_key_create(workspace=workspace, actor=labeler, name="Labeler key")
        r = labeler_web.post("/api-keys/", {"action": "revoke", "key": str(mine.pk)}, follow=True)
        assert messages(dom(r)) == ["You do not have permission to perform this action."]
        mine.refresh_from_db()
        assert mine.status == "active"
        web.post("/api-keys/", {"action": "revoke", "key": str(theirs.pk)})
        theirs.refresh_from_db()
        assert theirs.status == "revoked"

    def test_revoke_a_key_of_another_workspace(self, web, other_workspace, other_admin):
        key, _ = api_key_create(workspace=other_workspace, actor=other_admin, name="Foreign")
        r = web.post("/api-keys/", {"action": "revoke", "key": str(key.pk)}, follow=True)
        assert messages(dom(r)) == ["Key not found."]
        key.refresh_from_db()
        assert key.status == "active"


# --- access ---------------------------------------------------------------------------------


class TestAccess:
    def test_labeler_is_refused_the_admin_pages(self, labeler_web, workspace, admin):
        role = make_role(workspace, admin)
        group = make_group(workspace, admin)
        for url in (
            "/roles/",
            f"/roles/{role.pk}/",
            "/groups/",
            f"/groups/{group.pk}/",
            f"/groups/{group.pk}/?export=csv",
            "/groups/history.csv",
        ):
            r = labeler_web.get(url)
            assert r.status_code == 403, url
            assert "You do not have access to this page." in r.content.decode()
        r = labeler_web.post(
            "/roles/", {"name": "X", "scope": "workspace", "permissions": ["label"]}
        )
        assert r.status_code == 403
        r = labeler_web.post(f"/groups/{group.pk}/", {"action": "delete"})
        assert r.status_code == 403
        assert CustomRole.objects.count() == 1 and Group.objects.count() == 1
        assert labeler_web.get("/api-keys/").status_code == 200
        nav = dom(labeler_web.get("/api-keys/")).one("nav")
        assert nav.texts("a") == [
            "Overview",
            "Projects",
            "Ontologies",
            "Datasets",
            "Members",
            "API keys",
            "API docs",
        ]

    def test_objects_of_another_workspace_are_not_found(
        self, web, other_workspace, other_admin, labeler
    ):
        role = make_role(other_workspace, other_admin, "Foreign role")
        group = make_group(other_workspace, other_admin, "Foreign group")
        for url in (
            f"/roles/{role.pk}/",
            f"/groups/{group.pk}/",
            f"/groups/{group.pk}/?export=csv",
        ):
            r = web.get(url)
            assert r.status_code == 404, url
            assert "Foreign" not in r.content.decode()
        r = web.post(f"/roles/{role.pk}/", {"action": "delete"})
        assert r.status_code == 404
        r = web.post(
            f"/roles/{role.pk}/", {"action": "save", "name": "Mine", "permissions": ["view_usage"]}
        )
        assert r.status_code == 404
        r = web.post(f"/groups/{group.pk}/", {"action": "add_member", "user": str(labeler.pk)})
        assert r.status_code == 404
        r = web.post(f"/groups/{group.pk}/", {"action": "delete"})
        assert r.status_code == 404
        role.refresh_from_db()
        assert role.name == "Foreign role"
        assert Group.objects.filter(pk=group.pk).exists()
        assert not group.auth_group.user_set.exists()
        # Malformed ids are simply not found.
        assert web.get("/roles/not-an-id/").status_code == 404
        assert web.get("/groups/not-an-id/").status_code == 404


# --- members page ---------------------------------------------------------------------------


class TestMembersPage:
    def test_shows_each_members_groups(self, web, workspace, admin, labeler, other_workspace):
        vendors = make_group(workspace, admin, "Vendors", colour="#F76707")
        night = make_group(workspace, admin, "Night shift")
        for g in (vendors, night):
            services.group_add_member(workspace=workspace, actor=admin, group=g, user_id=labeler.pk)
        # A group of another workspace with the same person is not shown here.
        make_member(other_workspace, Role.ADMIN, user=labeler)
        other_admin = make_member(other_workspace, Role.ADMIN, email="x@beta.test")
        foreign = make_group(other_workspace, other_admin, "Foreign group")
        services.group_add_member(
            workspace=other_workspace, actor=other_admin, group=foreign, user_id=labeler.pk
        )

        doc = dom(web.get("/members/"))
        table = doc.one("table", data_testid="members-table")
        head = table.one("thead").texts("th")
        assert head[:5] == ["Name", "E-mail", "Role", "Groups", "Joined"]
        row = table.one("tr", data_email="labeler@alpha.test")
        cells = row.all("td")
        assert len(cells) == len(head)
        groups_cell = cells[head.index("Groups")]
        assert groups_cell.texts("span", cls="badge") == ["Night shift", "Vendors"]
        admin_row = table.one("tr", data_email="admin@alpha.test")
        assert admin_row.all("td")[head.index("Groups")].text == "—"

    def test_a_custom_workspace_role_can_be_assigned(self, web, workspace, admin, labeler):
        auditor = make_role(workspace, admin, "Auditor", "workspace")
        make_role(workspace, admin, "QA Reviewer", "project")
        doc = dom(web.get("/members/"))
        select = doc.one("select", name="role", aria_label="Role of labeler@alpha.test")
        assert options(select) == [
            *[(r.value, r.label) for r in Role if r != Role.CUSTOM],
            (str(auditor.pk), "Auditor"),
        ]
        assert selected(select) == [Role.LABELER]

        membership = Membership.objects.get(user=labeler)
        r = web.post(
            "/members/",
            {"action": "role", "membership": str(membership.pk), "role": str(auditor.pk)},
        )
        assert r.status_code == 302
        membership.refresh_from_db()
        assert (membership.role, membership.custom_role) == (Role.CUSTOM, auditor)
        doc = dom(web.get("/members/"))
        assert messages(doc) == ["labeler@alpha.test is now Auditor."]
        select = doc.one("select", name="role", aria_label="Role of labeler@alpha.test")
        assert selected(select) == [str(auditor.pk)]
        # The role page counts the member.
        custom = dom(web.get("/roles/")).one("table", data_testid="custom-roles")
        assert rows(custom)[0] == [
            "Auditor",
            "Workspace",
            "2",
            "1 members, 0 groups, 0 project grants",
        ]

    def test_a_labeler_sees_roles_and_groups_read_only(
        self, labeler_web, workspace, admin, labeler
    ):
        auditor = make_role(workspace, admin, "Auditor", "workspace")
        group = make_group(workspace, admin, "Vendors")
        services.group_add_member(workspace=workspace, actor=admin, group=group, user_id=admin.pk)
        other = make_member(workspace, Role.LABELER, email="third@alpha.test")
        membership_change_role(
            workspace=workspace,
            actor=admin,
            membership=Membership.objects.get(user=other),
            role=str(auditor.pk),
        )
        doc = dom(labeler_web.get("/members/"))
        table = doc.one("table", data_testid="members-table")
        assert table.all("select") == []
        head = table.one("thead").texts("th")
        by_email = {
            tr.attrs["data-email"]: [td.text for td in tr.all("td")]
            for tr in table.one("tbody").all("tr")
        }
        assert all(len(cells) == len(head) for cells in by_email.values())
        assert by_email["admin@alpha.test"][head.index("Role")] == "Admin"
        assert by_email["admin@alpha.test"][head.index("Groups")] == "Vendors"
        assert by_email["third@alpha.test"][head.index("Role")] == "Auditor"
