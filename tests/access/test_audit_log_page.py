"""The audit log page: changes as readable lines, and the address of the request that made
each change (REMOTE_ADDR: behind a proxy, uvicorn's --proxy-headers sets it)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Role
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(admin, workspace):
    c = Client(REMOTE_ADDR="203.0.113.7")
    c.force_login(admin)
    session = c.session
    session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
    session.save()
    return c


def membership(workspace) -> str:
    """A labeler's membership id (the members page changes roles by it)."""
    from labelhub.workspaces.models import Membership

    user = make_member(workspace, Role.LABELER, email="lea@alpha.test")
    return str(Membership.objects.get(workspace=workspace, user=user).pk)


def table(html: str) -> str:
    return re.search(
        r'<table class="table compact audit" data-testid="audit-table">.*?</table>', html, re.S
    ).group(0)


def test_changes_read_as_field_before_after(web, workspace, admin):
    web.post(
        "/members/", {"action": "role", "membership": membership(workspace), "role": "reviewer"}
    )
    entry = AuditLogEntry.objects.get(verb="member.role_changed")
    html = table(web.get("/audit-log/").content.decode())
    assert "{&quot;" not in html  # no raw JSON
    assert (
        '<li class="change-changed"><span class="change-field">role label</span> '
        "<del>Labeler</del> → <ins>Reviewer</ins></li>"
    ) in html
    assert entry.ip_address == "203.0.113.7"
    assert '<td class="ip">203.0.113.7</td>' in html


def test_forwarded_for_is_not_trusted_by_the_app(web, workspace):
    web.post(
        "/members/",
        {"action": "role", "membership": membership(workspace), "role": "reviewer"},
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    assert AuditLogEntry.objects.get(verb="member.role_changed").ip_address == "203.0.113.7"


def test_an_entry_without_a_request_says_so(web, workspace, admin):
    from labelhub.core.audit import audit_record

    audit_record(workspace=workspace, actor=None, verb="job.finished", after={"rows": 3})
    html = table(web.get("/audit-log/").content.decode())
    assert '<td class="ip muted" title="Written by a background job, not a request">—</td>' in html
