"""The labeling editor in a real browser, used with the mouse and the keyboard as a person
would: boxes drawn at two zoom levels land on exact image pixels, a polygon is drawn and
one vertex moved, a box is moved, a nested radio is answered, undo / redo walk it all
back and forth, Delete removes, required questions are listed before the server is
asked, and the submitted label holds exactly what was drawn. A pre-label is edited, the
page reloaded mid-label (the draft is back), and a double click submits once. A text
entity is made by selecting characters (its offsets are code points, as imports store
them) and linked to another.

Images are inline ``data:`` SVGs (no network here).
"""

from __future__ import annotations

import base64
import math
import struct
import time
import zlib

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Annotation, Draft, Label
from labelhub.labeling.services import batches
from labelhub.projects.models import DataRow, Dataset, Project
from labelhub.projects.services.ontologies import ontology_create
from labelhub.projects.services.projects import project_create
from labelhub.workspaces.models import Role
from tests.browser.support import run_in_thread, sign_in
from tests.factories import PASSWORD, make_member, make_workspace

pytestmark = pytest.mark.browser

IMAGE_TREE = {
    "tools": [
        {
            "tool": "rectangle",
            "name": "Car",
            "color": "#FF6B6B",
            "classifications": [
                {
                    "type": "radio",
                    "name": "occluded",
                    "options": [
                        {
                            "label": "yes",
                            "options": [
                                {
                                    "type": "radio",
                                    "name": "how much",
                                    "options": [{"label": "partly"}, {"label": "mostly"}],
                                }
                            ],
                        },
                        {"label": "no"},
                    ],
                }
            ],
        },
        {"tool": "polygon", "name": "Road", "color": "#4C6EF5"},
        {"tool": "point", "name": "Person", "color": "#40C057"},
        {"tool": "raster-segmentation", "name": "Sky", "color": "#15AABF"},
    ],
    "classifications": [
        {
            "type": "radio",
            "name": "weather",
            "required": True,
            "options": [{"label": "sunny"}, {"label": "rainy"}],
        }
    ],
}

TEXT_TREE = {
    "tools": [
        {"tool": "named-entity", "name": "Total", "color": "#FAB005"},
        {"tool": "named-entity", "name": "Date", "color": "#BE4BDB"},
        {"tool": "edge", "name": "Paid on", "color": "#12B886"},
    ],
    "classifications": [],
}

RECEIPT = "Total 😀 12.50 € paid on 2026-11-29."


def _image(width=640, height=400) -> str:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="{width}" height="{height}" fill="#74c0fc"/>'
        f'<rect x="0" y="{height - 100}" width="{width}" height="100" fill="#868e96"/></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _project(name, tree, media, row_data, *, rows=1, threshold=0.0, **batch_options):
    workspace = make_workspace(f"Editor {name}")
    admin = make_member(workspace, Role.ADMIN, email=f"admin-{name}@editor.test")
    make_member(workspace, Role.LABELER, email=f"lena-{name}@editor.test", name="Lena")
    ontology = ontology_create(workspace=workspace, actor=admin, name=name, ontology=tree)
    project = project_create(
        workspace=workspace, actor=admin, name=name, media_type=media, ontology=str(ontology.pk)
    )
    Project.objects.filter(pk=project.pk).update(prelabel_confidence_threshold=threshold)
    dataset = Dataset.objects.create(workspace=workspace, name=f"{name} rows")
    made = [
        DataRow.objects.create(
            workspace=workspace,
            dataset=dataset,
            row_data=row_data,
            media_type=media,
            global_key=f"{name}-{i}",
        )
        for i in range(rows)
    ]
    batches.batch_create(
        project=project,
        actor=admin,
        name="Batch 1",
        data_row_ids=[str(r.pk) for r in made],
        **batch_options,
    )
    return project, made


