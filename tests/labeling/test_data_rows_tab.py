"""The data rows tab tells rows apart and reaches them: each row is named by its global key,
else its external id, else the end of its id (ids are time-ordered: their first characters
are the same for rows made together), the name links to the row's page, image rows show a
lazy thumbnail of fixed size; the data row page lists the row's metadata as lines."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from labelhub.labeling.models import Batch, Task
from labelhub.projects.models import DataRow, Dataset, Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(admin):
    c = Client()
    c.force_login(admin)
    return c


@pytest.fixture
def project(workspace):
    project = Project.objects.create(workspace=workspace, name="Streets", media_type="image")
    dataset = Dataset.objects.create(workspace=workspace, name="Cams")
    batch = Batch.objects.create(workspace=workspace, project=project, name="B1")
    specs = [
        ("https://cdn.x.test/a.jpg", "image", "cam-1", ""),
        ("/static/demo/street/street-01.svg", "image", None, "ext-7"),
        ("https://cdn.x.test/c.jpg", "image", None, ""),
        ("http://plain.x.test/d.jpg", "image", "cam-http", ""),  # not allowed by img-src
        ("A receipt", "text", "receipt-1", ""),
    ]
    rows = []
    for data, media, key, external in specs:
        row = DataRow.objects.create(
            workspace=workspace,
            dataset=dataset,
            row_data=data,
            media_type=media,
            global_key=key,
            external_id=external,
            metadata={"split": "train", "mediaAttributes": {"width": 640, "height": 480}},
        )
        rows.append(row)
        Task.objects.create(workspace=workspace, project=project, data_row=row, batch=batch)
    return project, rows


def cells(html: str) -> dict[str, str]:
    """Each table row's data-row id -> its "Data row" cell."""
    table = re.search(r'data-testid="data-rows-table">.*?</table>', html, re.S).group(0)
    return {
        m.group(1): m.group(2)
        for m in re.finditer(
            r'<tr data-key="[^"]*" data-row="([^"]+)">.*?<td class="row-cell">(.*?)</td>',
            table,
            re.S,
        )
    }


def test_rows_are_named_by_key_external_id_or_the_end_of_their_id(web, project):
    project, rows = project
    by_id = cells(web.get(f"/projects/{project.pk}/data-rows/").content.decode())
    names = {
        row_id: re.search(r'<span class="row-name">([^<]*)</span>', cell).group(1)
        for row_id, cell in by_id.items()
    }
    keyless = str(rows[2].pk)
    assert names == {
        str(rows[0].pk): "cam-1",
        str(rows[1].pk): "ext-7",
        keyless: "…" + keyless[-8:],
        str(rows[3].pk): "cam-http",
        str(rows[4].pk): "receipt-1",
    }
    for row in rows:
        link = f'<a class="row-link" href="/projects/{project.pk}/data-rows/{row.pk}/"'
        assert by_id[str(row.pk)].startswith(link)


def test_image_rows_show_a_lazy_thumbnail_of_fixed_size(web, project):
    project, rows = project
    by_id = cells(web.get(f"/projects/{project.pk}/data-rows/").content.decode())
    for row in rows[:3]:
        assert (
            f'<img class="thumb" src="{row.row_data}" alt="" loading="lazy" decoding="async" '
            'width="64" height="48">'
        ) in by_id[str(row.pk)]
    # an image the page's policy would refuse gets a blank of the same size; text rows none
    refused, text = by_id[str(rows[3].pk)], by_id[str(rows[4].pk)]
    assert "<img" not in refused and '<span class="thumb thumb-none" aria-hidden="true">' in refused
    assert "<img" not in text and "thumb" not in text


def test_data_row_page_lists_metadata_as_lines(web, project):
    project, rows = project
    html = web.get(f"/projects/{project.pk}/data-rows/{rows[0].pk}/").content.decode()
    assert "{&#x27;" not in html and "{'width'" not in html
    block = re.search(r'<dl class="kv" data-testid="row-metadata">.*?</section>', html, re.S)
    assert block, "metadata list missing"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block.group(0))).strip()
    assert text == "mediaAttributes width 640 height 480 split train"
