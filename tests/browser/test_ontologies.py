"""Ontologies in a real browser: create one, add a tool and a radio classification with the
form editor, read it in the JSON view, save a JSON edit with mistakes and see each path,
then fix it (nesting a question under an answer) and see the tree in the editor.

Runs against the demo data (``seed_demo``) served by the real ASGI app; see conftest.py.
Screenshots of each step land in ARTIFACTS_DIR.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from labelhub.projects.models import FeatureSchema, Ontology
from tests.browser.support import ADMIN_EMAIL, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]


def heading(page: Page) -> Locator:
    return page.locator("main h1")


def messages(page: Page) -> Locator:
    return page.locator("#messages .message")


def tree(page: Page, testid: str) -> Locator:
    """The first four cells (feature, type, settings, schema id) of each row of a tree."""
    return page.get_by_test_id(testid).locator("tbody tr[data-kind]")


def test_admin_builds_an_ontology_with_the_form_editor_and_the_json_view(new_page, screenshot):
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(heading(page)).to_have_text("Vision")  # sign-in lands in the busiest workspace

    # --- The list: the demo's ontologies ---------------------------------------------------
    page.locator("nav.sidenav").get_by_role("link", name="Ontologies").click()
    expect(heading(page)).to_have_text("Ontologies")
    expect(page.locator("nav.sidenav a.active")).to_have_text("Ontologies")
    rows = page.get_by_test_id("ontologies-table").locator("tbody tr")
    expect(rows.locator("td:first-child a")).to_have_text(["Receipt fields", "Street objects"])
    expect(page.locator('tr[data-ontology="Street objects"] td').nth(2)).to_have_text("17")
    screenshot(page, "01-list")

    # The demo's street objects: a radio nested under the Car tool (with questions of its
    # own under "Yes"), a global checklist.
    rows.get_by_role("link", name="Street objects").click()
    expect(heading(page)).to_have_text(re.compile(r"^Street objects\s+Image$"))
    expect(tree(page, "tools-tree").locator("td:first-child")).to_have_text(
        [
            "Car",
            "Occluded",
            "Yes (yes)",
            "How much",
            "Partly (partly)",
            "Mostly (mostly)",
            "Hidden by",
            "No (no)",
            "Road",
            "Pedestrian",
            "Lane marking",
            "Follows",
        ]
    )
    expect(tree(page, "classifications-tree").locator("td:first-child")).to_have_text(
        ["Weather", "sunny", "rain", "fog", "snow"]
    )
    screenshot(page, "01b-demo-street-objects")
    page.get_by_role("link", name="← Ontologies").click()

    # --- Create an empty one ------------------------------------------------------------------
    form = page.get_by_test_id("ontology-form")
    form.get_by_label("Name").fill("Traffic signs")
    form.get_by_label("Description").fill("Signs along the road.")
    form.get_by_label("Media type").select_option(label="Image")
    form.get_by_role("button", name="Create ontology").click()
    expect(heading(page)).to_have_text(re.compile(r"^Traffic signs\s+Image$"))
    expect(page).to_have_url(re.compile(r"/ontologies/[0-9a-f-]{36}/$"))
    expect(messages(page)).to_have_text(["Ontology Traffic signs created."])
    expect(page.locator("nav.tabs a.active")).to_have_text("Editor")
    expect(page.get_by_test_id("tools-tree").locator("tbody td")).to_have_text(["No tools yet."])
    screenshot(page, "02-created-empty")

    # --- Form editor: a tool, then a radio classification -------------------------------------
    tool_form = page.get_by_test_id("tool-form")
    tool_form.get_by_label("Name").fill("Stop sign")
    tool_form.get_by_label("Type").select_option(label="Bounding box (rectangle)")
    tool_form.get_by_label("Colour").fill("#d6336c")
    tool_form.get_by_label("Required").check()
    tool_form.get_by_role("button", name="Add tool").click()
    expect(messages(page)).to_have_text(["Tool Stop sign added."])
    tools = tree(page, "tools-tree")
    expect(tools).to_have_count(1)
    expect(tools.first.locator("td").nth(0)).to_have_text("Stop sign")
    expect(tools.first.locator("td").nth(1)).to_have_text("Bounding box")
    expect(tools.first.locator("td").nth(2)).to_have_text("Required")
    expect(tools.first.locator(".chip")).to_have_attribute("title", "#D6336C")

    c_form = page.get_by_test_id("classification-form")
    answers = c_form.get_by_label("Answers")
    scope = c_form.get_by_label("Scope")
    # Progressive enhancement: answers only for radio/checklist, scope only at the top.
    c_form.get_by_label("Type").select_option("text")
    expect(answers).to_be_hidden()
    c_form.get_by_label("Type").select_option("radio")
    expect(answers).to_be_visible()
    c_form.get_by_label("Place").select_option(label="Under tool Stop sign")
    expect(scope).to_be_hidden()
    c_form.get_by_label("Place").select_option(label="Top level")
    expect(scope).to_be_visible()
    c_form.get_by_label("Name").fill("Shape")
    answers.fill("round\ntriangle\noctagon")
    screenshot(page, "03-adding-a-radio-classification")
    c_form.get_by_role("button", name="Add classification").click()
    expect(messages(page)).to_have_text(["Classification Shape added."])
    classifications = tree(page, "classifications-tree")
    expect(classifications.locator("td:first-child")).to_have_text(
        ["Shape", "round", "triangle", "octagon"]
    )
    expect(classifications.first.locator("td").nth(2)).to_have_text("Scope: global")
    screenshot(page, "04-editor-with-tool-and-radio")

    ontology = Ontology.objects.get(name="Traffic signs")
    assert sorted(
        FeatureSchema.objects.filter(ontology=ontology).values_list("kind", "type", "name")
    ) == [
        ("classification", "radio", "Shape"),
        ("option", "option", "octagon"),
        ("option", "option", "round"),
        ("option", "option", "triangle"),
        ("tool", "rectangle", "Stop sign"),
    ]

    # --- The JSON view shows the Labelbox JSON ------------------------------------------------
    page.locator("nav.tabs").get_by_role("link", name="JSON").click()
    expect(page.locator("nav.tabs a.active")).to_have_text("JSON")
    area = page.get_by_label("Labelbox JSON")
    shown = json.loads(area.input_value())
    ontology.refresh_from_db()
    assert shown == ontology.normalized
    stop, shape = shown["tools"][0], shown["classifications"][0]
    assert (stop["tool"], stop["name"], stop["color"], stop["required"]) == (
        "rectangle",
        "Stop sign",
        "#D6336C",
        True,
    )
    assert (shape["type"], shape["name"], [o["value"] for o in shape["options"]]) == (
        "radio",
        "Shape",
        ["round", "triangle", "octagon"],
    )
    expect(page.get_by_test_id("json-problems")).to_have_count(0)
    screenshot(page, "05-json-view")

    # --- A JSON edit with mistakes: every path is listed, nothing is saved ---------------------
    broken = json.loads(json.dumps(shown))
    broken["classifications"][0]["options"] = []
    broken["tools"][0]["color"] = "red"
    area.fill(json.dumps(broken))
    page.get_by_role("button", name="Format").click()  # pretty-prints (JS)
    expect(page.locator("[data-json-status]")).to_have_text("Valid JSON.")
    assert area.input_value() == json.dumps(broken, indent=2)
    page.get_by_role("button", name="Save JSON").click()
    problems = page.get_by_test_id("json-problems")
    expect(problems.locator("h2")).to_have_text("2 problems — nothing was saved")
    expect(problems.locator("li")).to_have_text(
        [
            "tools[0].color: use #RRGGBB, e.g. #FF0000",
            "classifications[0].options: must not be empty",
        ]
    )
    assert json.loads(area.input_value()) == broken  # the text stays for fixing
    screenshot(page, "06-json-errors-with-paths")
    ontology.refresh_from_db()
    assert ontology.normalized == shown

    # A syntax error is caught live by the page, and by the server on submit.
    area.fill('{"tools": [}')
    expect(page.locator("[data-json-status]")).to_contain_text("Not valid JSON yet")
    page.get_by_role("button", name="Save JSON").click()
    expect(page.get_by_test_id("json-form").locator(".field-error")).to_have_text(
        "Not valid JSON: line 1, column 12: Expecting value."
    )

    # --- Fixed, with a question nested under an answer: saved, ids kept ------------------------
    fixed = json.loads(json.dumps(shown))
    fixed["classifications"][0]["options"][2]["options"] = [
        {"type": "text", "name": "Text on the sign"}
    ]
    area.fill(json.dumps(fixed, indent=2))
    page.get_by_role("button", name="Save JSON").click()
    expect(messages(page)).to_have_text(["Ontology saved from JSON."])
    saved = json.loads(page.get_by_label("Labelbox JSON").input_value())
    assert saved["tools"][0]["featureSchemaId"] == stop["featureSchemaId"]
    nested = saved["classifications"][0]["options"][2]["options"][0]
    assert (nested["type"], nested["name"]) == ("text", "Text on the sign")

    page.locator("nav.tabs").get_by_role("link", name="Editor").click()
    expect(tree(page, "classifications-tree").locator("td:first-child")).to_have_text(
        ["Shape", "round", "triangle", "octagon", "Text on the sign"]
    )
    screenshot(page, "07-editor-nested-question")