def _open_editor(page, project, email):
    sign_in(page, email, PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    expect(page.locator("[data-editor]")).to_have_attribute("data-ready", "true")


class Canvas:
    """Aims the mouse at image pixels through the view the editor publishes."""

    def __init__(self, page):
        self.page = page
        self.box = page.get_by_test_id("canvas")

    def view(self):
        return {k: float(self.box.get_attribute(f"data-{k}")) for k in ("scale", "x", "y")}

    def at(self, x, y):
        # the canvas's pixel grid starts at its rounded position (as the editor counts it)
        rect = self.box.bounding_box()
        left, top = math.floor(rect["x"] + 0.5), math.floor(rect["y"] + 0.5)
        v = self.view()
        px, py = left + v["x"] + x * v["scale"], top + v["y"] + y * v["scale"]
        assert rect["x"] < px < rect["x"] + rect["width"], f"x={x} is off the canvas"
        assert rect["y"] < py < rect["y"] + rect["height"], f"y={y} is off the canvas"
        return px, py

    def drag(self, a, b, steps=8):
        self.page.mouse.move(*self.at(*a))
        self.page.mouse.down()
        self.page.mouse.move(*self.at(*b), steps=steps)
        self.page.mouse.up()

    def click(self, x, y):
        self.page.mouse.click(*self.at(x, y))


def _objects(page):
    return page.evaluate("() => LabelHubEditor.current.store.state.objects")


def _state_of(page, name):
    return [o for o in _objects(page) if o["name"] == name]


def test_draw_move_answer_undo_and_submit_on_an_image(new_page, screenshot):
    project, (row,) = run_in_thread(_project, "draw", IMAGE_TREE, "image", _image())
    page = new_page("labeler")
    _open_editor(page, project, "lena-draw@editor.test")
    canvas = Canvas(page)
    assert canvas.box.get_attribute("data-image-width") == "640"

    # 100 %: one screen pixel is one image pixel
    page.keyboard.press("0")
    expect(page.get_by_test_id("zoom-value")).to_have_text("100 %")
    page.keyboard.press("1")  # Car
    expect(page.get_by_test_id("tool-car")).to_have_attribute("aria-pressed", "true")
    canvas.drag((100, 50), (300, 150))
    expect(page.get_by_test_id("selected-geometry")).to_have_text("left 100, top 50, 200 × 100 px")

    # 125 %: 100 screen pixels are 80 image pixels
    page.keyboard.press("+")
    expect(page.get_by_test_id("zoom-value")).to_have_text("125 %")
    canvas.drag((400, 200), (480, 280))
    assert [o["bbox"] for o in _state_of(page, "Car")] == [
        {"top": 50, "left": 100, "height": 100, "width": 200},
        {"top": 200, "left": 400, "height": 80, "width": 80},
    ]

    # a polygon: three corners, then a click on the first closes it
    page.keyboard.press("2")
    for x, y in [(120, 240), (240, 240), (240, 320)]:
        canvas.click(x, y)
    canvas.click(120, 240)
    (road,) = _state_of(page, "Road")
    assert road["polygon"] == [{"x": 120, "y": 240}, {"x": 240, "y": 240}, {"x": 240, "y": 320}]

    # select it and move its third vertex by (+24, -16) image pixels
    page.keyboard.press("Escape")  # back to the Select tool
    expect(page.get_by_test_id("tool-select")).to_have_attribute("aria-pressed", "true")
    canvas.click(210, 260)
    expect(page.get_by_test_id("selected-geometry")).to_have_text("3 points")
    canvas.drag((240, 320), (264, 304))
    (road,) = _state_of(page, "Road")
    assert road["polygon"] == [{"x": 120, "y": 240}, {"x": 240, "y": 240}, {"x": 264, "y": 304}]

    # move the second car by (+16, +8) image pixels (20 and 10 on screen at 125 %)
    canvas.drag((440, 240), (456, 248))
    assert _state_of(page, "Car")[1]["bbox"] == {"top": 208, "left": 416, "height": 80, "width": 80}

    # the first car's nested radio, two levels deep
    canvas.click(200, 100)
    panel = page.get_by_test_id("selected-object")
    panel.get_by_label("yes").check()
    expect(panel.get_by_test_id("nested-how-much")).to_be_visible()
    panel.get_by_test_id("nested-how-much").get_by_label("mostly").check()
    first = _state_of(page, "Car")[0]
    assert [
        (c["name"], c["answer"]["name"], c["answer"]["classifications"][0]["answer"]["name"])
        for c in first["classifications"]
    ] == [("occluded", "yes", "mostly")]
    screenshot(page, "01-drawn")

    # undo walks back the answers and the move, redo brings them again
    page.locator("body").click(position={"x": 5, "y": 5})  # leave the form: keys go to the editor
    page.keyboard.press("Control+z")
    assert _state_of(page, "Car")[0]["classifications"][0]["answer"].get("classifications") is None
    page.keyboard.press("Control+z")
    assert "classifications" not in _state_of(page, "Car")[0]
    page.keyboard.press("Control+z")
    assert _state_of(page, "Car")[1]["bbox"]["left"] == 400
    page.keyboard.press("Control+Shift+z")
    page.keyboard.press("Control+Shift+z")
    page.keyboard.press("Control+Shift+z")
    assert _state_of(page, "Car")[1]["bbox"]["left"] == 416
    assert (
        _state_of(page, "Car")[0]["classifications"][0]["answer"]["classifications"][0]["answer"][
            "name"
        ]
        == "mostly"
    )

    # a point, deleted with Del, restored with undo
    page.keyboard.press("3")
    canvas.click(520, 40)
    assert [o["point"] for o in _state_of(page, "Person")] == [{"x": 520, "y": 40}]
    expect(page.get_by_test_id("objects-count")).to_have_text("4")
    page.keyboard.press("Escape")
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("objects-count")).to_have_text("3")
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("objects-count")).to_have_text("4")

    # Enter submits; the required question is listed first, without asking the server
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("missing-required")).to_have_text("Still required: weather.")
    expect(page.get_by_test_id("task-error")).to_have_text("Answer the required features first.")
    assert run_in_thread(lambda: Label.objects.filter(project=project).count()) == 0
    page.get_by_test_id("question-weather").get_by_label("sunny").check()
    expect(page.get_by_test_id("missing-required")).to_be_hidden()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("queue-empty")).to_be_visible()

    def stored():
        label = Label.objects.get(project=project, data_row=row)
        shapes = [
            (a.feature.name, a.value.get("bbox") or a.value.get("polygon") or a.value.get("point"))
            for a in Annotation.objects.filter(label=label).select_related("feature")
            if a.kind != "radio"
        ]
        return sorted(shapes, key=lambda s: (s[0], s[1].get("top", 0) if s[0] == "Car" else 0))

    assert run_in_thread(stored) == [
        ("Car", {"top": 50, "left": 100, "height": 100, "width": 200}),
        ("Car", {"top": 208, "left": 416, "height": 80, "width": 80}),
        ("Person", {"x": 520, "y": 40}),
        ("Road", [{"x": 120, "y": 240}, {"x": 240, "y": 240}, {"x": 264, "y": 304}]),
    ]


