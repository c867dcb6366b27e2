"""Root URLconf: console pages, API, schema, health."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from labelhub.core import health
from labelhub.core.views import favicon

# The console: one namespace, each app's own URLconf mounted here.
console = [
    path("", include("labelhub.workspaces.urls")),
    path("", include("labelhub.access.urls")),
    path("", include("labelhub.projects.urls")),
    path("", include("labelhub.labeling.urls")),
    path("", include("labelhub.imports.urls")),
    path("", include("labelhub.notifications.urls")),
]

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include((("labelhub.api_urls"), "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("accounts/", include(("labelhub.accounts.urls", "accounts"), namespace="accounts")),
    path("", include((console, "console"), namespace="console")),
]

handler400 = "labelhub.core.views.bad_request"
handler403 = "labelhub.core.views.permission_denied"
handler404 = "labelhub.core.views.page_not_found"
handler500 = "labelhub.core.views.server_error"
