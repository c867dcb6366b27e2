"""Concrete URLs of every HTML page of the site over the demo data (``seed_demo``).

Used by the whole-site Content-Security-Policy checks: the HTTP test reads each page's
header and markup, the browser test loads each page in Chromium. ``uncovered_routes``
walks the URLconf, so a new page fails those tests until it is listed here (or skipped,
with the reason).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from labelhub.access.models import CustomRole, Group
from labelhub.access.services.invitations import invitation_create
from labelhub.accounts.models import User
from labelhub.imports.models import ImportJob
from labelhub.projects.models import DataRow, Dataset, Project
from labelhub.workspaces.models import Workspace

ADMIN_EMAIL = "admin@demo.labelhub.local"

# Routes that answer no HTML page of their own, and why.
SKIPPED = {
    "favicon.ico": "redirects to the static icon",
    "healthz": "plain-text probe",
    "readyz": "plain-text probe",
    "api/schema/": "OpenAPI YAML/JSON",
    "accounts/sign-out/": "POST only, redirects",
    "workspace/switch/": "POST only, redirects",
    "groups/history.csv": "CSV download",
    # An uploaded file, served with its own `Content-Security-Policy: sandbox`.
    "projects/<str:project_id>/instructions/file": "uploaded file, sandboxed",
}

# Pages for a visitor who is not signed in (the sign-in page itself, links from e-mails).
ANONYMOUS_ROUTES = {
    "accounts/sign-in/",
    "accounts/sign-in/code/",
    "accounts/password-reset/",
    "accounts/password-reset/sent/",
    "accounts/password-reset/<uidb64>/<token>/",
    "accounts/password-reset/complete/",
    "setup/",
    "invitations/<str:token>/",
}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def html_routes() -> list[str]:
    """Every route outside the REST API that is not in ``SKIPPED``."""
    return [
        route
        for route in _walk(get_resolver().url_patterns)
        if not route.startswith("api/v1/") and route not in SKIPPED
    ]


def demo_pages() -> dict[str, list[str]]:
    """Route → the concrete paths that show it, over the demo data (adds an invitation)."""
    vision = Workspace.objects.get(name="Vision", tenant__name="Demo Labs")
    admin = User.objects.get(email=ADMIN_EMAIL)
    # the demo's invitations keep only their tokens' hashes: a new one, to open its page
    _, token = invitation_create(
        workspace=vision, actor=admin, email="csp.check@demo.labelhub.local", role="labeler"
    )
    streets = Project.objects.get(workspace=vision, name="Street scenes")
    receipts = Project.objects.get(workspace=vision, name="Receipts")
    image_row = DataRow.objects.get(workspace=vision, global_key="street-cam-004")
    text_row = DataRow.objects.get(workspace=vision, global_key="receipt-001")
    dataset = Dataset.objects.get(workspace=vision, name="Street cams")
    job = ImportJob.objects.filter(project=streets, lines_invalid__gt=0).first()
    role = CustomRole.objects.get(workspace=vision, name="Senior Reviewer")
    group = Group.objects.get(workspace=vision, name="Vendors")
    batch = streets.batches.order_by("created_at").first()
    p = f"/projects/{streets.pk}"
    return {
        "accounts/sign-in/": ["/accounts/sign-in/"],
        # without a first factor it sends the visitor back to the sign-in page
        "accounts/sign-in/code/": ["/accounts/sign-in/code/"],
        "accounts/profile/": ["/accounts/profile/"],
        "accounts/password-reset/": ["/accounts/password-reset/"],
        "accounts/password-reset/sent/": ["/accounts/password-reset/sent/"],
        "accounts/password-reset/<uidb64>/<token>/": ["/accounts/password-reset/MQ/bad-token/"],
        "accounts/password-reset/complete/": ["/accounts/password-reset/complete/"],
        "api/docs/": ["/api/docs/"],
        "": ["/"],
        # only before the first tenant exists (checked on an empty database instead)
        "setup/": [],
        "invitations/<str:token>/": [f"/invitations/{token}/"],
        "members/": ["/members/"],
        "invitations/": ["/invitations/"],
        "audit-log/": ["/audit-log/"],
        "workspace/settings/": ["/workspace/settings/"],
        "tenant/workspaces/": ["/tenant/workspaces/"],
        "roles/": ["/roles/"],
        "roles/<str:id>/": [f"/roles/{role.pk}/"],
        "groups/": ["/groups/"],
        "groups/<str:id>/": [f"/groups/{group.pk}/"],
        "api-keys/": ["/api-keys/"],
        "datasets/": ["/datasets/"],
        "datasets/<str:id>/": [f"/datasets/{dataset.pk}/"],
        "datasets/<str:id>/rows/<str:row_id>/": [
            f"/datasets/{dataset.pk}/rows/{image_row.pk}/",
            f"/datasets/{text_row.dataset_id}/rows/{text_row.pk}/",
        ],
        "metadata/": ["/metadata/"],
        "ontologies/": ["/ontologies/"],
        "ontologies/<str:id>/": [f"/ontologies/{streets.ontology_id}/"],
        "ontologies/<str:id>/json/": [f"/ontologies/{streets.ontology_id}/json/"],
        "projects/": ["/projects/"],
        "projects/<str:project_id>/": [f"{p}/"],
        "projects/<str:project_id>/members/": [f"{p}/members/"],
        "projects/<str:project_id>/settings/": [f"{p}/settings/"],
        "projects/<str:project_id>/batches/": [f"{p}/batches/"],
        "projects/<str:project_id>/batches/<str:batch_id>/": [f"{p}/batches/{batch.pk}/"],
        "projects/<str:project_id>/data-rows/": [f"{p}/data-rows/"],
        "projects/<str:project_id>/workflow/": [f"{p}/workflow/"],
        "projects/<str:project_id>/data-rows/<str:row_id>/": [
            f"{p}/data-rows/{image_row.pk}/",
            f"/projects/{receipts.pk}/data-rows/{text_row.pk}/",
        ],
        "projects/<str:project_id>/imports/": [f"{p}/imports/"],
        # claims the admin's next task and lands on its page (or on the empty state)
        "projects/<str:project_id>/label/": [f"{p}/label/"],
        "projects/<str:project_id>/review/": [f"{p}/review/"],
        "projects/<str:project_id>/rework/": [f"{p}/rework/"],
        "projects/<str:project_id>/tasks/<str:row_id>/": [f"{p}/tasks/{image_row.pk}/?mode=label"],
        "projects/<str:project_id>/imports/<str:job_id>/": [f"{p}/imports/{job.pk}/"],
        "notifications/": ["/notifications/"],
    }


# Error pages are HTML responses too.
ERROR_PAGES = ["/projects/no-such-project/", "/no/such/page/", "/invitations/not-a-token/"]


def uncovered_routes(pages: dict[str, list[str]]) -> list[str]:
    """Routes of the URLconf that ``pages`` does not show (empty when all are covered)."""
    return [route for route in html_routes() if route not in pages]