def _png(width, height, rgba=(21, 170, 191, 255)) -> str:
    """A one-colour PNG, base64 (a mask as imports carry it)."""
    raw = b"".join(b"\x00" + bytes(rgba) * width for _ in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()


def _prelabelled():
    project, (row,) = _project("pre", IMAGE_TREE, "image", _image(), threshold=0.5)
    car = project.ontology.features.get(name="Car")
    for uuid, confidence, left in (("model-1", 0.8, 100), ("model-2", 0.2, 300)):
        Annotation.objects.create(
            workspace=project.workspace,
            project=project,
            data_row=row,
            feature=car,
            kind="bbox",
            value={"bbox": {"top": 40, "left": left, "height": 60, "width": 120}},
            source="prelabel",
            confidence=confidence,
            uuid=uuid,
        )
    Annotation.objects.create(
        workspace=project.workspace,
        project=project,
        data_row=row,
        feature=project.ontology.features.get(name="Sky"),
        kind="mask",
        value={"mask": {"png": _png(64, 40)}},
        source="prelabel",
        confidence=0.9,
        uuid="model-sky",
    )
    return project, row


def test_prelabel_edited_draft_restored_and_submitted_once(new_page, screenshot):
    project, row = run_in_thread(_prelabelled)
    page = new_page("labeler")
    _open_editor(page, project, "lena-pre@editor.test")
    canvas = Canvas(page)

    # only the pre-labels above the project's threshold, with their confidence; the mask
    # is drawn over the whole image (drawing masks is not supported yet)
    expect(page.get_by_test_id("objects-count")).to_have_text("2")
    expect(page.get_by_test_id("prelabel-confidence")).to_have_text(
        ["pre-label 80 %", "pre-label 90 %"]
    )
    expect(page.get_by_test_id("tool-sky")).to_be_disabled()
    assert page.evaluate(
        "() => LabelHubEditor.current.view().layer.find('Image').map(n => [n.width(), n.height(), n.opacity()])"
    ) == [[640, 400, 0.45]]
    page.keyboard.press("0")
    canvas.drag((160, 70), (200, 90))  # grab it and move it by (+40, +20)
    assert _state_of(page, "Car")[0]["bbox"] == {"top": 60, "left": 140, "height": 60, "width": 120}
    expect(page.get_by_test_id("draft-status")).to_contain_text("Draft saved at")
    screenshot(page, "01-prelabel-moved")

    # reload mid-label: the draft is back, the object still marked as a pre-label
    page.reload()
    expect(page.locator("[data-editor]")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("draft-status")).to_have_text("Draft restored.")
    assert _state_of(page, "Car")[0]["bbox"] == {"top": 60, "left": 140, "height": 60, "width": 120}
    expect(page.get_by_test_id("prelabel-confidence")).to_have_text(
        ["pre-label 80 %", "pre-label 90 %"]
    )

    # a failed submit (no connection) keeps everything on the page, with the error shown
    page.get_by_test_id("question-weather").get_by_label("rainy").check()
    page.route("**/submit/", lambda route: route.abort())
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("task-error")).to_contain_text("Sending failed: no connection.")
    expect(page.get_by_test_id("objects-count")).to_have_text("2")
    expect(page.get_by_test_id("question-weather").get_by_label("rainy")).to_be_checked()
    page.unroute("**/submit/")
    page.get_by_test_id("submit").dblclick()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()

    def stored():
        labels = list(Label.objects.filter(project=project, data_row=row))
        mine = Annotation.objects.filter(label__in=labels, kind__in=["bbox", "mask"]).order_by(
            "kind"
        )
        return (
            len(labels),
            [
                (a.source, a.confidence, a.value["bbox"]) if a.kind == "bbox" else a.kind
                for a in mine
            ],
            Draft.objects.filter(task__project=project).count(),
        )

    # one label; the moved pre-label is the labeler's now, at full confidence
    assert run_in_thread(stored) == (
        1,
        [("human", 1.0, {"top": 60, "left": 140, "height": 60, "width": 120}), "mask"],
        0,
    )


