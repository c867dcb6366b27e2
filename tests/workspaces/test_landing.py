"""Where a person lands after signing in: the workspace they last chose (kept across
sign-outs), else the one with the most work in it (projects + data rows + labels), else the
first by name."""

from __future__ import annotations

import pytest
from django.test import Client

from labelhub.projects.models import DataRow, Dataset, Project
from labelhub.workspaces import selectors
from labelhub.workspaces.models import Role
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.factories import PASSWORD, make_member, make_tenant_admin, make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_workspaces():
    """ "Archive" (first by name, empty) and "Vision" (a project and two data rows)."""
    archive = make_workspace("Archive")
    vision = make_workspace("Vision", tenant=archive.tenant)
    user = make_member(archive, Role.ADMIN, email="ada@example.com")
    make_member(vision, Role.ADMIN, user=user)
    Project.objects.create(workspace=vision, name="Street scenes")
    dataset = Dataset.objects.create(workspace=vision, name="Cams")
    for n in range(2):
        DataRow.objects.create(
            workspace=vision,
            dataset=dataset,
            row_data=f"https://x.test/{n}.png",
            media_type="image",
        )
    return user, archive, vision


def _signed_in(email: str = "ada@example.com") -> Client:
    client = Client()
    assert client.post(
        "/accounts/sign-in/", {"username": email, "password": PASSWORD}
    ).status_code in (302, 303)
    return client


def _current(client: Client) -> str:
    return client.get("/").context["current_workspace"].name


def test_without_a_choice_the_busiest_workspace_wins(two_workspaces):
    user, _, vision = two_workspaces
    assert selectors.default_workspace_for(user=user) == vision
    client = _signed_in()
    assert _current(client) == "Vision"
    assert client.session[SESSION_WORKSPACE_KEY] == str(vision.pk)


def test_the_last_chosen_workspace_survives_signing_out(two_workspaces):
    user, archive, _ = two_workspaces
    zeta = make_workspace("Zeta", tenant=archive.tenant)  # empty and last by name
    make_member(zeta, Role.LABELER, user=user)
    client = _signed_in()
    client.post("/workspace/switch/", {"workspace": str(zeta.pk)})
    assert _current(client) == "Zeta"
    client.post("/accounts/sign-out/")
    assert _current(_signed_in()) == "Zeta"  # a new session, the same choice


def test_a_remembered_workspace_left_since_is_ignored(two_workspaces):
    user, archive, vision = two_workspaces
    client = _signed_in()
    client.post("/workspace/switch/", {"workspace": str(archive.pk)})
    archive.memberships.filter(user=user).delete()
    assert selectors.default_workspace_for(user=user) == vision


def test_ties_go_to_the_first_by_name():
    one = make_workspace("Beta")
    two = make_workspace("Alpha", tenant=one.tenant)
    user = make_member(one, Role.LABELER)
    make_member(two, Role.LABELER, user=user)
    assert selectors.default_workspace_for(user=user) == two


def test_tenant_admins_are_remembered_in_workspaces_they_are_no_member_of(two_workspaces):
    user, archive, vision = two_workspaces
    other = make_workspace("Zoo", tenant=archive.tenant)
    boss = make_tenant_admin(archive.tenant)
    boss.set_password(PASSWORD)
    boss.save()
    client = _signed_in(boss.email)
    assert _current(client) == "Vision"  # busiest of the tenant's three
    client.post("/workspace/switch/", {"workspace": str(other.pk)})
    client.post("/accounts/sign-out/")
    assert _current(_signed_in(boss.email)) == "Zoo"
