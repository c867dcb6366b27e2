"""API URLs of the projects app (datasets, ontologies, projects, batches), under /api/v1/."""

from labelhub.projects.api import batches, datasets, ontologies, projects

urlpatterns = [
    *datasets.urlpatterns,
    *ontologies.urlpatterns,
    *projects.urlpatterns,
    *batches.urlpatterns,
]
