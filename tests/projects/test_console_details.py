"""Details of the projects app's pages a new user meets in the first hour: instructions
rendered from markdown, settings checkboxes inside their labels, the ontology editor's
Remove only where the server allows it, dataset rows that open their page, metadata
read as key/value lists."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client

from labelhub.projects.models import Project
from labelhub.projects.services.projects import project_create

pytestmark = pytest.mark.django_db

INSTRUCTIONS = (
    "## Boxes\n\nDraw **tight** boxes.\n\n<script>alert(1)</script>\n"
    '[guide](javascript:alert(1)) <a href="https://x.test" onclick="alert(2)">site</a>\n'
)


@pytest.fixture
def web(admin):
    c = Client()
    c.force_login(admin)
    return c


@pytest.fixture
def project(workspace, admin):
    project = project_create(workspace=workspace, actor=admin, name="Streets", media_type="image")
    Project.objects.filter(pk=project.pk).update(
        instructions_kind="markdown", instructions_text=INSTRUCTIONS
    )
    project.refresh_from_db()
    return project


def main(html: str) -> str:
    return re.search(r"<main.*</main>", html, re.S).group(0)


def assert_rendered_and_clean(html: str) -> None:
    assert "<h2>Boxes</h2>" in html
    assert "<strong>tight</strong>" in html
    assert "**tight**" not in html
    assert "<script>alert(1)" not in html and "alert(1)</script>" not in html
    assert 'href="javascript:' not in html
    assert "onclick" not in html
    assert '<a href="https://x.test" target="_blank" rel="noopener noreferrer">site</a>' in html


def test_overview_renders_the_markdown_instructions(web, project):
    html = main(web.get(f"/projects/{project.pk}/").content.decode())
    assert '<pre class="instructions">' not in html
    assert_rendered_and_clean(html)


def test_task_page_instructions_render_the_markdown(project):
    html = render_to_string("labeling/_instructions.html", {"project": project})
    assert "<pre" not in html
    assert_rendered_and_clean(html)


def test_settings_checkboxes_sit_inside_their_labels(web, project):
    """A checkbox under a bold label of its own read as detached from it; the label now
    holds the box, as the ontology and workspace forms do."""
    html = main(web.get(f"/projects/{project.pk}/settings/").content.decode())
    for name, label in [
        ("benchmark_enabled", "Benchmarks"),
        ("consensus_enabled", "Consensus"),
        ("allow_skip", "Labelers may skip"),
        ("enforce_instructions", "Labelers must acknowledge before labeling (and after changes)"),
    ]:
        found = re.search(
            rf'<div class="field check">\s*<label for="id_{name}"><input type="checkbox" '
            rf'name="{name}"[^>]*> {re.escape(label)}</label>',
            html,
        )
        assert found, name
    # other fields keep their label above the input
    assert re.search(r'<label for="id_reservation_count">[^<]*</label>\s*<input', html)
