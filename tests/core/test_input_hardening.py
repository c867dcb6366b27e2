"""No 5xx from any input: every API route gets OPTIONS, deep JSON and lone surrogates.

The walk fills each route's ids with real objects of the Admin's workspace, so requests
reach the parsers, serializers and services instead of stopping at 404.
"""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from labelhub.access.models import CustomRole, Group, ProjectGrant
from labelhub.access.services import group_add_member, group_create
from labelhub.access.services.api_keys import api_key_create
from labelhub.access.services.invitations import invitation_create
from labelhub.core import parsers
from labelhub.core.models import AuditLogEntry
from labelhub.core.parsers import MAX_JSON_DEPTH
from labelhub.imports.models import ImportJob
from labelhub.labeling.models import Batch
from labelhub.labeling.services.workflow import workflow_of
from labelhub.projects.models import (
    DataRow,
    DataRowJob,
    Dataset,
    MetadataField,
    Ontology,
    Project,
    Tag,
)
from labelhub.workspaces.models import Membership, Role
from tests.core.test_api_base import api_routes

DEEP = b"[" * 100_000
DEEP_MESSAGE = f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
SURROGATE_MESSAGE = (
    "JSON parse error - a string holds a lone surrogate (\\ud800 to \\udfff without its "
    "pair), which is not valid Unicode: line 1 column {column}."
)
WRITE_METHODS = ("post", "put", "patch", "delete")

#: route prefix → the object kind its ``<str:id>`` names (first match wins)
ID_KIND = [
    ("api/v1/projects/<str:project_id>/batches/", "batch"),
    ("api/v1/projects/<str:project_id>/workflow/steps/", "review_step"),
    ("api/v1/projects/<str:project_id>/imports/", "import_job"),
    ("api/v1/projects/<str:project_id>/members/", "grant"),
    ("api/v1/datasets/", "dataset"),
    ("api/v1/data-rows/", "data_row"),
    ("api/v1/data-row-jobs/", "data_row_job"),
    ("api/v1/metadata-fields/", "metadata_field"),
    ("api/v1/ontologies/", "ontology"),
    ("api/v1/tags/", "tag"),
    ("api/v1/groups/", "group"),
    ("api/v1/roles/", "role"),
    ("api/v1/invitations/", "invitation"),
    ("api/v1/members/", "member"),
    ("api/v1/api-keys/", "api_key"),
]

#: write endpoints that never read a body: a bad body cannot be refused there
BODYLESS = {
    ("api/v1/projects/<str:project_id>/duplicate/", "post"),
    ("api/v1/projects/<str:project_id>/instructions/acknowledge/", "post"),
    ("api/v1/projects/<str:project_id>/batches/<str:id>/remove-queued/", "post"),
    ("api/v1/projects/<str:project_id>/members/<str:id>/", "delete"),
    ("api/v1/members/<str:id>/", "delete"),
    ("api/v1/invitations/<str:id>/", "delete"),
    ("api/v1/groups/<str:id>/", "delete"),
    ("api/v1/groups/<str:id>/members/<str:user_id>/", "delete"),
    ("api/v1/api-keys/<str:id>/", "delete"),
    ("api/v1/data-rows/<str:id>/", "delete"),
    ("api/v1/metadata-fields/<str:id>/", "delete"),
    ("api/v1/ontologies/<str:id>/", "delete"),
    ("api/v1/tags/<str:id>/", "delete"),
    ("api/v1/projects/<str:project_id>/workflow/steps/<str:id>/", "delete"),
    ("api/v1/projects/<str:project_id>/tasks/<str:row_id>/release/", "post"),
    ("api/v1/projects/<str:project_id>/contributors/<str:user_id>/restore/", "post"),
}


