"""The data row page of a project: shapes drawn over an image, entity highlights in a text,
the side panel, the pre-label confidence threshold per viewer, and who may open it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from labelhub.labeling.models import Annotation, Batch, Task
from labelhub.projects.models import DataRow, Dataset, FeatureSchema, Project
from tests.factories import make_member
from tests.imports.helpers import make_import_project

pytestmark = pytest.mark.django_db

TREE = {
    "tools": [
        {
            "tool": "rectangle",
            "name": "Car",
            "color": "#FF0000",
            "featureSchemaId": "ckcar",
            "classifications": [
                {
                    "type": "radio",
                    "name": "Occluded",
                    "featureSchemaId": "ckoccluded",
                    "options": [
                        {"value": "yes", "featureSchemaId": "ckyes"},
                        {"value": "no", "featureSchemaId": "ckno"},
                    ],
                }
            ],
        },
        {"tool": "polygon", "name": "Road", "color": "#00AA00", "featureSchemaId": "ckroad"},
        {"tool": "line", "name": "Lane", "color": "#0000FF", "featureSchemaId": "cklane"},
        {"tool": "point", "name": "Sign", "color": "#FFAA00", "featureSchemaId": "cksign"},
        {"tool": "raster-segmentation", "name": "Sky", "featureSchemaId": "cksky"},
        {"tool": "edge", "name": "Follows", "color": "#AA00AA", "featureSchemaId": "ckfollows"},
    ],
    "classifications": [
        {
            "type": "checklist",
            "name": "Weather",
            "featureSchemaId": "ckweather",
            "options": [
                {"value": "rain", "featureSchemaId": "ckrain"},
                {"value": "fog", "featureSchemaId": "ckfog"},
            ],
        },
        {"type": "text", "name": "Notes", "featureSchemaId": "cknotes"},
    ],
}

ENTITY_TREE = {
    "tools": [
        {"tool": "named-entity", "name": "Person", "color": "#FF0000", "featureSchemaId": "ckp"},
        {"tool": "named-entity", "name": "Place", "color": "#0000FF", "featureSchemaId": "ckpl"},
    ]
}


def annotate(project, row, schema_id, kind, value, *, uuid, confidence=1.0, source="prelabel"):
    return Annotation.objects.create(
        workspace=project.workspace,
        project=project,
        data_row=row,
        feature=FeatureSchema.objects.get(ontology=project.ontology, schema_id=schema_id),
        kind=kind,
        value=value,
        confidence=confidence,
        source=source,
        uuid=uuid,
    )


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def page_body(response):
    """The main part of the page (the header carries the path and a per-response token)."""
    return re.search(r"<main.*</main>", response.content.decode(), re.S).group(0)


def url(project, row):
    return f"/projects/{project.pk}/data-rows/{row.pk}/"


@pytest.fixture
def image(workspace, admin):
    project, rows = make_import_project(
        workspace, admin, TREE, keys=["cam-1", "cam-2"], outside=["loose"]
    )
    return project, rows


@pytest.fixture
def annotated(image):
    project, rows = image
    row = rows["cam-1"]
    annotate(
        project,
        row,
        "ckcar",
        "bbox",
        {
            "bbox": {"top": 20, "left": 10, "height": 40, "width": 30},
            "classifications": [
                {
                    "schemaId": "ckoccluded",
                    "name": "Occluded",
                    "answer": {"schemaId": "ckyes", "name": "yes", "confidence": 0.5},
                }
            ],
        },
        uuid="box-1",
        confidence=0.87,
    )
    annotate(
        project,
        row,
        "ckroad",
        "polygon",
        {"polygon": [{"x": 0, "y": 100}, {"x": 50.5, "y": 80}, {"x": 100, "y": 100}]},
        uuid="road-1",
        source="ground_truth",
    )
    annotate(
        project,
        row,
        "cklane",
        "polyline",
        {"line": [{"x": 5, "y": 95}, {"x": 60, "y": 70.25}]},
        uuid="lane-1",
        confidence=0.9,
    )
    annotate(project, row, "cksign", "point", {"point": {"x": 70, "y": 15}}, uuid="sign-1")
    annotate(
        project,
        row,
        "cksky",
        "mask",
        {"mask": {"instanceURI": "https://masks.test/sky.png", "colorRGB": [0, 0, 255]}},
        uuid="sky-1",
    )
    annotate(
        project,
        row,
        "ckfollows",
        "relationship",
        {"relationship": {"source": "box-1", "target": "sign-1"}},
        uuid="rel-1",
    )
    annotate(
        project,
        row,
        "ckweather",
        "checklist",
        {
            "answers": [
                {"schemaId": "ckrain", "name": "rain", "confidence": 0.8},
                {"schemaId": "ckfog", "name": "fog"},
            ]
        },
        uuid="weather-1",
        confidence=0.7,
    )
    annotate(project, row, "cknotes", "text", {"answer": "wet <b>road</b>"}, uuid="notes-1")
    return project, row


def test_image_row_draws_each_shape_with_exact_geometry(admin, annotated):
    project, row = annotated
    r = client_for(admin).get(url(project, row))
    html = r.content.decode()
    assert r.status_code == 200
    assert (
        '<rect x="10" y="20" width="30" height="40" stroke="#FF0000" fill="#FF0000" '
        'fill-opacity="0.15" stroke-dasharray="6 4" class="shape shape-bbox source-prelabel" '
        'data-uuid="box-1"><title>Car · confidence 0.87</title></rect>'
    ) in html
    # ground truth: solid (no dash array)
    assert (
        '<polygon points="0,100 50.5,80 100,100" stroke="#00AA00" fill="#00AA00" '
        'fill-opacity="0.15" class="shape shape-polygon source-ground_truth" '
        'data-uuid="road-1"><title>Road · confidence 1.00</title></polygon>'
    ) in html
    assert '<polyline points="5,95 60,70.25" stroke="#0000FF" fill="none"' in html
    # no image size known: the viewBox is the annotations' extent (100 × 100) plus 5%
    assert 'viewBox="0 0 105 105"' in html
    assert '<circle cx="70" cy="15" r="1.05" stroke="#FFAA00"' in html
    # relationship from the box's centre (25, 40) to the point (70, 15)
    assert '<line x1="25" y1="40" x2="70" y2="15" stroke="#AA00AA"' in html
    # the mask is listed with its URL, not drawn
    assert 'data-uuid="sky-1"><title>' not in html
    assert '<a href="https://masks.test/sky.png"' in html
    assert '<img src="https://example.com/cam-1"' in html


def test_side_panel_lists_objects_and_classifications(admin, annotated):
    project, row = annotated
    html = client_for(admin).get(url(project, row)).content.decode()
    assert '<strong>Car</strong> <span class="muted">Bounding box</span>' in html
    assert 'confidence <span class="confidence">0.87</span> · <code class="uuid">box-1</code>' in (
        html
    )
    assert '<span class="badge badge-source-ground_truth">Ground truth</span>' in html
    # nested radio under the box, with the answer's confidence
    assert (
        '<li class="cls depth-1"><span class="cls-name">Occluded</span> → '
        '<span class="cls-answer">yes <span class="muted">(0.50)</span></span></li>'
    ) in html
    assert (
        '<strong>Weather</strong> → <span class="cls-answer">rain <span class="muted">(0.80)'
        '</span></span>, <span class="cls-answer">fog</span>'
    ) in html
    # free text answers are escaped
    assert '<span class="cls-answer">wet &lt;b&gt;road&lt;/b&gt;</span>' in html
    assert "<b>road</b>" not in html


def test_image_size_from_metadata_sets_the_viewbox(admin, image):
    project, rows = image
    row = rows["cam-2"]
    DataRow.objects.filter(pk=row.pk).update(
        metadata={"mediaAttributes": {"width": 1920, "height": 1080}}
    )
    annotate(project, row, "cksign", "point", {"point": {"x": 5, "y": 5}}, uuid="p")
    html = client_for(admin).get(url(project, row)).content.decode()
    assert 'viewBox="0 0 1920 1080"' in html
    assert 'width="1920" height="1080" data-asset-image' in html
    assert '<circle cx="5" cy="5" r="19.2"' in html


def test_threshold_hides_low_prelabels_from_labelers_and_marks_them_for_admins(
    admin, labeler, annotated
):
    project, row = annotated
    Project.objects.filter(pk=project.pk).update(prelabel_confidence_threshold=0.5)
    project.refresh_from_db()
    annotate(
        project,
        row,
        "ckcar",
        "bbox",
        {"bbox": {"top": 1, "left": 2, "height": 3, "width": 4}},
        uuid="faint-box",
        confidence=0.3,
    )
    annotate(
        project,
        row,
        "ckfollows",
        "relationship",
        {"relationship": {"source": "faint-box", "target": "sign-1"}},
        uuid="faint-rel",
    )

    as_labeler = client_for(labeler).get(url(project, row)).content.decode()
    as_admin = client_for(admin).get(url(project, row)).content.decode()

    assert "faint-box" not in as_labeler
    assert "faint-rel" not in as_labeler  # a relationship would reveal the hidden object
    assert "below the confidence threshold" not in as_labeler
    assert "below threshold" not in as_labeler
    assert 'data-uuid="box-1"' in as_labeler  # 0.87 is above the threshold
    assert (
        '<rect x="2" y="1" width="4" height="3" stroke="#FF0000" fill="#FF0000" '
        'fill-opacity="0.15" stroke-dasharray="6 4" opacity="0.4" '
        'class="shape shape-bbox source-prelabel shape-below" data-uuid="faint-box">'
        "<title>Car · confidence 0.30 · below threshold</title></rect>"
    ) in as_admin
    assert (
        '<p class="message message-warning" data-testid="below-threshold-note">1 pre-label '
        "below the confidence threshold (0.50) is hidden from labelers."
    ) in as_admin
    assert 'data-uuid="faint-rel"' in as_admin


def test_text_row_highlights_entities_escaped_and_split_on_overlap(workspace, admin):
    project, rows = make_import_project(
        workspace, admin, ENTITY_TREE, media_type="text", keys=["doc", "remote"]
    )
    row = rows["doc"]
    text = "Ada <script>alert(1)</script> went to Paris"
    DataRow.objects.filter(pk=row.pk).update(row_data=text)
    row.refresh_from_db()
    annotate(project, row, "ckp", "entity", {"location": {"start": 0, "end": 12}}, uuid="e1")
    annotate(
        project,
        row,
        "ckpl",
        "entity",
        {"location": {"start": 4, "end": 20}},
        uuid="e2",
        confidence=0.75,
        source="ground_truth",
    )
    annotate(project, row, "ckpl", "entity", {"location": {"start": 38, "end": 43}}, uuid="e3")

    html = client_for(admin).get(url(project, row)).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert (
        '<div class="asset-text" data-testid="asset-text">'
        '<mark class="entity source-prelabel" data-colour="#FF0000" '
        'title="Person · confidence 1.00" data-uuids="e1">Ada </mark>'
        '<mark class="entity source-prelabel entity-overlap" data-colour="#FF0000" '
        'title="Person · confidence 1.00; Place · confidence 0.75" data-uuids="e1 e2">'
        "&lt;script&gt;</mark>"
        '<mark class="entity source-ground_truth" data-colour="#0000FF" '
        'title="Place · confidence 0.75" data-uuids="e2">alert(1)</mark>'
        "&lt;/script&gt; went to "
        '<mark class="entity source-prelabel" data-colour="#0000FF" '
        'title="Place · confidence 1.00" data-uuids="e3">Paris</mark></div>'
    ) in html

    # text behind a URL: a link and a table, no highlighting
    remote = rows["remote"]
    annotate(project, remote, "ckp", "entity", {"location": {"start": 3, "end": 9}}, uuid="r1")
    html = client_for(admin).get(url(project, remote)).content.decode()
    assert '<a href="https://example.com/remote"' in html
    assert "<td>characters 3–9</td>" in html
    assert "asset-text" not in html


def test_other_media_get_a_table(workspace, admin):
    tree = {"tools": [{"tool": "rectangle", "name": "Box", "featureSchemaId": "ckbox"}]}
    project, rows = make_import_project(workspace, admin, tree, media_type="document", keys=["d"])
    annotate(
        project,
        rows["d"],
        "ckbox",
        "document_bbox",
        {"bbox": {"top": 1, "left": 2, "height": 3, "width": 4}, "page": 2, "unit": "POINTS"},
        uuid="db",
        confidence=0.654,
    )
    html = client_for(admin).get(url(project, rows["d"])).content.decode()
    assert ('<td>Document box</td><td><span class="swatch" data-colour="#') in html
    assert ('<td class="num">0.65</td><td>left 2, top 1, 4×3 points on page 2</td>') in html


def test_rows_outside_the_project_answer_404_like_missing_ones(
    admin, image, other_workspace, other_admin
):
    project, rows = image
    c = client_for(admin)
    missing = c.get(f"/projects/{project.pk}/data-rows/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404
    assert "<p>Data row not found.</p>" in missing.content.decode()
    expected = (404, page_body(missing))
    # a row of the workspace that is in none of the project's batches
    loose = c.get(url(project, rows["loose"]))
    assert (loose.status_code, page_body(loose)) == expected
    # a malformed id
    assert page_body(c.get(f"/projects/{project.pk}/data-rows/nope/")) == expected[1]
    # a row of another workspace (even in a project there)
    other_ds = Dataset.objects.create(workspace=other_workspace, name="Theirs")
    theirs = DataRow.objects.create(
        workspace=other_workspace,
        dataset=other_ds,
        row_data="https://x.test/t.jpg",
        media_type="image",
    )
    r = c.get(url(project, theirs))
    assert (r.status_code, page_body(r)) == expected
    # a row of another project of the same workspace
    other_project = Project.objects.create(workspace=project.workspace, name="Other")
    batch = Batch.objects.create(workspace=project.workspace, project=other_project, name="B")
    elsewhere = DataRow.objects.create(
        workspace=project.workspace,
        dataset=rows["loose"].dataset,
        row_data="https://x.test/e.jpg",
        media_type="image",
    )
    Task.objects.create(
        workspace=project.workspace, project=other_project, data_row=elsewhere, batch=batch
    )
    r = c.get(url(project, elsewhere))
    assert (r.status_code, page_body(r)) == expected
    assert c.get(url(other_project, elsewhere)).status_code == 200
    # a member of another workspace does not see the project at all
    assert client_for(other_admin).get(url(project, rows["cam-1"])).status_code == 404


def test_anonymous_is_sent_to_sign_in(image):
    project, rows = image
    r = Client().get(url(project, rows["cam-1"]))
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/sign-in/")


def test_project_based_member_without_the_project_gets_404(workspace, image):
    from labelhub.workspaces.models import Role

    project, rows = image
    pb = make_member(workspace, Role.PROJECT_BASED, email="pb@alpha.test")
    assert client_for(pb).get(url(project, rows["cam-1"])).status_code == 404


def test_data_rows_tab_links_each_row(admin, image):
    project, rows = image
    html = client_for(admin).get(f"/projects/{project.pk}/data-rows/").content.decode()
    for key in ("cam-1", "cam-2"):
        link = f'<a class="row-link" href="{url(project, rows[key])}" title="Open data row {key} ('
        assert link in html
    assert url(project, rows["loose"]) not in html
