"""API URLs of the labeling app, under /api/v1/: overview, batches, the data rows tab,
the labeling loop (workflow, queue, tasks, review, bulk actions)."""

from labelhub.labeling.api import batches, loop, overview

urlpatterns = [
    *overview.urlpatterns,
    *batches.urlpatterns,
    *loop.urlpatterns,
]
