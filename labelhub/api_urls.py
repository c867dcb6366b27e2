"""URLs of the REST API, /api/v1/: each app's own API URLconf, mounted here."""

from django.urls import include, path

urlpatterns = [
    path("", include("labelhub.access.api_urls")),
    path("", include("labelhub.projects.api_urls")),
    path("", include("labelhub.labeling.api_urls")),
    path("", include("labelhub.imports.api_urls")),
]
