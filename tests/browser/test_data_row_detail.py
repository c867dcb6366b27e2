"""The data row page in a real browser: imported annotations drawn over an image line up
with it, and an image that cannot be loaded leaves a placeholder under the overlay.

The image is an inline ``data:`` SVG (no network here) that paints the same geometry in
black, so the screenshot shows at a glance whether the overlay sits on it.
"""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Annotation
from labelhub.projects.models import DataRow, FeatureSchema
from labelhub.workspaces.models import Role
from tests.browser.support import run_in_thread, sign_in
from tests.factories import PASSWORD, make_member, make_workspace
from tests.imports.helpers import make_import_project

pytestmark = pytest.mark.browser

TREE = {
    "tools": [
        {
            "tool": "rectangle",
            "name": "Car",
            "color": "#E03131",
            "featureSchemaId": "bcar",
            "classifications": [
                {
                    "type": "radio",
                    "name": "Occluded",
                    "featureSchemaId": "boccluded",
                    "options": [
                        {"value": "yes", "featureSchemaId": "byes"},
                        {"value": "no", "featureSchemaId": "bno"},
                    ],
                }
            ],
        },
        {"tool": "polygon", "name": "Road", "color": "#2F9E44", "featureSchemaId": "broad"},
        {"tool": "line", "name": "Lane", "color": "#1971C2", "featureSchemaId": "blane"},
        {"tool": "point", "name": "Sign", "color": "#F08C00", "featureSchemaId": "bsign"},
    ]
}

