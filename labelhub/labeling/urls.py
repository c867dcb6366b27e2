"""Console URLs of the labeling app (console namespace): overview, batches, data rows,
workflow."""

from labelhub.labeling.views import batches, data_row_detail, overview, workflow

urlpatterns = [
    *overview.urlpatterns,
    *batches.urlpatterns,
    *data_row_detail.urlpatterns,
    *workflow.urlpatterns,
]
