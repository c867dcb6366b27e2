"""Invitation e-mails: the link follows the address the demo serves on, and the plain-text
part is plain text (no HTML entities)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail

from labelhub.access.services import invitations
from labelhub.workspaces.models import Role
from tests.factories import make_member, make_workspace

ROOT = Path(__file__).resolve().parents[2]


def _site_url_in_a_fresh_process(**env: str) -> str:
    """The invitation link that settings built from ``env`` give (settings load once per
    process, so a child process reads them)."""
    clean = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "LABELHUB_ADDR"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="labelhub.settings")
    code = (
        "import django; django.setup();"
        "from labelhub.access.selectors import invitation_accept_url;"
        "print(invitation_accept_url('TOKEN'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_invitation_link_uses_the_port_of_labelhub_addr():
    assert (
        _site_url_in_a_fresh_process(LABELHUB_ADDR="127.0.0.1:8123")
        == "http://127.0.0.1:8123/invitations/TOKEN/"
    )


def test_a_wildcard_bind_address_links_to_the_loopback_host():
    assert (
        _site_url_in_a_fresh_process(LABELHUB_ADDR="0.0.0.0:8124")
        == "http://127.0.0.1:8124/invitations/TOKEN/"
    )


def test_site_url_wins_over_labelhub_addr():
    assert (
        _site_url_in_a_fresh_process(
            LABELHUB_ADDR="127.0.0.1:8123", SITE_URL="https://labels.example.com/"
        )
        == "https://labels.example.com/invitations/TOKEN/"
    )


def test_production_ignores_labelhub_addr():
    url = _site_url_in_a_fresh_process(
        LABELHUB_ADDR="127.0.0.1:8123",
        DJANGO_ENV="production",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="labels.example.com",
    )
    assert url == "http://127.0.0.1:8000/invitations/TOKEN/"


@pytest.mark.django_db
def test_plain_text_invitation_is_not_html_escaped(django_capture_on_commit_callbacks):
    workspace = make_workspace("Text & Documents")
    admin = make_member(workspace, Role.ADMIN, email="ada@example.com", name="Ada <Admin>")
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_create(
            workspace=workspace, actor=admin, email="new@example.com", role=Role.REVIEWER
        )
    (message,) = mail.outbox
    assert "the workspace Text & Documents on LabelHub" in message.body
    assert "Ada <Admin> invited you" in message.body
    assert "&amp;" not in message.body and "&lt;" not in message.body
    html = message.alternatives[0][0]
    assert "Text &amp; Documents" in html  # the HTML part stays escaped


def test_every_plain_text_template_turns_autoescape_off():
    """Django escapes every template it renders; a text e-mail must say so itself."""
    texts = sorted((ROOT / "templates").rglob("*.txt"))
    assert texts
    for path in texts:
        body = path.read_text()
        assert body.startswith("{% autoescape off %}"), path
        assert body.rstrip().endswith("{% endautoescape %}"), path
