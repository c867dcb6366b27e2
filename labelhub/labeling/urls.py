"""Console URLs of the labeling app (console namespace): overview, batches, data rows,
workflow, the task page."""

from labelhub.labeling.views import batches, data_row_detail, data_rows, overview, task, workflow

urlpatterns = [
    *overview.urlpatterns,
    *batches.urlpatterns,
    *data_rows.urlpatterns,
    *data_row_detail.urlpatterns,
    *workflow.urlpatterns,
    *task.urlpatterns,
]
