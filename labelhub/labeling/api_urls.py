"""API URLs of the labeling app, under /api/v1/: overview, batches, the data rows tab."""

from labelhub.labeling.api import batches, overview

urlpatterns = [
    *overview.urlpatterns,
    *batches.urlpatterns,
]
