"""Console pages of ontologies: list and create, the form editor, the JSON view."""

import json

import pytest
from django.test import Client

from labelhub.core.models import AuditLogEntry
from labelhub.projects.models import FeatureSchema, Ontology, Project
from labelhub.projects.services.ontologies import PALETTE, ontology_create, ontology_update
from labelhub.workspaces.models import Role
from tests.access.test_views import dom, messages
from tests.factories import make_member
from tests.projects.test_ontologies_services import IDS, project_using, street

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(admin):
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def ontology(workspace, admin):
    return ontology_create(
        workspace=workspace, actor=admin, name="Street objects", ontology=street(**IDS)
    )


def editor(ontology):
    return f"/ontologies/{ontology.pk}/"


def json_view(ontology):
    return f"/ontologies/{ontology.pk}/json/"


def tree_rows(doc, testid):
    return [
        (
            row.attrs["data-kind"],
            row.attrs["data-depth"],
            row.texts("td")[:4],
        )
        for row in doc.one("table", data_testid=testid).all("tr")
        if "data-kind" in row.attrs
    ]


def field_errors(doc, form_testid):
    form = doc.one("form", data_testid=form_testid)
    return {
        field.one("label").text: field.texts("p", cls="field-error")
        for field in form.all("div", cls="field")
        if field.all("p", cls="field-error")
    }


class TestList:
    def test_lists_with_counts_and_usage(self, console, workspace, admin, ontology):
        ontology_create(workspace=workspace, actor=admin, name="Receipts", media_type="text")
        Project.objects.create(workspace=workspace, name="Night drives", ontology=ontology)
        Project.objects.create(workspace=workspace, name="Street scenes", ontology=ontology)
        doc = dom(console.get("/ontologies/"))
        table = doc.one("table", data_testid="ontologies-table")
        assert [r.texts("td")[:4] for r in table.all("tr") if r.attrs.get("data-ontology")] == [
            ["Receipts", "Text", "0", "No project"],
            ["Street objects", "Any", "7", "Night drives Street scenes"],
        ]
        assert doc.one("nav", cls="sidenav").one("a", cls="active").text == "Ontologies"

    def test_create_empty_then_lands_in_the_editor(self, console, workspace):
        r = console.post("/ontologies/", {"name": "Signs", "media_type": "image"})
        created = Ontology.objects.get(name="Signs")
        assert r.status_code == 302 and r["Location"] == editor(created)
        doc = dom(console.get(r["Location"]))
        assert messages(doc) == ["Ontology Signs created."]
        assert doc.one("h1").text == "Signs Image"
        assert tree_rows(doc, "tools-tree") == []
        assert doc.one("table", data_testid="tools-tree").texts("td") == ["No tools yet."]

    def test_create_from_pasted_labelbox_json_keeps_ids(self, console):
        payload = json.dumps(street(**IDS))
        r = console.post("/ontologies/", {"name": "Imported", "ontology": payload})
        assert r.status_code == 302
        assert FeatureSchema.objects.get(schema_id="ckoccluded").name == "Occluded"

    def test_create_errors_beside_the_fields(self, console, ontology):
        r = console.post("/ontologies/", {"name": "street objects", "ontology": "{oops"})
        doc = dom(r)
        assert field_errors(doc, "ontology-form") == {
            "Labelbox JSON (optional)": [
                "Not valid JSON: line 1, column 2: Expecting property name enclosed in double "
                "quotes."
            ]
        }
        for text, error in [
            ("[" * 100_000, "Not valid JSON: nested deeper than 64 levels."),
            (
                '{"tools": [{"name": "\\udc00"}]}',
                "Not valid JSON: line 1, column 22: a string holds a lone surrogate (\\ud800 "
                "to \\udfff without its pair), which is not valid Unicode.",
            ),
        ]:
            doc = dom(console.post("/ontologies/", {"name": "street objects", "ontology": text}))
            assert field_errors(doc, "ontology-form") == {"Labelbox JSON (optional)": [error]}
        bad = json.dumps({"tools": [{"tool": "circle", "name": "Sign"}]})
        doc = dom(console.post("/ontologies/", {"name": "street objects", "ontology": bad}))
        assert doc.one("form", data_testid="ontology-form").one("div", cls="form-errors").texts(
            "p"
        ) == [
            'tools[0].tool: unknown tool type "circle"; use one of rectangle, polygon, line, '
            "point, raster-segmentation, named-entity, edge"
        ]
        doc = dom(console.post("/ontologies/", {"name": "street objects"}))
        assert field_errors(doc, "ontology-form") == {
            "Name": ["An ontology with this name already exists in the workspace."]
        }
        assert Ontology.objects.count() == 1

    def test_members_without_create_projects_read_only(self, workspace, labeler, ontology):
        client = Client()
        client.force_login(labeler)
        doc = dom(client.get("/ontologies/"))
        assert doc.all("form", data_testid="ontology-form") == []
        r = client.post("/ontologies/", {"name": "Mine"})
        assert r.status_code == 403
        doc = dom(client.get(editor(ontology)))
        assert doc.all("form", data_testid="tool-form") == []
        assert doc.one("table", data_testid="tools-tree").all("button") == []
        assert client.post(editor(ontology), {"action": "delete"}).status_code == 403
        doc = dom(client.get(json_view(ontology)))
        assert "readonly" in doc.one("textarea").attrs
        assert client.post(json_view(ontology), {"ontology": "{}"}).status_code == 403
        assert Ontology.objects.get().normalized["tools"][0]["name"] == "Car"


