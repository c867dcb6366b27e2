"""Content-Security-Policy on every HTML page (django-csp; ADR 0007).

Every page of the site, over the demo data, answers with the strict policy: scripts from
our origin or with the response's nonce, never 'unsafe-inline' or 'unsafe-eval'; every
script element of the page carries that nonce, and no markup relies on what the policy
refuses (inline event handlers, style attributes, nonce-less inline scripts or styles).
The browser suite checks the same pages in Chromium (tests/browser/test_csp.py).
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client

from labelhub.accounts.models import User
from labelhub.workspaces.models import Workspace
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
from tests.console_pages import (
    ADMIN_EMAIL,
    ANONYMOUS_ROUTES,
    ERROR_PAGES,
    demo_pages,
    uncovered_routes,
)

EXPECTED = {
    "default-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "connect-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:", "https:"],
    "media-src": ["'self'", "blob:", "https:"],
}


def directives(header: str) -> dict[str, list[str]]:
    """The policy as {directive: [sources]}."""
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


class Markup(HTMLParser):
    """Script and style elements of a page, and attributes the policy would refuse."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.styles: list[dict[str, str | None]] = []
        self.refused: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        elif tag == "style":
            self.styles.append(attributes)
        for name, value in attrs:
            if name == "style" or name.startswith("on") or "javascript:" in (value or ""):
                self.refused.append(f"<{tag} {name}={value!r}>")


@pytest.fixture
def demo(db) -> dict[str, list[str]]:
    call_command("seed_demo", stdout=io.StringIO())
    return demo_pages()


def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.get(email=ADMIN_EMAIL))
    session = client.session
    session[SESSION_WORKSPACE_KEY] = str(
        Workspace.objects.get(name="Vision", tenant__name="Demo Labs").pk
    )
    session.save()
    return client


def check_page(response, path: str) -> list[str]:
    """What is wrong with one HTML response's policy and markup (empty when nothing)."""
    problems = []
    header = response.headers.get("Content-Security-Policy")
    if not header:
        return [f"{path}: no Content-Security-Policy header"]
    policy = directives(header)
    for name, sources in EXPECTED.items():
        if policy.get(name) != sources:
            problems.append(f"{path}: {name} is {policy.get(name)}, expected {sources}")
    nonces = re.findall(r"'nonce-([A-Za-z0-9+/=]+)'", header)
    script_src = policy.get("script-src", [])
    if script_src[:1] != ["'self'"] or len(script_src) != 2 or not nonces:
        problems.append(f"{path}: script-src is {script_src}, expected 'self' and a nonce")
    for name in ("script-src", "style-src"):
        unsafe = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'"} & set(policy[name])
        if unsafe:
            problems.append(f"{path}: {name} allows {sorted(unsafe)}")
    if policy.get("style-src") != script_src:
        problems.append(f"{path}: style-src is {policy.get('style-src')}, expected {script_src}")
    nonce = nonces[0] if nonces else None
    markup = Markup()
    markup.feed(response.content.decode())
    for script in markup.scripts:
        if script.get("type") == "application/json":  # json_script: data, never run
            continue
        if script.get("nonce") != nonce:
            problems.append(f"{path}: script {script} lacks the nonce {nonce}")
    for style in markup.styles:
        if style.get("nonce") != nonce:
            problems.append(f"{path}: <style> {style} lacks the nonce {nonce}")
    problems += [f"{path}: {refused}" for refused in markup.refused]
    return problems


def test_every_page_of_the_site_is_listed(demo):
    assert uncovered_routes(demo) == []


def test_every_html_page_has_the_strict_policy_and_nonced_scripts(demo):
    # given the demo data, its admin signed in, and a visitor who is not
    admin, anonymous = admin_client(), Client()
    problems, seen = [], []

    # when every page is fetched (following redirects to the page they end on)
    for route, paths in demo.items():
        client = anonymous if route in ANONYMOUS_ROUTES else admin
        for path in paths:
            response = client.get(path, follow=True)
            assert response.status_code == 200, (path, response.status_code)
            assert response["Content-Type"].startswith("text/html"), path
            problems += check_page(response, path)
            seen.append(path)
    for path in ERROR_PAGES:
        response = admin.get(path)
        assert response.status_code == 404, (path, response.status_code)
        problems += check_page(response, path)

    # then each carries the policy and nothing in it needs more
    assert problems == []
    assert len(seen) >= 38


@pytest.mark.django_db
def test_first_run_setup_page_has_the_policy():
    response = Client().get("/setup/")
    assert response.status_code == 200
    assert check_page(response, "/setup/") == []


def test_the_nonce_is_new_on_every_response_and_matches_the_scripts(demo):
    client = admin_client()
    path = next(iter(demo["projects/<str:project_id>/imports/<str:job_id>/"]))
    nonces = []
    for _ in range(2):
        response = client.get(path)
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
        html = response.content.decode()
        # console.js and imports.js, both with this response's nonce
        assert html.count(f'nonce="{nonce}"') == 2
        assert len(nonce) >= 22  # 16 random bytes, base64
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_a_response_that_sets_its_own_policy_keeps_it(demo, settings, tmp_path):
    # Uploaded instructions (HTML may run scripts) keep their stricter `sandbox` policy.
    from django.core.files.base import ContentFile

    from labelhub.projects.models import Project

    project = Project.objects.get(name="Street scenes")
    project.instructions_kind = Project.InstructionsKind.FILE
    project.instructions_file.save("guide.html", ContentFile(b"<script>alert(1)</script>"))
    project.save()
    response = admin_client().get(f"/projects/{project.pk}/instructions/file")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "sandbox"
