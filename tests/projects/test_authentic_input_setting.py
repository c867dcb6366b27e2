"""The project setting *authentic input protection*: off by default, changed like the other
quality settings through the settings API and the console's settings form, audited, copied
by duplication."""

from __future__ import annotations

import pytest
from django.test import Client

from labelhub.core.models import AuditLogEntry
from labelhub.projects.models import Project
from labelhub.projects.services.projects import project_create, project_duplicate

pytestmark = pytest.mark.django_db

LABEL = "Authentic input: block pasting into free-text answers and report rapid entry"


@pytest.fixture
def project(workspace, admin):
    return project_create(workspace=workspace, actor=admin, name="Notes", media_type="text")


def test_settings_api_reads_and_changes_it(project, admin_client, labeler_client):
    url = f"/api/v1/projects/{project.pk}/settings/"
    assert admin_client.get(url).json()["authentic_input_protection"] is False
    r = admin_client.patch(url, {"authentic_input_protection": True}, format="json")
    assert (r.status_code, r.json()["authentic_input_protection"]) == (200, True)
    project.refresh_from_db()
    assert project.authentic_input_protection is True
    entry = AuditLogEntry.objects.get(verb="project.settings_changed")
    assert (entry.before, entry.after) == (
        {"authentic_input_protection": False},
        {"authentic_input_protection": True},
    )
    r = admin_client.patch(url, {"authentic_input_protection": "sometimes"}, format="json")
    assert (r.status_code, list(r.json()["error"]["details"])) == (
        400,
        ["authentic_input_protection"],
    )
    # a labeler may read the project but not change its settings
    r = labeler_client.patch(url, {"authentic_input_protection": False}, format="json")
    assert r.status_code == 403
    project.refresh_from_db()
    assert project.authentic_input_protection is True


def test_settings_form_shows_and_changes_it(project, admin):
    web = Client()
    web.force_login(admin)
    url = f"/projects/{project.pk}/settings/"
    html = web.get(url).content.decode()
    assert LABEL in html
    assert 'name="authentic_input_protection"' in html
    form = {
        "action": "settings",
        "reservation_count": 4,
        "reservation_lease_seconds": 3600,
        "allow_skip": "on",
        "skip_limit": 5,
        "prelabel_confidence_threshold": 0,
        "authentic_input_protection": "on",
    }
    r = web.post(url, form)
    assert r.status_code == 302
    project.refresh_from_db()
    assert (project.authentic_input_protection, project.allow_skip) == (True, True)
    assert 'name="authentic_input_protection" id="id_authentic_input_protection" checked' in (
        web.get(url).content.decode()
    )
    del form["authentic_input_protection"]  # an unticked box is not sent
    web.post(url, form)
    project.refresh_from_db()
    assert project.authentic_input_protection is False


def test_duplicating_copies_it(project, admin):
    Project.objects.filter(pk=project.pk).update(authentic_input_protection=True)
    copy = project_duplicate(project=project, actor=admin)
    assert copy.authentic_input_protection is True