class TestEditor:
    def test_shows_the_tree(self, console, ontology):
        doc = dom(console.get(editor(ontology)))
        assert tree_rows(doc, "tools-tree") == [
            ("tool", "0", ["Car", "Bounding box", "", "ckcar"]),
            ("classification", "1", ["Occluded", "Radio", "", "ckoccluded"]),
            ("option", "2", ["yes", "Answer", "", "ckyes"]),
            ("option", "2", ["no", "Answer", "", "ckno"]),
            ("tool", "0", ["Road", "Polygon", "", "ckroad"]),
        ]
        assert tree_rows(doc, "classifications-tree") == [
            ("classification", "0", ["Weather", "Checklist", "Scope: global", "ckweather"]),  # noqa: E501
            ("option", "1", ["rain", "Answer", "", "ckrain"]),
        ]  # fmt: skip
        assert doc.one("p", data_testid="usage").text == "Not used by any project."
        places = doc.one("form", data_testid="classification-form").one("select", name="parent")
        assert places.texts("option") == [
            "Top level",
            "Under tool Car",
            "Under tool Road",
            "Under answer Car › Occluded › yes",
            "Under answer Car › Occluded › no",
            "Under answer Weather › rain",
        ]
        questions = doc.one("form", data_testid="option-form").one("select")
        assert questions.texts("option") == ["Car › Occluded", "Weather"]
        # The next unused palette colour is offered for a new tool.
        assert doc.one("input", name="color").attrs["value"] == PALETTE[1]

    def test_add_tool(self, console, ontology):
        r = console.post(
            editor(ontology),
            {"action": "add_tool", "name": "Sign", "tool": "point", "color": "#112233"},
        )
        assert r.status_code == 302
        ontology.refresh_from_db()
        sign = ontology.normalized["tools"][2]
        assert (sign["name"], sign["tool"], sign["color"], sign["required"]) == (
            "Sign",
            "point",
            "#112233",
            False,
        )
        assert messages(dom(console.get(editor(ontology)))) == ["Tool Sign added."]
        assert AuditLogEntry.objects.get(verb="ontology.updated").after["added"] == [
            "tools[2] Sign"
        ]

    def test_add_tool_duplicate_name_beside_the_field(self, console, ontology):
        doc = dom(
            console.post(
                editor(ontology),
                {"action": "add_tool", "name": "Car", "tool": "polygon", "color": "#112233"},
            )
        )
        assert field_errors(doc, "tool-form") == {
            "Name": ['duplicate name "Car" (same as tools[0])']
        }

    def test_add_nested_and_top_level_classifications(self, console, ontology):
        console.post(
            editor(ontology),
            {
                "action": "add_classification",
                "name": "Colour",
                "type": "radio",
                "parent": "ckcar",
                "scope": "global",
                "required": "on",
                "options": "red\nblue\n\n",
            },
        )
        console.post(
            editor(ontology),
            {
                "action": "add_classification",
                "name": "How much",
                "type": "text",
                "parent": "ckyes",
                "scope": "global",
            },
        )
        console.post(
            editor(ontology),
            {"action": "add_classification", "name": "Notes", "type": "text", "scope": "index"},
        )
        ontology.refresh_from_db()
        car = ontology.normalized["tools"][0]
        colour = car["classifications"][1]
        assert (colour["name"], colour["required"], [o["value"] for o in colour["options"]]) == (
            "Colour",
            True,
            ["red", "blue"],
        )
        assert "scope" not in colour
        how_much = car["classifications"][0]["options"][0]["options"][0]
        assert (how_much["type"], how_much["name"]) == ("text", "How much")
        notes = ontology.normalized["classifications"][1]
        assert (notes["name"], notes["scope"]) == ("Notes", "index")

    def test_radio_without_answers_names_the_problem(self, console, ontology):
        doc = dom(
            console.post(
                editor(ontology),
                {
                    "action": "add_classification",
                    "name": "Colour",
                    "type": "radio",
                    "parent": "ckcar",
                    "scope": "global",
                },
            )
        )
        assert field_errors(doc, "classification-form") == {"Answers": ["must not be empty"]}
        ontology.refresh_from_db()
        assert len(ontology.normalized["tools"][0]["classifications"]) == 1

    def test_add_answer(self, console, ontology):
        console.post(
            editor(ontology),
            {"action": "add_option", "classification": "ckweather", "value": "fog"},
        )
        ontology.refresh_from_db()
        options = ontology.normalized["classifications"][0]["options"]
        assert [o["value"] for o in options] == ["rain", "fog"]
        doc = dom(
            console.post(
                editor(ontology),
                {"action": "add_option", "classification": "ckweather", "value": "fog"},
            )
        )
        assert field_errors(doc, "option-form") == {
            "Answer": ['duplicate value "fog" (same as classifications[0].options[1])']
        }

    def test_remove_feature_and_its_subtree(self, console, ontology):
        r = console.post(editor(ontology), {"action": "remove", "feature": "ckcar"})
        assert r.status_code == 302
        assert messages(dom(console.get(editor(ontology)))) == ["Car removed."]
        assert sorted(FeatureSchema.objects.values_list("name", flat=True)) == [
            "Road",
            "Weather",
            "rain",
        ]

    def test_removing_the_last_answer_is_refused_with_the_path(self, console, ontology):
        console.post(editor(ontology), {"action": "remove", "feature": "ckrain"}, follow=False)
        doc = dom(console.get(editor(ontology)))
        assert messages(doc) == ["classifications[0].options: must not be empty"]
        assert FeatureSchema.objects.filter(schema_id="ckrain").exists()

    def test_removal_refused_while_labels_exist(self, console, workspace, ontology):
        project_using(workspace, ontology, labeled=True)
        console.post(editor(ontology), {"action": "remove", "feature": "ckroad"})
        doc = dom(console.get(editor(ontology)))
        assert messages(doc) == [
            "These features cannot be removed while projects using this ontology have labels "
            '("Street scenes"): tools[1] "Road" (polygon).'
        ]
        assert doc.one("p", data_testid="usage").text == (
            "Used by Street scenes. Street scenes has labels, which point at the features: "
            "features can be added and renamed, but not removed or given another type."
        )
        assert FeatureSchema.objects.filter(schema_id="ckroad").exists()

    def test_details(self, console, ontology):
        console.post(
            editor(ontology),
            {"action": "details", "name": "Streets", "description": "Cars", "media_type": "video"},
        )
        ontology.refresh_from_db()
        assert (ontology.name, ontology.description, ontology.media_type) == (
            "Streets",
            "Cars",
            "video",
        )

    def test_delete(self, console, workspace, ontology):
        project = Project.objects.create(workspace=workspace, name="Streets", ontology=ontology)
        doc = dom(console.get(editor(ontology)))
        delete = [f for f in doc.all("form") if f.all("input", name="action", value="delete")][0]
        assert "disabled" in delete.one("button").attrs
        console.post(editor(ontology), {"action": "delete"})
        assert messages(dom(console.get(editor(ontology)))) == [
            'The ontology "Street objects" is used by 1 project ("Streets"); give them another '
            "ontology first."
        ]
        project.delete()
        r = console.post(editor(ontology), {"action": "delete"})
        assert r["Location"] == "/ontologies/"
        assert messages(dom(console.get("/ontologies/"))) == ["Ontology Street objects deleted."]
        assert Ontology.objects.count() == 0

    def test_other_workspaces_ontology_is_not_found(self, other_workspace, ontology):
        outsider = make_member(other_workspace, Role.ADMIN)
        client = Client()
        client.force_login(outsider)
        for url in (editor(ontology), json_view(ontology), "/ontologies/not-an-id/"):
            r = client.get(url)
            assert r.status_code == 404
            assert dom(r).one("div", cls="card").texts("p")[0] == "Ontology not found."
        r = client.post(editor(ontology), {"action": "delete"})
        assert r.status_code == 404
        assert Ontology.objects.count() == 1


