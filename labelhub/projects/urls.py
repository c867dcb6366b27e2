"""Console URLs of the projects app (console namespace)."""

from labelhub.projects.views import datasets, ontologies, projects

urlpatterns = [
    *datasets.urlpatterns,
    *ontologies.urlpatterns,
    *projects.urlpatterns,
]
