"""API URLs of the projects app (datasets, ontologies, projects), under /api/v1/."""

from labelhub.projects.api import datasets, ontologies, projects

urlpatterns = [
    *datasets.urlpatterns,
    *ontologies.urlpatterns,
    *projects.urlpatterns,
]
