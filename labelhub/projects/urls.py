"""Console URLs of the projects app (in the console namespace)."""

from labelhub.projects.views import batches, datasets, ontologies, projects

urlpatterns = [
    *datasets.urlpatterns,
    *ontologies.urlpatterns,
    *projects.urlpatterns,
    *batches.urlpatterns,
]