class TestJsonView:
    def test_shows_the_labelbox_json(self, console, ontology):
        doc = dom(console.get(json_view(ontology)))
        assert json.loads(doc.one("textarea").text) == ontology.normalized
        assert doc.one("nav", cls="tabs").one("a", cls="active").text == "JSON"
        assert doc.all("section", data_testid="json-problems") == []

    def test_download(self, console, ontology):
        r = console.get(json_view(ontology) + "?download=1")
        assert r["Content-Type"] == "application/json"
        assert r["Content-Disposition"] == f'attachment; filename="ontology-{ontology.pk}.json"'
        assert json.loads(r.content) == ontology.normalized

    def test_save(self, console, ontology):
        tree = json.loads(json.dumps(ontology.normalized))
        tree["tools"][1]["name"] = "Lane"
        r = console.post(json_view(ontology), {"ontology": json.dumps(tree)})
        assert r.status_code == 302 and r["Location"] == json_view(ontology)
        assert messages(dom(console.get(r["Location"]))) == ["Ontology saved from JSON."]
        assert FeatureSchema.objects.get(schema_id="ckroad").name == "Lane"

    def test_problems_listed_with_paths_and_the_text_kept(self, console, ontology):
        tree = json.loads(json.dumps(ontology.normalized))
        tree["tools"][0]["classifications"][0]["options"] = []
        tree["tools"][1]["color"] = "green"
        text = json.dumps(tree, indent=2)
        doc = dom(console.post(json_view(ontology), {"ontology": text}))
        problems = doc.one("section", data_testid="json-problems")
        assert problems.one("h2").text == "2 problems — nothing was saved"
        assert problems.texts("li") == [
            "tools[0].classifications[0].options: must not be empty",
            "tools[1].color: use #RRGGBB, e.g. #FF0000",
        ]
        assert doc.one("textarea").text == " ".join(text.split())
        ontology.refresh_from_db()
        assert len(ontology.normalized["tools"][0]["classifications"][0]["options"]) == 2

    def test_a_newer_save_is_not_overwritten(self, console, workspace, admin, ontology):
        doc = dom(console.get(json_view(ontology)))
        version = doc.one("input", name="version").attrs["value"]
        text = doc.one("textarea").text
        ontology_update(workspace=workspace, actor=admin, ontology=ontology, name="Streets")
        doc = dom(console.post(json_view(ontology), {"ontology": "{}", "version": version}))
        assert doc.one("section", data_testid="json-problems").texts("li") == [
            "Someone saved this ontology after you opened it; reload it and make your change again."
        ]
        assert FeatureSchema.objects.filter(ontology=ontology).count() == 7
        assert json.loads(text) == ontology.normalized

    def test_syntax_error_beside_the_textarea(self, console, ontology):
        doc = dom(console.post(json_view(ontology), {"ontology": '{"tools": [}'}))
        assert doc.one("form", data_testid="json-form").texts("p", cls="field-error") == [
            "Not valid JSON: line 1, column 12: Expecting value."
        ]