def test_text_entities_by_selection_and_a_relationship(new_page, screenshot):
    project, (row,) = run_in_thread(_project, "text", TEXT_TREE, "text", RECEIPT)
    page = new_page("labeler")
    _open_editor(page, project, "lena-text@editor.test")
    text = page.get_by_test_id("text-editor")
    expect(text).to_have_text(RECEIPT)

    def select(fragment):
        # the rectangles of the fragment's first and last characters, from the live DOM
        start = RECEIPT.encode("utf-16-le").find(fragment.encode("utf-16-le")) // 2
        box = page.evaluate(
            """([start, length]) => {
                const node = document.querySelector('[data-text-editor]');
                const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
                let offset = 0, t, range = document.createRange(), set = 0;
                while ((t = walker.nextNode())) {
                    const end = offset + t.length;
                    if (!set && start < end) { range.setStart(t, start - offset); set = 1; }
                    if (set && start + length <= end) { range.setEnd(t, start + length - offset); break; }
                    offset = end;
                }
                const rects = range.getClientRects();
                const a = rects[0], b = rects[rects.length - 1];
                return [a.left + 1, a.top + a.height / 2, b.right - 1, b.top + b.height / 2];
            }""",
            [start, len(fragment.encode("utf-16-le")) // 2],
        )
        page.mouse.move(box[0], box[1])
        page.mouse.down()
        page.mouse.move(box[2], box[3], steps=5)
        page.mouse.up()

    page.keyboard.press("1")  # Total
    select("12.50")
    page.keyboard.press("2")  # Date
    select("2026-11-29")
    # code points, end exclusive: the emoji before "12.50" counts once
    assert [(o["name"], o["location"]) for o in _objects(page)] == [
        ("Total", {"start": 8, "end": 13}),
        ("Date", {"start": 24, "end": 34}),
    ]
    assert RECEIPT[8:13] == "12.50" and RECEIPT[24:34] == "2026-11-29"
    expect(text.locator("mark.entity")).to_have_count(2)

    page.keyboard.press("3")  # Paid on: the total, then the date
    text.locator("mark.entity").nth(0).click()
    text.locator("mark.entity").nth(1).click()
    total, date, link = _objects(page)
    assert link["relationship"] == {
        "source": total["uuid"],
        "target": date["uuid"],
        "type": "unidirectional",
    }
    expect(page.get_by_test_id("object-item").nth(2)).to_contain_text("Paid on: Total 1 → Date 1")
    screenshot(page, "01-entities")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()

    def stored():
        values = {
            a.feature.name: a
            for a in Annotation.objects.filter(project=project, source="human").select_related(
                "feature"
            )
        }
        rel = values["Paid on"].value["relationship"]
        return (
            values["Total"].value["location"],
            values["Date"].value["location"],
            (rel["source"], rel["target"]) == (values["Total"].uuid, values["Date"].uuid),
        )

    assert run_in_thread(stored) == ({"start": 8, "end": 13}, {"start": 24, "end": 34}, True)


def test_shortcuts_panel_and_escape_cancels_a_polygon(new_page):
    project, _ = run_in_thread(_project, "keys", IMAGE_TREE, "image", _image())
    page = new_page("labeler")
    _open_editor(page, project, "lena-keys@editor.test")
    page.keyboard.press("?")
    dialog = page.get_by_test_id("shortcuts-help")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Undo / redo")
    page.get_by_test_id("shortcuts-close").click()
    expect(dialog).to_be_hidden()

    canvas = Canvas(page)
    page.keyboard.press("2")
    canvas.click(50, 50)
    canvas.click(100, 50)
    page.keyboard.press("Escape")  # cancels the polygon being drawn, keeps the tool
    expect(page.get_by_test_id("tool-road")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Enter")  # nothing to finish: this is a submit, refused locally
    expect(page.get_by_test_id("missing-required")).to_have_text("Still required: weather.")
    assert _objects(page) == []


def _reviewed_project():
    from labelhub.labeling.services import queue, work
    from tests.labeling.helpers import grant_review_only, task_of

    project, (row,) = _project("review", IMAGE_TREE, "image", _image())
    workspace = project.workspace
    lena = workspace.memberships.get(user__email="lena-review@editor.test").user
    # a reviewer whose role may not rework: the label is shown, not editable
    rob = make_member(workspace, Role.PROJECT_BASED, email="rob-review@editor.test", name="Rob")
    admin = workspace.memberships.get(user__email="admin-review@editor.test").user
    grant_review_only(workspace, admin, project, rob)
    make_member(workspace, Role.TEAM_MANAGER, email="max-review@editor.test", name="Max")
    queue.queue_next(project=project, actor=lena)
    box = {"top": 40, "left": 100, "height": 60, "width": 120}
    work.label_submit(
        task=task_of(project, row),
        actor=lena,
        annotations=[
            {"name": "weather", "answer": {"name": "sunny"}},
            {"name": "Car", "bbox": box},
        ],
    )
    return project, row


def test_review_on_the_canvas_reject_then_correct_and_approve(new_page, screenshot):
    from labelhub.labeling.models import LabelVersion

    project, row = run_in_thread(_reviewed_project)

    # a reviewer who may not rework sees the label on the canvas, read-only
    rob = new_page("reviewer")
    sign_in(rob, "rob-review@editor.test", PASSWORD)
    rob.goto(f"/projects/{project.pk}/review/")
    expect(rob.locator("[data-editor]")).to_have_attribute("data-ready", "true")
    expect(rob.get_by_test_id("label-author")).to_have_text("lena-review@editor.test")
    expect(rob.get_by_test_id("review-label")).to_contain_text("1 version")
    expect(rob.get_by_test_id("objects-count")).to_have_text("1")
    expect(rob.get_by_test_id("tool-car")).to_be_disabled()
    expect(rob.get_by_test_id("review-editable")).to_have_count(0)
    assert [o["bbox"] for o in _layer_objects(rob)] == [
        {"top": 40, "left": 100, "height": 60, "width": 120}
    ]
    rob.get_by_test_id("review-reason").fill("The car is wider than that.")
    rob.get_by_test_id("reject").click()
    expect(rob.get_by_test_id("queue-empty")).to_be_visible()

    # the labeler reworks it: the rejected label is on the canvas, the reason beside it
    lena = new_page("labeler")
    sign_in(lena, "lena-review@editor.test", PASSWORD)
    lena.goto(f"/projects/{project.pk}/rework/")
    expect(lena.locator("[data-editor]")).to_have_attribute("data-ready", "true")
    expect(lena.get_by_test_id("rejection-reason")).to_have_text("The car is wider than that.")
    canvas = Canvas(lena)
    lena.keyboard.press("0")
    canvas.click(160, 70)  # select the box, then widen it by its right-middle anchor
    canvas.drag((220, 70), (260, 70))
    assert _objects(lena)[0]["bbox"] == {"top": 40, "left": 100, "height": 60, "width": 160}
    lena.get_by_test_id("submit").click()
    expect(lena.get_by_test_id("queue-empty")).to_be_visible()

    # a manager may correct it in review: versions are layers, the edit goes with approve
    max_ = new_page("manager")
    sign_in(max_, "max-review@editor.test", PASSWORD)
    max_.goto(f"/projects/{project.pk}/review/")
    expect(max_.locator("[data-editor]")).to_have_attribute("data-ready", "true")
    expect(max_.get_by_test_id("review-editable")).to_be_visible()
    expect(max_.get_by_test_id("review-label")).to_contain_text("reworked 1×")
    layers = max_.get_by_test_id("layers")
    expect(layers.locator("label")).to_have_text(
        ["lena-review@editor.test (current)", "version 1 · label by lena-review@editor.test"]
    )
    layers.get_by_label("version 1 · label by lena-review@editor.test").check()
    assert [o["bbox"]["width"] for o in _layer_objects(max_)] == [120]
    expect(max_.get_by_test_id("tool-car")).to_be_disabled()
    screenshot(max_, "01-review-version-1")
    layers.get_by_label("lena-review@editor.test (current)").check()
    assert [o["bbox"]["width"] for o in _objects(max_)] == [160]
    canvas = Canvas(max_)
    max_.keyboard.press("0")
    canvas.drag((180, 70), (180, 90))  # move it down by 20
    max_.get_by_test_id("review-score").fill("80")
    max_.get_by_test_id("approve").click()
    expect(max_.get_by_test_id("queue-empty")).to_be_visible()

    def stored():
        label = Label.objects.get(project=project, data_row=row)
        boxes = [a.value["bbox"] for a in Annotation.objects.filter(label=label, kind="bbox")]
        versions = [
            (v.number, v.mode, v.author.email)
            for v in LabelVersion.objects.filter(label=label).order_by("number")
        ]
        return label.status, label.score, boxes, versions

    assert run_in_thread(stored) == (
        "approved",
        80,
        [{"top": 60, "left": 100, "height": 60, "width": 160}],
        [
            (1, "label", "lena-review@editor.test"),
            (2, "rework", "lena-review@editor.test"),
            (3, "review", "max-review@editor.test"),
        ],
    )


def _layer_objects(page):
    return page.evaluate(
        "() => [].concat(...(LabelHubEditor.current.ui.layers || []).map(l => l.objects))"
    )


NOTES_TREE = {
    "tools": [],
    "classifications": [
        {"type": "text", "name": "notes"},
        {"type": "radio", "name": "clear", "options": [{"label": "yes"}, {"label": "no"}]},
    ],
}


def test_authentic_input_blocks_paste_and_notes_rapid_entry(new_page):
    from labelhub.labeling.models import InputEvent

    def seed():
        project, rows = _project("auth", NOTES_TREE, "text", "A receipt: total 12.50.")
        Project.objects.filter(pk=project.pk).update(authentic_input_protection=True)
        return project, rows

    project, (row,) = run_in_thread(seed)
    page = new_page("labeler")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    _open_editor(page, project, "lena-auth@editor.test")
    notes = page.get_by_test_id("question-notes").locator("textarea")

    # typed at a person's pace: nothing to note
    notes.click()
    page.keyboard.type("total ok", delay=120)
    # pasted: refused, said, recorded on the row
    page.evaluate("() => navigator.clipboard.writeText('copied from somewhere else')")
    page.keyboard.press("Control+v")
    expect(notes).to_have_value("total ok")
    expect(page.get_by_test_id("editor-notice")).to_have_text(
        "Pasting is turned off in this project: type the answer."
    )
    # 60 characters in one go: not typed by a person (after the 2 s the rate is taken
    # over, so the typing above is not counted with it)
    page.wait_for_timeout(2100)
    notes.fill("total ok " + "x" * 51)

    def events():
        return sorted(
            (e.kind, e.user.email, e.detail)
            for e in InputEvent.objects.filter(data_row=row).select_related("user")
        )

    deadline = time.monotonic() + 10
    while len(run_in_thread(events)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    (paste, rapid) = run_in_thread(events)
    assert paste == ("paste", "lena-auth@editor.test", {"characters": 26})
    assert rapid[:2] == ("rapid_entry", "lena-auth@editor.test")
    assert rapid[2]["characters"] == 60

    # the answer still submits
    page.get_by_test_id("question-clear").get_by_label("yes").check()
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()


def test_an_audio_row_plays_and_its_classifications_submit(new_page):
    project, (row,) = run_in_thread(
        _project, "audio", NOTES_TREE, "audio", "https://x.test/call.mp3"
    )
    page = new_page("labeler")
    _open_editor(page, project, "lena-audio@editor.test")
    expect(page.get_by_test_id("asset-audio")).to_have_attribute("src", "https://x.test/call.mp3")
    expect(page.get_by_test_id("media-note")).to_have_text(
        "Answer the classifications beside it; drawing on audio rows is not supported yet."
    )
    page.get_by_test_id("question-clear").get_by_label("no").check()
    page.get_by_test_id("question-notes").locator("textarea").fill("two voices")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()

    def answers():
        return sorted(
            (a.feature.name, a.value.get("answer"))
            for a in Annotation.objects.filter(project=project, source="human").select_related(
                "feature"
            )
        )

    assert run_in_thread(answers) == [
        ("clear", {"name": "no", "schemaId": _schema(project, "no")}),
        ("notes", "two voices"),
    ]


def _schema(project, name):
    return run_in_thread(lambda: project.ontology.features.get(name=name).schema_id)


def _consensus_project():
    from labelhub.labeling.services import queue, work
    from tests.labeling.helpers import task_of

    project, (row,) = _project(
        "cons", IMAGE_TREE, "image", _image(), consensus_coverage=100, consensus_labels=2
    )
    workspace = project.workspace
    lena = workspace.memberships.get(user__email="lena-cons@editor.test").user
    leo = make_member(workspace, Role.LABELER, email="leo-cons@editor.test", name="Leo")
    make_member(workspace, Role.TEAM_MANAGER, email="max-cons@editor.test", name="Max")
    for person, left in ((lena, 100), (leo, 140)):
        queue.queue_next(project=project, actor=person)
        work.label_submit(
            task=task_of(project, row),
            actor=person,
            annotations=[
                {"name": "weather", "answer": {"name": "sunny" if left == 100 else "rainy"}},
                {"name": "Car", "bbox": {"top": 40, "left": left, "height": 60, "width": 120}},
            ],
        )
    return project


def test_consensus_review_shows_each_label_as_a_layer(new_page, screenshot):
    project = run_in_thread(_consensus_project)
    page = new_page("manager")
    sign_in(page, "max-cons@editor.test", PASSWORD)
    page.goto(f"/projects/{project.pk}/review/")
    expect(page.locator("[data-editor]")).to_have_attribute("data-ready", "true")
    layers = page.get_by_test_id("layers")
    expect(layers.locator("label")).to_have_text(
        ["All labels", "lena-cons@editor.test", "leo-cons@editor.test"]
    )
    # all labels together, read-only (a consensus row is not corrected in review)
    assert sorted(o["bbox"]["left"] for o in _layer_objects(page)) == [100, 140]
    expect(page.get_by_test_id("objects-count")).to_have_text("2")
    expect(page.get_by_test_id("tool-car")).to_be_disabled()
    screenshot(page, "01-consensus-all")
    # one label at a time, with its own answers
    layers.get_by_label("leo-cons@editor.test").check()
    assert [o["bbox"]["left"] for o in _layer_objects(page)] == [140]
    expect(page.get_by_test_id("review-globals").get_by_label("rainy")).to_be_checked()
    layers.get_by_label("lena-cons@editor.test").check()
    assert [o["bbox"]["left"] for o in _layer_objects(page)] == [100]
    expect(page.get_by_test_id("review-globals").get_by_label("sunny")).to_be_checked()
