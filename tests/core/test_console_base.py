"""The console base: every page walks through ``ConsoleView`` (or is a listed public page),
project pages through ``ProjectPage``, ``dispatch`` is sealed, and the base answers 404 for
a foreign project and 403 for a missing permission, before the page's own code runs."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.views import View

from labelhub.access.console import ConsoleView
from labelhub.access.permissions import Permission
from labelhub.projects.console import ProjectPage
from labelhub.workspaces.models import Role
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.factories import make_member, make_project, make_workspace

# Pages that are not workspace pages: who is not signed in yet, or not set up yet, lands
# here. Each is a plain function, so it cannot slip into the base by accident either.
PUBLIC_PAGES = {
    "console:home": "redirects to first run or sign-in, else renders the HomeView page",
    "console:setup": "first run, before any workspace exists",
    "console:accept-invitation": "anonymous invitees accept here (the token decides)",
}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{namespace}{p.name}", p.callback


def console_routes():
    """Every (route, name, callback) of the console namespace."""
    return [r for r in _walk(get_resolver().url_patterns) if r[1].startswith("console:")]


def test_every_console_page_is_behind_the_base():
    routes = console_routes()
    assert len(routes) >= 30
    outside = []
    for route, name, callback in routes:
        cls = getattr(callback, "view_class", None)
        if name in PUBLIC_PAGES:
            assert cls is None, f"{name} is listed as public but is a class-based view"
            continue
        if not (isinstance(cls, type) and issubclass(cls, ConsoleView) and issubclass(cls, View)):
            outside.append((route, name))
    assert outside == []


def test_every_project_page_finds_its_project_through_the_base():
    wrong = [
        (route, name)
        for route, name, callback in console_routes()
        if "<str:project_id>" in route
        and not issubclass(getattr(callback, "view_class", object), ProjectPage)
    ]
    assert wrong == []


def test_a_page_cannot_override_dispatch():
    with pytest.raises(TypeError, match="overrides dispatch"):

        class Sneaky(ConsoleView, View):
            def dispatch(self, request, *args, **kwargs):
                return super().dispatch(request, *args, **kwargs)


@pytest.fixture
def signed_in(db):
    def make(user, workspace):
        client = Client()
        client.force_login(user)
        session = client.session
        session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
        session.save()
        return client

    return make


def test_foreign_or_hidden_projects_answer_404_on_every_project_page(signed_in, db):
    # Given a project of another workspace and one the project-based member may not view,
    home, elsewhere = make_workspace("Home"), make_workspace("Elsewhere")
    member = make_member(home, Role.PROJECT_BASED, email="pb@home.test")
    foreign, hidden = make_project(elsewhere, "Foreign"), make_project(home, "Hidden")
    admin_client = signed_in(make_member(home, Role.ADMIN, email="a@home.test"), home)
    member_client = signed_in(member, home)
    project_routes = [r for r, _, _ in console_routes() if "<str:project_id>" in r]
    assert len(project_routes) >= 8
    for route in project_routes:
        # then every project page answers 404, the same for both, before any lookup of its own
        for client, project in ((admin_client, foreign), (member_client, hidden)):
            url = "/" + route.replace("<str:project_id>", str(project.pk))
            url = url.replace("<str:batch_id>", "x").replace("<str:row_id>", "x")
            url = url.replace("<str:job_id>", "x")
            response = client.get(url)
            assert response.status_code == 404, (route, project.name, response.status_code)
            assert b"Project not found." in response.content, route


def test_a_missing_permission_is_403_before_the_page_runs(signed_in, db, monkeypatch):
    workspace = make_workspace("Home")
    labeler = make_member(workspace, Role.LABELER, email="l@home.test")
    project = make_project(workspace, "P")
    client = signed_in(labeler, workspace)
    called = []
    from labelhub.projects.views.projects import ProjectSettingsView

    monkeypatch.setattr(ProjectSettingsView, "get", lambda *a, **k: called.append(1))
    response = client.get(f"/projects/{project.pk}/settings/")
    assert (response.status_code, called) == (403, [])
    assert b"You do not have access to this page." in response.content
    assert ProjectSettingsView.required_permissions == {
        "GET": Permission.MANAGE_PROJECT_SETTINGS,
        "POST": Permission.MANAGE_PROJECT_SETTINGS,
    }