def remove_buttons(html: str) -> dict[str, bool]:
    """Each feature's Remove button: name -> enabled."""
    import re

    return {
        m.group(1): "disabled" not in m.group(0)
        for m in re.finditer(
            r'<button type="submit" class="danger small" aria-label="Remove '
            r'([^"]+)"[^>]*>',
            html,
        )
    }


class TestRemoveOnlyWhereAllowed:
    """The editor offers Remove only where the server would do it."""

    def test_the_only_answer_of_a_question_cannot_be_removed(self, console, ontology):
        html = console.get(editor(ontology)).content.decode()
        assert remove_buttons(html) == {
            "Car": True,
            "Occluded": True,
            "yes": True,
            "no": True,
            "Road": True,
            "Weather": True,
            "rain": False,
        }
        assert 'title="A question needs at least one answer; add another first."' in html

    def test_nothing_can_be_removed_while_projects_have_labels(self, console, workspace, ontology):
        project_using(workspace, ontology, labeled=True)
        html = console.get(editor(ontology)).content.decode()
        assert set(remove_buttons(html).values()) == {False}
        doc = dom(console.get(editor(ontology)))
        assert doc.one("p", data_testid="usage").text == (
            "Used by Street scenes. Street scenes has labels, which point at the features: "
            "features can be added and renamed, but not removed or given another type."
        )