@pytest.fixture
def objects(workspace, admin, labeler):
    """One object of every kind an API route names, in the Admin's workspace."""
    project = Project.objects.create(workspace=workspace, name="Walk project")
    dataset = Dataset.objects.create(workspace=workspace, name="Walk rows")
    group = group_create(workspace=workspace, actor=admin, name="Walkers", default_role="labeler")
    group_add_member(workspace=workspace, actor=admin, group=group, user_id=labeler.pk)
    api_key, _ = api_key_create(workspace=workspace, actor=admin, name="walk")
    invitation, _ = invitation_create(
        workspace=workspace, actor=admin, email="walk@alpha.test", role=Role.LABELER
    )
    return {
        "project": project,
        "batch": Batch.objects.create(workspace=workspace, project=project, name="Walk batch"),
        "import_job": ImportJob.objects.create(
            workspace=workspace, project=project, name="walk", kind="prelabels"
        ),
        "grant": ProjectGrant.objects.create(
            workspace=workspace, project=project, user=labeler, role=Role.LABELER
        ),
        "dataset": dataset,
        "data_row": DataRow.objects.create(
            workspace=workspace, dataset=dataset, row_data="hello", media_type="text"
        ),
        "data_row_job": DataRowJob.objects.create(workspace=workspace, dataset=dataset),
        "metadata_field": MetadataField.objects.create(
            workspace=workspace, name="walk", kind="string"
        ),
        "ontology": Ontology.objects.create(workspace=workspace, name="Walk ontology"),
        "tag": Tag.objects.create(workspace=workspace, name="walk"),
        "group": group,
        "group_user": labeler,
        "role": CustomRole.objects.create(
            workspace=workspace, name="Walker", scope="workspace", permissions=[]
        ),
        "invitation": invitation,
        "member": Membership.objects.get(user=labeler),
        "api_key": api_key,
        "review_step": workflow_of(project).reviews[0],
    }


def concrete(route: str, objects: dict) -> str:
    """The route's URL with every id filled by an object of the right kind."""
    url = route.replace("<str:project_id>", str(objects["project"].pk))
    url = url.replace("<str:user_id>", str(objects["group_user"].pk))
    url = url.replace("<str:row_id>", str(objects["data_row"].pk))
    kind = next((k for prefix, k in ID_KIND if route.startswith(prefix)), None)
    if kind is not None:
        url = url.replace("<str:id>", str(objects[kind].pk))
    assert "<" not in url, route
    return "/" + url


def scoped_routes() -> list[tuple[str, type]]:
    """Every API route of the workspace base (schema and docs views are not ours)."""
    return [(route, cls) for route, cls in api_routes() if route.startswith("api/v1/")]


def write_methods(cls: type) -> list[str]:
    """The write methods a view implements."""
    return [m for m in WRITE_METHODS if hasattr(cls, m)]


def write_calls() -> list[tuple[str, type, str]]:
    """(route, view, method) of every write, DELETEs last: a body-less one removes its
    object, which later routes (a group's members) still need."""
    calls = [(route, cls, m) for route, cls in scoped_routes() for m in write_methods(cls)]
    return sorted(calls, key=lambda call: call[2] == "delete")


def assert_envelope(response, context) -> dict:
    """An error answer is exactly the envelope; return its ``error``."""
    body = response.json()
    assert set(body) == {"error"}, context
    assert set(body["error"]) == {"code", "message", "details"}, context
    return body["error"]


# --- the walk ------------------------------------------------------------------------------


def test_the_walk_covers_every_json_write_endpoint():
    routes = scoped_routes()
    writes = {(route, m) for route, cls in routes for m in write_methods(cls)}
    assert len(routes) == 71
    assert len({route for route, _ in writes}) == 55
    assert BODYLESS <= writes


@pytest.mark.django_db
def test_options_answers_200_everywhere_for_a_member(admin_client, objects):
    for route, cls in scoped_routes():
        r = admin_client.options(concrete(route, objects))
        assert r.status_code == 200, (route, r.status_code, r.content[:300])
        body = r.json()
        assert body["name"] == cls().get_view_name(), route
        assert body["renders"] == ["application/json"], route
        assert "application/json" in body["parses"], route
        assert "OPTIONS" in r["Allow"], route


@pytest.mark.django_db
def test_anonymous_options_and_bodies_are_401_except_accepting_an_invitation(objects):
    client = APIClient()
    for route, cls in scoped_routes():
        url = concrete(route, objects)
        for method in ("options", *write_methods(cls)):
            for body in (DEEP, b'{"name": "\\ud800"}'):
                r = getattr(client, method)(url, data=body, content_type="application/json")
                context = (method, route, r.status_code)
                if route == "api/v1/invitations/accept/":  # the one anonymous endpoint
                    expected = 200 if method == "options" else 400
                else:
                    expected = 401
                assert r.status_code == expected, context
                if expected != 200:
                    error = assert_envelope(r, context)
                    assert error["code"] == (
                        "malformed" if expected == 400 else "not_authenticated"
                    )


