"""The API base: URL walk, sealed methods, error envelope, garbage on every endpoint."""

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from labelhub.access.api_base import WorkspaceScopedView
from labelhub.core.models import AuditLogEntry
from labelhub.workspaces.models import Membership

# Views allowed outside the workspace-scoped base: schema and docs only (health views are
# plain Django functions, not API views).
ALLOWED_OUTSIDE_BASE = {"SpectacularAPIView", "SpectacularSwaggerView"}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def api_routes():
    """Every (route, view class) under /api/ that is a DRF view."""
    routes = []
    for route, callback in _walk(get_resolver().url_patterns):
        cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if route.startswith("api/"):
            routes.append((route, cls))
    return routes


def test_every_api_view_inherits_the_workspace_base():
    routes = api_routes()
    assert len(routes) >= 12
    outside = [
        (route, getattr(cls, "__name__", repr(cls)))
        for route, cls in routes
        if not (isinstance(cls, type) and issubclass(cls, WorkspaceScopedView))
        and getattr(cls, "__name__", None) not in ALLOWED_OUTSIDE_BASE
    ]
    assert outside == []


def test_every_drf_view_anywhere_is_under_api():
    for route, callback in _walk(get_resolver().url_patterns):
        cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if isinstance(cls, type) and issubclass(cls, APIView):
            assert route.startswith("api/"), route


@pytest.mark.parametrize(
    "method", ["get_queryset", "get_object", "initial", "dispatch", "check_permissions"]
)
def test_subclass_cannot_override_sealed_methods(method):
    with pytest.raises(TypeError, match=f"overrides {method}"):
        type("Sneaky", (WorkspaceScopedView,), {method: lambda self, *a, **k: None})


def test_base_filters_by_workspace_even_with_unfiltered_queryset(
    admin_client, other_admin, workspace
):
    # The member list view declares Membership.objects.all(); the base must add the filter.
    emails = [m["user"]["email"] for m in admin_client.get("/api/v1/members/").json()["results"]]
    assert emails == ["admin@alpha.test"]


GARBAGE = [
    b"{not json",
    b"[]",
    b"null",
    b'"string"',
    b"12",
    json.dumps({"unexpected": "field", "role": ["x"], "email": {"a": 1}}).encode(),
    json.dumps(
        {"name": "x" * 10000, "workspace": "../../etc", "token": None, "password": 5}
    ).encode(),
    "\udcff".encode("utf-8", "surrogatepass"),
]


def _concrete(route, ids):
    return "/" + route.replace("<str:id>", ids)


@pytest.mark.django_db
@pytest.mark.parametrize("payload", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_to_every_endpoint_never_500s_and_changes_nothing(
    payload, admin_client, admin, labeler
):
    m = Membership.objects.get(user=labeler)
    before = (AuditLogEntry.objects.count(), list(Membership.objects.values_list("pk", "role")))
    for route, cls in api_routes():
        if cls is None or not issubclass(cls, WorkspaceScopedView):
            continue
        for ids in (str(m.pk), "garbage-id"):
            url = _concrete(route, ids)
            for method in ("post", "put", "patch", "delete"):
                r = getattr(admin_client, method)(
                    url, data=payload, content_type="application/json"
                )
                assert r.status_code < 500, (method, url, r.status_code)
                if r.status_code >= 400:
                    body = r.json()
                    assert set(body["error"]) == {"code", "message", "details"}, (method, url, body)
            r = admin_client.post(url, data=payload, content_type="text/plain")
            assert r.status_code in {400, 404, 405, 415}, (url, r.status_code)
    # DELETE with an empty body on the member detail is a legitimate removal; nothing else
    # may have changed, and garbage bodies never reached a service.
    after = (AuditLogEntry.objects.count(), list(Membership.objects.values_list("pk", "role")))
    removed = {pk for pk, _ in before[1]} - {pk for pk, _ in after[1]}
    assert removed <= {m.pk}


@pytest.mark.django_db
def test_malformed_json_is_400_malformed(admin_client):
    r = admin_client.post("/api/v1/invitations/", data=b"{oops", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed"


@pytest.mark.django_db
def test_cookie_post_without_csrf_token_is_403(api_client_for, admin, workspace):
    client = api_client_for(admin, workspace, csrf=True)
    r = client.post("/api/v1/invitations/", {"email": "x@y.test", "role": "labeler"}, format="json")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in r.json()["error"]["message"]


@pytest.mark.django_db
def test_anonymous_gets_401_envelope():
    r = APIClient().get("/api/v1/members/")
    assert r.status_code == 401
    assert r.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "details": {},
        }
    }


@pytest.mark.django_db
def test_unknown_api_url_is_json_404(admin_client):
    r = admin_client.get("/api/v1/nothing-here/")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_cdn(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert {"/api/v1/members/", "/api/v1/invitations/", "/api/v1/audit-log/", "/api/v1/me/"} <= set(
        paths
    )
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    # Nothing is loaded from another host (a random CSRF token may contain "cdn": test URLs).
    assert re.findall(r'(?:src|href)="(https?://[^"]+)"', docs) == []


def test_schema_generation_has_no_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
