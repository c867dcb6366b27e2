"""Ontologies API: CRUD with the Labelbox JSON, errors with paths, cross-workspace 404."""

import copy

import pytest

from labelhub.core.models import AuditLogEntry
from labelhub.projects.models import FeatureSchema, Ontology, Project
from labelhub.projects.services.ontologies import ontology_create
from tests.projects.test_ontologies_normalizer import FULL
from tests.projects.test_ontologies_services import IDS, project_using, street

pytestmark = pytest.mark.django_db

URL = "/api/v1/ontologies/"
LIST_FIELDS = {
    "id",
    "name",
    "description",
    "media_type",
    "feature_count",
    "project_count",
    "created_at",
    "updated_at",
}


def make(workspace, admin, name="Street objects", tree=None, **kw):
    return ontology_create(
        workspace=workspace,
        actor=admin,
        name=name,
        ontology=street(**IDS) if tree is None else tree,
        **kw,
    )


def error(response):
    body = response.json()["error"]
    return body["code"], body["message"], body["details"]


class TestList:
    def test_lists_the_workspace_newest_first_with_counts(
        self,
        admin_client,
        workspace,
        admin,
        other_workspace,
        other_admin,
        django_assert_num_queries,
    ):
        first = make(workspace, admin)
        second = make(workspace, admin, name="Receipts", tree={}, media_type="text")
        make(other_workspace, other_admin, name="Theirs", tree={})
        Project.objects.create(workspace=workspace, name="Streets", ontology=first)
        # session, user, workspaces (2), membership, then the page: one query however many
        with django_assert_num_queries(6):
            r = admin_client.get(URL)
        assert r.status_code == 200
        results = r.json()["results"]
        assert [set(o) for o in results] == [LIST_FIELDS, LIST_FIELDS]
        assert [
            (o["id"], o["name"], o["media_type"], o["feature_count"], o["project_count"])
            for o in results
        ] == [
            (str(second.pk), "Receipts", "text", 0, 0),
            (str(first.pk), "Street objects", "", 7, 1),
        ]

    def test_any_member_may_read(self, labeler_client, workspace, admin):
        ontology = make(workspace, admin)
        assert labeler_client.get(URL).json()["results"][0]["name"] == "Street objects"
        assert labeler_client.get(f"{URL}{ontology.pk}/").status_code == 200


class TestCreate:
    def test_creates_from_labelbox_json_and_renders_it_back(self, admin_client, workspace):
        r = admin_client.post(
            URL,
            {
                "name": "Street objects",
                "description": "Cars",
                "media_type": "image",
                "ontology": copy.deepcopy(FULL),
            },
            format="json",
        )
        assert r.status_code == 201, r.content
        body = r.json()
        ontology = Ontology.objects.get()
        assert body == {
            "id": str(ontology.pk),
            "name": "Street objects",
            "description": "Cars",
            "media_type": "image",
            "feature_count": 10,
            "project_count": 0,
            "created_at": body["created_at"],
            "updated_at": body["updated_at"],
            "projects": [],
            "ontology": FULL,
        }
        assert admin_client.get(f"{URL}{ontology.pk}/").json()["ontology"] == FULL
        assert FeatureSchema.objects.filter(ontology=ontology).count() == 10
        assert AuditLogEntry.objects.filter(verb="ontology.created").count() == 1

    def test_ontology_is_optional(self, admin_client):
        r = admin_client.post(URL, {"name": "Empty"}, format="json")
        assert r.status_code == 201
        assert r.json()["ontology"] == {"tools": [], "classifications": []}

    def test_problems_come_with_their_paths_and_nothing_is_written(self, admin_client):
        tree = street()
        tree["tools"].append({"tool": "circle", "name": "Sign"})
        tree["tools"][0]["classifications"][0]["options"] = []
        r = admin_client.post(URL, {"name": "Broken", "ontology": tree}, format="json")
        assert r.status_code == 400
        assert error(r) == (
            "invalid",
            "tools[0].classifications[0].options: must not be empty (and 1 more)",
            {
                "ontology": [
                    "tools[0].classifications[0].options: must not be empty",
                    'tools[2].tool: unknown tool type "circle"; use one of rectangle, polygon, '
                    "line, point, raster-segmentation, named-entity, edge",
                ]
            },
        )
        assert (Ontology.objects.count(), FeatureSchema.objects.count()) == (0, 0)

    def test_not_an_object(self, admin_client):
        r = admin_client.post(URL, {"name": "X", "ontology": ["tools"]}, format="json")
        assert error(r)[2] == {
            "ontology": ['Give a JSON object with "tools" and "classifications" lists.']
        }

    def test_unknown_fields_and_bad_media_type(self, admin_client):
        r = admin_client.post(
            URL, {"name": "X", "tools": [], "media_type": "hologram"}, format="json"
        )
        assert r.status_code == 400
        assert error(r)[2] == {"tools": ["Unknown field."]}
        r = admin_client.post(URL, {"name": "X", "media_type": "hologram"}, format="json")
        assert error(r)[2] == {"media_type": ['"hologram" is not a valid choice.']}

    def test_taken_schema_id_names_the_path(self, admin_client, workspace, admin):
        make(workspace, admin)
        tree = {"classifications": [{"type": "text", "name": "N", "featureSchemaId": "ckcar"}]}
        r = admin_client.post(URL, {"name": "Other", "ontology": tree}, format="json")
        assert r.status_code == 400
        assert error(r)[2] == {
            "ontology": [
                'classifications[0].featureSchemaId: "ckcar" is already used in the ontology '
                '"Street objects"'
            ]
        }

    def test_name_taken_is_409(self, admin_client, workspace, admin):
        make(workspace, admin)
        r = admin_client.post(URL, {"name": "street objects"}, format="json")
        assert r.status_code == 409
        assert error(r) == (
            "conflict",
            "An ontology with this name already exists in the workspace.",
            {"name": ["An ontology with this name already exists in the workspace."]},
        )

    def test_labelers_may_not_create(self, labeler_client):
        r = labeler_client.post(URL, {"name": "Mine"}, format="json")
        assert r.status_code == 403
        assert Ontology.objects.count() == 0


