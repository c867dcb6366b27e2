"""Shared fixtures: workspaces, members of each role, clients signed in as them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from labelhub.workspaces.models import Role
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.factories import make_member, make_workspace


@pytest.fixture
def workspace(db):
    return make_workspace("Alpha")


@pytest.fixture
def other_workspace(db):
    return make_workspace("Beta")


@pytest.fixture
def admin(workspace):
    return make_member(workspace, Role.ADMIN, email="admin@alpha.test", name="Alpha Admin")


@pytest.fixture
def labeler(workspace):
    return make_member(workspace, Role.LABELER, email="labeler@alpha.test", name="Alpha Labeler")


@pytest.fixture
def other_admin(other_workspace):
    return make_member(other_workspace, Role.ADMIN, email="admin@beta.test")


@pytest.fixture
def api_client_for():
    """Return a factory of API clients signed in (session auth) in a given workspace."""

    def make(user, workspace=None, *, csrf: bool = False) -> APIClient:
        client = APIClient(enforce_csrf_checks=csrf)
        client.force_login(user)
        if workspace is not None:
            session = client.session
            session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
            session.save()
        return client

    return make


@pytest.fixture
def admin_client(api_client_for, admin, workspace):
    return api_client_for(admin, workspace)


@pytest.fixture
def labeler_client(api_client_for, labeler, workspace):
    return api_client_for(labeler, workspace)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash passwords cheaply in tests; production keeps Django's PBKDF2 default."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_in_process(request):
    """Run tasks in-process, except in integration tests that go through a real worker."""
    from labelhub.celery import app

    if request.node.get_closest_marker("integration"):
        yield
        return
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture(autouse=True)
def _live_events_in_process(request, settings):
    """Keep live events inside the test process: the embedded layer's relay folder is for
    the demo's web server and worker (tests of the relay give it a folder of their own)."""
    layer = settings.CHANNEL_LAYERS["default"]
    if layer["BACKEND"] == "labelhub.core.layers.FolderRelayChannelLayer":
        settings.CHANNEL_LAYERS = {
            "default": {**layer, "CONFIG": {**layer.get("CONFIG", {}), "folder": None}}
        }


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploads in tests land in a temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
