"""Console URLs of the imports app (console namespace)."""

from django.urls import path

from labelhub.imports.views import ImportJobsView, ImportJobView

urlpatterns = [
    path("projects/<str:project_id>/imports/", ImportJobsView.as_view(), name="project-imports"),
    path(
        "projects/<str:project_id>/imports/<str:job_id>/",
        ImportJobView.as_view(),
        name="project-import",
    ),
]
