"""Empty list pages say what the page is for and offer the button that starts it (only to
someone who may press it); "No projects match." appears only under a filter."""

from __future__ import annotations

import pytest
from django.test import Client

from labelhub.projects.services.projects import project_create
from labelhub.workspaces.models import Role
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def web(admin):
    return _client(admin)


@pytest.fixture
def labeler_web(workspace):
    return _client(make_member(workspace, Role.LABELER, email="lena@alpha.test"))


def _empty_state(html: str) -> str:
    start = html.index('data-testid="empty-state"')
    return html[start : html.index("</section>", start)]


# page, heading, action text, where the action goes
PAGES = [
    ("/projects/", "No projects yet", "Create a project", 'href="#project-form"'),
    ("/datasets/", "No datasets yet", "Create a dataset", 'href="#dataset-form"'),
    ("/ontologies/", "No ontologies yet", "Create an ontology", 'href="#ontology-form"'),
]


@pytest.mark.parametrize(("url", "heading", "action", "href"), PAGES)
def test_an_empty_list_explains_itself_and_offers_its_first_step(web, url, heading, action, href):
    html = web.get(url).content.decode()
    state = _empty_state(html)
    assert heading in state and action in state and href in state
    assert href.removeprefix('href="#').rstrip('"') in html  # the form it points at is there
    assert "match" not in state


@pytest.mark.parametrize(("url", "heading", "action", "href"), PAGES)
def test_people_who_may_not_create_get_no_button(labeler_web, url, heading, action, href):
    state = _empty_state(labeler_web.get(url).content.decode())
    assert heading in state
    assert action not in state and href not in state


def test_no_projects_match_only_under_a_filter(web, workspace, admin):
    project_create(workspace=workspace, actor=admin, name="Streets", media_type="image")
    html = web.get("/projects/").content.decode()
    assert "No projects match." not in html and 'data-testid="empty-state"' not in html
    html = web.get("/projects/?search=zebra").content.decode()
    assert "No projects match." in html
    assert 'href="/projects/"' in html  # a way back to every project
    assert 'data-testid="empty-state"' not in html


def test_project_tabs_without_batches_or_imports(web, workspace, admin):
    project = project_create(workspace=workspace, actor=admin, name="Streets", media_type="image")
    state = _empty_state(web.get(f"/projects/{project.pk}/batches/").content.decode())
    assert "No batches yet" in state and 'href="#batch-form"' in state
    state = _empty_state(web.get(f"/projects/{project.pk}/imports/").content.decode())
    assert "No imports yet" in state and 'href="#import-form"' in state


def test_project_tabs_for_a_labeler_offer_nothing_to_press(labeler_web, workspace, admin):
    project = project_create(workspace=workspace, actor=admin, name="Streets", media_type="image")
    state = _empty_state(labeler_web.get(f"/projects/{project.pk}/batches/").content.decode())
    assert "No batches yet" in state and "href=" not in state
    state = _empty_state(labeler_web.get(f"/projects/{project.pk}/imports/").content.decode())
    assert "No imports yet" in state and "href=" not in state


def test_workspace_pages_without_invitations_or_groups(web):
    state = _empty_state(web.get("/invitations/").content.decode())
    assert "No invitations yet" in state and 'href="/members/#invite-form"' in state
    state = _empty_state(web.get("/groups/").content.decode())
    assert "No groups yet" in state and 'href="#group-form"' in state
