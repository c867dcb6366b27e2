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
    assert "<h4>Boxes</h4>" in html  # "## Boxes" under the page's h1 and the card's h2
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


@pytest.fixture
def dataset_rows(workspace, admin):
    from labelhub.labeling.models import Batch, Task
    from labelhub.projects.models import DataRow, Dataset

    dataset = Dataset.objects.create(workspace=workspace, name="Cams")
    shown = project_create(workspace=workspace, actor=admin, name="Streets", media_type="image")
    batch = Batch.objects.create(workspace=workspace, project=shown, name="B1")
    image = DataRow.objects.create(
        workspace=workspace,
        dataset=dataset,
        row_data="https://cdn.x.test/a.jpg",
        media_type="image",
        global_key="cam-1",
        metadata={"split": "train", "mediaAttributes": {"width": 640, "height": 480}},
    )
    keyless = DataRow.objects.create(
        workspace=workspace, dataset=dataset, row_data="A receipt", media_type="text"
    )
    Task.objects.create(workspace=workspace, project=shown, data_row=image, batch=batch)
    Dataset.objects.filter(pk=dataset.pk).update(row_count=2)  # the services keep it
    return dataset, image, keyless, shown


def test_dataset_rows_link_their_page_with_a_thumbnail(web, dataset_rows):
    dataset, image, keyless, _ = dataset_rows
    html = main(web.get(f"/datasets/{dataset.pk}/").content.decode())
    for row, name in [(image, "cam-1"), (keyless, "…" + str(keyless.pk)[-8:])]:
        assert (
            f'<td class="row-cell"><a class="row-link" href="/datasets/{dataset.pk}/rows/{row.pk}/"'
        ) in html
        assert f'<span class="row-name">{name}</span>' in html
    assert '<img class="thumb" src="https://cdn.x.test/a.jpg" alt="" loading="lazy"' in html
    # an object in the metadata reads as its fields, not as a Python dict
    assert "{&#x27;" not in html
    assert ">mediaAttributes: width: 640, height: 480</span>" in html


def test_dataset_row_page_shows_the_row_and_the_projects_holding_it(web, workspace, dataset_rows):
    dataset, image, keyless, shown = dataset_rows
    html = main(web.get(f"/datasets/{dataset.pk}/rows/{image.pk}/").content.decode())
    assert '<img class="asset-preview" src="https://cdn.x.test/a.jpg"' in html
    details = re.search(r'data-testid="row-details">.*?</section>', html, re.S).group(0)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", details)).strip()
    assert "Global key cam-1" in text
    assert "Metadata mediaAttributes width 640 height 480 split train" in text
    projects = re.search(r'data-testid="row-projects">.*?</section>', html, re.S).group(0)
    assert f'<a href="/projects/{shown.pk}/data-rows/{image.pk}/">Streets</a>' in projects

    html = main(web.get(f"/datasets/{dataset.pk}/rows/{keyless.pk}/").content.decode())
    assert "Not in a project you can open." in html
    assert "A receipt" in html


def test_dataset_row_page_finds_only_rows_of_that_dataset(web, workspace, dataset_rows):
    from labelhub.projects.models import Dataset

    dataset, image, _, _ = dataset_rows
    other = Dataset.objects.create(workspace=workspace, name="Other")
    for url in (
        f"/datasets/{other.pk}/rows/{image.pk}/",
        f"/datasets/{dataset.pk}/rows/not-an-id/",
        f"/datasets/not-an-id/rows/{image.pk}/",
    ):
        assert web.get(url).status_code == 404


def test_dataset_row_page_hides_projects_the_viewer_cannot_open(workspace, dataset_rows):
    from labelhub.workspaces.models import Role
    from tests.factories import make_member

    dataset, image, _, _ = dataset_rows
    outsider = make_member(workspace, Role.PROJECT_BASED, email="pb@alpha.test")
    c = Client()
    c.force_login(outsider)
    html = main(c.get(f"/datasets/{dataset.pk}/rows/{image.pk}/").content.decode())
    assert "Streets" not in html
    assert "Not in a project you can open." in html