class TestDetail:
    def test_shows_projects_using_it(self, admin_client, workspace, admin):
        ontology = make(workspace, admin)
        b = Project.objects.create(workspace=workspace, name="B", ontology=ontology)
        a = Project.objects.create(workspace=workspace, name="A", ontology=ontology)
        body = admin_client.get(f"{URL}{ontology.pk}/").json()
        assert (body["project_count"], body["projects"]) == (
            2,
            [{"id": str(a.pk), "name": "A"}, {"id": str(b.pk), "name": "B"}],
        )

    def test_patch_details_and_tree(self, admin_client, workspace, admin):
        ontology = make(workspace, admin)
        tree = street(**IDS)
        tree["tools"].append({"tool": "point", "name": "Pedestrian", "color": "#00AA00"})
        r = admin_client.patch(
            f"{URL}{ontology.pk}/", {"name": "Streets", "ontology": tree}, format="json"
        )
        assert r.status_code == 200, r.content
        body = r.json()
        assert (body["name"], body["feature_count"]) == ("Streets", 8)
        pedestrian = body["ontology"]["tools"][2]
        assert (pedestrian["name"], pedestrian["color"]) == ("Pedestrian", "#00AA00")
        assert [t["featureSchemaId"] for t in body["ontology"]["tools"][:2]] == ["ckcar", "ckroad"]

    def test_patch_refused_removal_with_labels_is_409(self, admin_client, workspace, admin):
        ontology = make(workspace, admin)
        project_using(workspace, ontology, labeled=True)
        tree = street(**IDS)
        del tree["tools"][1]
        r = admin_client.patch(f"{URL}{ontology.pk}/", {"ontology": tree}, format="json")
        assert r.status_code == 409
        message = (
            "These features cannot be removed while projects using this ontology have labels "
            '("Street scenes"): tools[1] "Road" (polygon).'
        )
        assert error(r) == ("conflict", message, {"ontology": [message]})
        assert FeatureSchema.objects.filter(ontology=ontology).count() == 7

    def test_delete(self, admin_client, workspace, admin):
        ontology = make(workspace, admin)
        r = admin_client.delete(f"{URL}{ontology.pk}/")
        assert r.status_code == 204
        assert (Ontology.objects.count(), FeatureSchema.objects.count()) == (0, 0)

    def test_delete_refused_while_used(self, admin_client, workspace, admin):
        ontology = make(workspace, admin)
        Project.objects.create(workspace=workspace, name="Streets", ontology=ontology)
        r = admin_client.delete(f"{URL}{ontology.pk}/")
        assert r.status_code == 409
        assert error(r)[1] == (
            'The ontology "Street objects" is used by 1 project ("Streets"); '
            "give them another ontology first."
        )
        assert Ontology.objects.count() == 1

    def test_labelers_may_not_change_or_delete(self, labeler_client, workspace, admin):
        ontology = make(workspace, admin)
        url = f"{URL}{ontology.pk}/"
        assert labeler_client.patch(url, {"name": "Mine"}, format="json").status_code == 403
        assert labeler_client.delete(url).status_code == 403
        ontology.refresh_from_db()
        assert ontology.name == "Street objects"


def test_another_workspace_answers_404_and_never_lists(
    api_client_for, workspace, admin, other_workspace, other_admin
):
    ontology = make(workspace, admin)
    client = api_client_for(other_admin, other_workspace)
    assert client.get(URL).json()["results"] == []
    url = f"{URL}{ontology.pk}/"
    for method, body in (("get", None), ("patch", {"name": "Mine"}), ("delete", None)):
        r = getattr(client, method)(url, body, format="json")
        assert r.status_code == 404, method
        assert error(r) == ("not_found", "Not found.", {})
    ontology.refresh_from_db()
    assert (ontology.name, FeatureSchema.objects.count()) == ("Street objects", 7)
    refused = AuditLogEntry.objects.filter(
        workspace=other_workspace, verb="access.cross_workspace_refused"
    )
    assert [(e.target_type, e.after["method"]) for e in refused.order_by("created_at")] == [
        ("ontology", "GET"),
        ("ontology", "PATCH"),
        ("ontology", "DELETE"),
    ]
