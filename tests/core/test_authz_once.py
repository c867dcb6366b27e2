"""Authorization is worked out once per request: exact query counts of a typical API call
and a console page, the request memo, and forgetting after access's own writes."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from labelhub.access import services as access
from labelhub.access.authz import permissions_for, project_permissions_for
from labelhub.access.permissions import Permission
from labelhub.core.context import memoized, request_memo
from labelhub.workspaces.models import Role
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.factories import make_member, make_project, make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ws = make_workspace("Q")
    admin = make_member(ws, Role.ADMIN, email="a@q.test")
    member = make_member(ws, Role.PROJECT_BASED, email="pb@q.test")
    project = make_project(ws, "P")
    access.project_grant_set(
        workspace=ws, actor=admin, project=project, user_id=member.pk, role=Role.REVIEWER
    )
    return ws, admin, member, project


def _clients(user, ws):
    api, web = APIClient(), Client()
    for client in (api, web):
        client.force_login(user)
        session = client.session
        session[SESSION_WORKSPACE_KEY] = str(ws.pk)
        session.save()
    return api, web


@pytest.mark.parametrize("who", ["admin", "project-based member"])
def test_a_project_api_call_takes_nine_queries(world, who, django_assert_num_queries):
    ws, admin, member, project = world
    api, _ = _clients(admin if who == "admin" else member, ws)
    # session, user; the workspace (memberships listed, then fetched); the project; the
    # membership; guardian's user and group grants; the project's tags. Before the request
    # memo the same call took 15: membership and grants were read again by each check.
    with django_assert_num_queries(9):
        r = api.get(f"/api/v1/projects/{project.pk}/")
    assert r.status_code == 200
    assert r.json()["permissions"] == sorted(
        p.value for p in project_permissions_for(admin if who == "admin" else member, project)
    )


def test_a_project_console_page_takes_fifteen_queries(world, django_assert_num_queries):
    ws, _, member, project = world
    _, web = _clients(member, ws)
    # the nine above (minus tags) plus the page's own: counts per status, the header's
    # workspace list and tenant check, the unread badge, batches, tags, members (22 before).
    with django_assert_num_queries(15):
        r = web.get(f"/projects/{project.pk}/")
    assert r.status_code == 200


def test_the_memo_answers_once_per_request_and_never_outside(world):
    ws, admin, _, _ = world
    with CaptureQueriesContext(connection) as outside:
        permissions_for(admin, ws)
        permissions_for(admin, ws)
    token = request_memo.set({})
    try:
        with CaptureQueriesContext(connection) as inside:
            first = permissions_for(admin, ws)
            again = permissions_for(admin, ws)
    finally:
        request_memo.reset(token)
    assert first == again == frozenset(Permission)
    assert len(inside) * 2 == len(outside) > 0
    assert memoized("k", lambda: 1) == 1  # no request: computed, nothing kept


def test_access_writes_forget_what_the_request_knew(world):
    ws, admin, _, project = world
    newcomer = make_member(ws, Role.PROJECT_BASED, email="new@q.test")
    token = request_memo.set({})
    try:
        assert Permission.REVIEW not in project_permissions_for(newcomer, project)
        access.project_grant_set(
            workspace=ws, actor=admin, project=project, user_id=newcomer.pk, role=Role.REVIEWER
        )
        assert Permission.REVIEW in project_permissions_for(newcomer, project)
    finally:
        request_memo.reset(token)
