"""Console URLs of the projects app (in the console namespace)."""

from labelhub.imports import urls as imports_urls
from labelhub.projects.views import batches, data_row_detail, datasets, ontologies, projects

urlpatterns = [
    *datasets.urlpatterns,
    *ontologies.urlpatterns,
    *projects.urlpatterns,
    *batches.urlpatterns,
    *data_row_detail.urlpatterns,
    *imports_urls.urlpatterns,
]