@pytest.mark.django_db
def test_deeply_nested_json_is_400_malformed_on_every_endpoint(admin_client, objects):
    before = _state()
    answered = {}
    for route, _cls, method in write_calls():
        url = concrete(route, objects)
        r = getattr(admin_client, method)(url, data=DEEP, content_type="application/json")
        context = (method, route, r.status_code, r.content[:300])
        assert r.status_code < 500, context
        answered[(route, method)] = r.status_code
        if (route, method) in BODYLESS:
            continue
        assert r.status_code == 400, context
        assert assert_envelope(r, context) == {
            "code": "malformed",
            "message": DEEP_MESSAGE,
            "details": {},
        }, context
    assert len(answered) == 65
    # Only the body-less actions acted (duplicate, acknowledge, deletes without a body).
    assert _state() == before


def _state() -> dict:
    """Counts of what a refused body must not change (body-less actions excluded)."""
    return {
        "tags": Tag.objects.exclude(name="walk").count(),
        "datasets": Dataset.objects.count(),
        "metadata_fields": MetadataField.objects.exclude(name="walk").count(),
        "roles": CustomRole.objects.exclude(name="Walker").count(),
        "groups": Group.objects.exclude(name="Walkers").count(),
        "batches": Batch.objects.count(),
        "import_jobs": ImportJob.objects.count(),
        "rows": DataRow.objects.exclude(row_data="hello").count(),
    }


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _string_props(schema: dict, node: dict, seen: frozenset = frozenset()) -> list[str]:
    """Names of the properties of a request body schema (refs resolved)."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _string_props(schema, schema["components"]["schemas"][name], seen | {name})
    if node.get("type") == "array":
        return _string_props(schema, node.get("items", {}), seen)
    return list(node.get("properties", {}))


def surrogate_body(schema: dict, route: str, method: str) -> tuple[bytes, int]:
    """A JSON body with a lone surrogate in every string, and the first one's column."""
    path = "/" + route.replace("<str:", "{").replace(">", "}")
    operation = schema["paths"].get(path, {}).get(method, {})
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    names = _string_props(schema, content.get("schema", {})) or ["name"]
    value = {name: f"x\ud800{name}" for name in names}
    body = [value] if content.get("schema", {}).get("type") == "array" else value
    text = json.dumps(body)  # ASCII: the surrogate travels as the escape \ud800
    return text.encode(), text.index("\\ud800") + 1


@pytest.mark.django_db
def test_a_lone_surrogate_in_every_string_is_400_malformed_on_every_endpoint(admin_client, objects):
    schema = _schema()
    before = _state()
    for route, _cls, method in write_calls():
        url = concrete(route, objects)
        body, column = surrogate_body(schema, route, method)
        r = getattr(admin_client, method)(url, data=body, content_type="application/json")
        context = (method, route, r.status_code, r.content[:300])
        assert r.status_code < 500, context
        if (route, method) in BODYLESS:
            continue
        assert r.status_code == 400, context
        assert assert_envelope(r, context) == {
            "code": "malformed",
            "message": SURROGATE_MESSAGE.format(column=column),
            "details": {},
        }, context
    assert _state() == before


# --- the parser ----------------------------------------------------------------------------


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"a": "\\ud800"}', f"{parsers.SURROGATE_MESSAGE}: line 1 column 8"),
        (b'["\\udc00"]', f"{parsers.SURROGATE_MESSAGE}: line 1 column 3"),
        (b'"\\ud800\\u0041"', f"{parsers.SURROGATE_MESSAGE}: line 1 column 2"),
        ('"\ud800"', parsers.SURROGATE_MESSAGE),  # a str holding one (decoded elsewhere)
        (b'"\xed\xa0\x80"', "the text is not valid UTF-8"),  # an encoded surrogate
        (b"\xff", "the text is not valid UTF-8"),
        (_nested(65), "nested deeper than 64 levels"),
        (b"[" * 100_000, "nested deeper than 64 levels"),
        (b'{"a":' * 65 + b"1" + b"}" * 65, "nested deeper than 64 levels"),
        (b"[NaN]", "NaN is not valid JSON"),
        (b"{oops", "Expecting property name enclosed in double quotes: line 1 column 2"),
        (b"", "Expecting value: line 1 column 1"),
    ],
)
def test_loads_refuses_with_a_clear_message(text, message):
    with pytest.raises(parsers.JSONInputError) as exc:
        parsers.loads(text)
    assert str(exc.value) == message