# 800 × 600 picture with the annotations' geometry painted in black
IMAGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">
<rect width="800" height="600" fill="#cfd8dc"/>
<rect x="80" y="120" width="240" height="160" fill="none" stroke="#000" stroke-width="2"/>
<polygon points="0,600 400,400 800,600" fill="none" stroke="#000" stroke-width="2"/>
<polyline points="40,560 760,360" fill="none" stroke="#000" stroke-width="2"/>
<circle cx="600" cy="160" r="6" fill="#000"/>
<text x="20" y="40" font-size="28" font-family="sans-serif">test image 800×600</text>
</svg>"""
IMAGE_URL = "data:image/svg+xml;base64," + base64.b64encode(IMAGE_SVG.encode()).decode()


def _seed():
    workspace = make_workspace("Browser vision")
    admin = make_member(workspace, Role.ADMIN, email="rows-admin@browser.test", name="Rows Admin")
    project, rows = make_import_project(workspace, admin, TREE, keys=["street-1", "offline-1"])
    DataRow.objects.filter(pk=rows["street-1"].pk).update(row_data=IMAGE_URL)
    # nothing listens there: the image fails to load (https: the policy lets data rows load
    # images from any https host, so this is a network failure, not a refusal)
    DataRow.objects.filter(pk=rows["offline-1"].pk).update(
        row_data="https://127.0.0.1:9/missing.jpg"
    )

    def add(row, schema_id, kind, value, uuid, confidence=1.0, source="prelabel"):
        Annotation.objects.create(
            workspace=workspace,
            project=project,
            data_row=row,
            feature=FeatureSchema.objects.get(ontology=project.ontology, schema_id=schema_id),
            kind=kind,
            value=value,
            confidence=confidence,
            source=source,
            uuid=uuid,
        )

    nested = [
        {
            "schemaId": "boccluded",
            "name": "Occluded",
            "answer": {"schemaId": "byes", "name": "yes", "confidence": 0.5},
        }
    ]
    for key in ("street-1", "offline-1"):
        row = rows[key]
        add(
            row,
            "bcar",
            "bbox",
            {
                "bbox": {"top": 120, "left": 80, "height": 160, "width": 240},
                "classifications": nested,
            },
            "car-1",
            confidence=0.87,
        )
        add(
            row,
            "broad",
            "polygon",
            {"polygon": [{"x": 0, "y": 600}, {"x": 400, "y": 400}, {"x": 800, "y": 600}]},
            "road-1",
            source="ground_truth",
        )
        add(
            row,
            "blane",
            "polyline",
            {"line": [{"x": 40, "y": 560}, {"x": 760, "y": 360}]},
            "lane-1",
            confidence=0.9,
        )
        add(row, "bsign", "point", {"point": {"x": 600, "y": 160}}, "sign-1", confidence=0.62)
    return project, rows


def _screen_box(page, selector):
    return page.locator(selector).evaluate(
        "e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }"
    )


def test_image_row_overlay_lines_up_with_the_image(new_page, screenshot):
    project, rows = run_in_thread(_seed)
    page = new_page("admin")
    sign_in(page, "rows-admin@browser.test", PASSWORD)
    expect(page.locator("main h1")).to_be_visible()

    page.goto(f"/projects/{project.pk}/data-rows/")
    page.get_by_title("Open data row street-1").click()
    expect(page.locator("h2.row-title code")).to_have_text("street-1")

    overlay = page.get_by_test_id("overlay")
    asset = page.get_by_test_id("asset")
    expect(asset).to_have_class("asset asset-image asset-loaded")
    expect(overlay).to_have_attribute("viewBox", "0 0 800 600")
    expect(overlay.locator("rect.shape-bbox")).to_have_attribute("width", "240")
    expect(overlay.locator("polygon.shape")).to_have_attribute("points", "0,600 400,400 800,600")
    expect(overlay.locator("polyline.shape")).to_have_attribute("points", "40,560 760,360")
    expect(overlay.locator("circle.shape")).to_have_attribute("r", "8")
    expect(overlay.locator("rect.shape-bbox title")).to_have_text("Car · confidence 0.87")
    expect(overlay.locator(".placeholder")).to_be_hidden()

    # the overlay covers the image exactly, and the box sits where the image painted it
    img = _screen_box(page, "[data-asset-image]")
    svg = _screen_box(page, "[data-overlay]")
    assert [round(v) for v in svg] == [round(v) for v in img]
    scale = img[2] / 800
    box = _screen_box(page, "[data-overlay] rect.shape-bbox")
    expected = [img[0] + 80 * scale, img[1] + 120 * scale, 240 * scale, 160 * scale]
    assert [round(v) for v in box] == [round(v) for v in expected]

    panel = page.get_by_test_id("objects")
    expect(panel.locator("li.annotation")).to_have_count(4)
    expect(panel.locator('li[data-uuid="car-1"] .cls')).to_have_text("Occluded → yes (0.50)")
    expect(panel.locator('li[data-uuid="sign-1"] .confidence')).to_have_text("0.62")
    screenshot(page, "01-image-overlay")

    page.goto(f"/projects/{project.pk}/data-rows/{rows['offline-1'].pk}/")
    expect(asset).to_have_class("asset asset-image asset-size-unknown asset-missing")
    expect(overlay.locator(".placeholder")).to_be_visible()
    expect(page.locator("[data-asset-note]")).to_be_visible()
    expect(overlay.locator(".shape")).to_have_count(4)
    screenshot(page, "02-image-unavailable")


ENTITY_TREE = {
    "tools": [
        {"tool": "named-entity", "name": "Person", "color": "#E03131", "featureSchemaId": "bper"},
        {"tool": "named-entity", "name": "Place", "color": "#1971C2", "featureSchemaId": "bpla"},
    ],
    "classifications": [
        {
            "type": "checklist",
            "name": "Topics",
            "featureSchemaId": "btopics",
            "options": [
                {"value": "travel", "featureSchemaId": "btravel"},
                {"value": "history", "featureSchemaId": "bhistory"},
            ],
        }
    ],
}


def _seed_text():
    workspace = make_workspace("Browser text")
    admin = make_member(workspace, Role.ADMIN, email="text-admin@browser.test", name="Text Admin")
    project, rows = make_import_project(
        workspace, admin, ENTITY_TREE, media_type="text", keys=["note-1"]
    )
    project.prelabel_confidence_threshold = 0.6
    project.save(update_fields=["prelabel_confidence_threshold"])
    row = rows["note-1"]
    row.row_data = "Ada Lovelace <b>travelled</b> from London to Paris in 1835."
    row.save(update_fields=["row_data"])
    made = [
        ("bper", "entity", {"location": {"start": 0, "end": 12}}, "p1", 0.95, "prelabel"),
        ("bpla", "entity", {"location": {"start": 4, "end": 25}}, "o1", 0.4, "prelabel"),
        ("bpla", "entity", {"location": {"start": 35, "end": 41}}, "l1", 1.0, "ground_truth"),
        ("bpla", "entity", {"location": {"start": 45, "end": 50}}, "l2", 0.7, "prelabel"),
        (
            "btopics",
            "checklist",
            {"answers": [{"name": "travel", "schemaId": "btravel", "confidence": 0.9}]},
            "t1",
            0.9,
            "prelabel",
        ),
    ]
    for schema_id, kind, value, uuid, confidence, source in made:
        Annotation.objects.create(
            workspace=workspace,
            project=project,
            data_row=row,
            feature=FeatureSchema.objects.get(ontology=project.ontology, schema_id=schema_id),
            kind=kind,
            value=value,
            confidence=confidence,
            source=source,
            uuid=uuid,
        )
    return project, row


def test_text_row_highlights_entities_and_marks_low_prelabels_for_admins(new_page, screenshot):
    project, row = run_in_thread(_seed_text)
    page = new_page("admin")
    sign_in(page, "text-admin@browser.test", PASSWORD)
    expect(page.locator("main h1")).to_be_visible()
    page.goto(f"/projects/{project.pk}/data-rows/{row.pk}/")

    text = page.get_by_test_id("asset-text")
    expect(text).to_have_text("Ada Lovelace <b>travelled</b> from London to Paris in 1835.")
    expect(text.locator("b")).to_have_count(0)
    expect(text.locator("mark")).to_have_text(
        ["Ada ", "Lovelace", " <b>travelled", "London", "Paris"]
    )
    expect(text.locator("mark.entity-below")).to_have_text([" <b>travelled"])
    expect(page.get_by_test_id("below-threshold-note")).to_contain_text(
        "1 pre-label below the confidence threshold (0.60) is hidden from labelers."
    )
    expect(page.get_by_test_id("classifications").locator(".annotation-head")).to_have_text(
        "Topics → travel (0.90)"
    )
    screenshot(page, "01-text-entities")
