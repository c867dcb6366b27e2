"""Console URLs of the labeling app (console namespace): overview, batches, data rows."""

from labelhub.labeling.views import batches, data_row_detail, overview, task

urlpatterns = [
    *overview.urlpatterns,
    *batches.urlpatterns,
    *data_row_detail.urlpatterns,
    *task.urlpatterns,
]
