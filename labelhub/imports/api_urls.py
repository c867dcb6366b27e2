"""API URLs of the imports app, under /api/v1/."""

from django.urls import path

from labelhub.imports.api import ImportJobDetailView, ImportJobListView, ImportJobReportView

urlpatterns = [
    path("projects/<str:project_id>/imports/", ImportJobListView.as_view(), name="import-jobs"),
    path(
        "projects/<str:project_id>/imports/<str:id>/",
        ImportJobDetailView.as_view(),
        name="import-job",
    ),
    path(
        "projects/<str:project_id>/imports/<str:id>/report.ndjson",
        ImportJobReportView.as_view(),
        name="import-job-report",
    ),
]