def test_loads_accepts_64_levels_and_surrogate_pairs():
    assert parsers.too_deep(parsers.loads(_nested(64))) is False
    assert parsers.too_deep(parsers.loads(_nested(64) + b" "), _nested(64)) is False
    assert parsers.loads(b'"\\ud83d\\ude00"') == "\U0001f600"
    assert parsers.loads('{"k": "é"}') == {"k": "é"}


@pytest.mark.django_db
def test_64_levels_reach_the_serializer_65_do_not(admin_client):
    ok = admin_client.post("/api/v1/tags/", data=_nested(64), content_type="application/json")
    deep = admin_client.post("/api/v1/tags/", data=_nested(65), content_type="application/json")
    assert (ok.status_code, ok.json()["error"]["code"]) == (400, "invalid")
    assert ok.json()["error"]["details"] == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }
    assert deep.status_code == 400
    assert deep.json() == {"error": {"code": "malformed", "message": DEEP_MESSAGE, "details": {}}}


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_choice_field_is_refused_at_parse_time(admin_client):
    body = b'{"email": "new@alpha.test", "role": "\\ud800"}'
    r = admin_client.post("/api/v1/invitations/", data=body, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": "malformed",
        "message": SURROGATE_MESSAGE.format(column=38),
        "details": {},
    }


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_global_key_is_refused_and_nothing_is_stored(admin_client, workspace):
    dataset = Dataset.objects.create(workspace=workspace, name="Rows")
    url = f"/api/v1/datasets/{dataset.pk}/data-rows/"
    body = b'[{"row_data": "hi", "media_type": "text", "global_key": "k\\ud800"}]'
    r = admin_client.post(url, data=body, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["message"] == SURROGATE_MESSAGE.format(column=59)
    ndjson = '{"row_data": "a", "media_type": "text", "global_key": "ok"}\n' + (
        '{"row_data": "b", "media_type": "text", "global_key": "k\\udfff"}\n' + "[" * 70 + "]" * 70
    )
    r = admin_client.post(url, data=ndjson, content_type="application/x-ndjson")
    assert r.status_code == 201, r.content
    assert r.json() == {
        "created": 1,
        "updated": 0,
        "errors": [
            {
                "line": 2,
                "global_key": None,
                "message": f"Not valid JSON: {parsers.SURROGATE_MESSAGE} (column 57).",
            },
            {
                "line": 3,
                "global_key": None,
                "message": "Not valid JSON: nested deeper than 64 levels.",
            },
        ],
    }
    assert list(DataRow.objects.values_list("global_key", flat=True)) == ["ok"]


@pytest.mark.django_db
def test_query_strings_and_forms_cannot_carry_a_surrogate_to_the_renderer(admin_client, workspace):
    # Django decodes query strings and form bodies with replacement characters, so an
    # encoded surrogate arrives as U+FFFD and renders like any other text.
    project = Project.objects.create(workspace=workspace, name="P")
    r = admin_client.get("/api/v1/projects/", QUERY_STRING="search=%ED%A0%80")
    assert (r.status_code, r.json()["results"]) == (200, [])
    r = admin_client.put(
        f"/api/v1/projects/{project.pk}/instructions/",
        data="kind=%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {"kind": ['"\ufffd\ufffd\ufffd" is not a valid choice.']}


# --- OPTIONS -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_options_on_accepting_an_invitation():
    r = APIClient().options("/api/v1/invitations/accept/")
    assert r.status_code == 200
    assert r.json() == {
        "name": "Invitation Accept",
        "description": (
            "Accept an invitation by token: as the signed-in user, or creating the account."
        ),
        "renders": ["application/json"],
        "parses": ["application/json"],
    }
    assert r["Allow"] == "POST, OPTIONS"


@pytest.mark.django_db
def test_options_looks_nothing_up(admin_client, other_workspace):
    foreign = CustomRole.objects.create(
        workspace=other_workspace, name="Theirs", scope="workspace", permissions=[]
    )
    before = AuditLogEntry.objects.count()
    r = admin_client.options(f"/api/v1/roles/{foreign.pk}/")
    assert r.status_code == 200
    assert r["Allow"] == "GET, PATCH, DELETE, HEAD, OPTIONS"
    assert AuditLogEntry.objects.count() == before  # no lookup, so no cross-workspace audit
