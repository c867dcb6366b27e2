import io
import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

def test_probe():
    call_command("seed_demo", stdout=io.StringIO())
    from labelhub.imports.models import ImportJob, Annotation, ImportLineError
    from labelhub.notifications.models import Notification
    from labelhub.projects.models import Label, Task, DataRow
    for j in ImportJob.objects.order_by("created_at"):
        print(j.project.name, j.name, j.kind, j.dry_run, j.state, j.total, j.lines_valid, j.lines_invalid, j.lines_written, j.warnings, j.error_summary)
    print(list(ImportLineError.objects.values_list("line", "name")))
    print("annotations", Annotation.objects.count(), list(Annotation.objects.values_list("kind","source").distinct()))
    print("below", Annotation.objects.filter(confidence__lt=0.5).count())
    print("labels", Label.objects.count(), list(Label.objects.values_list("origin","status")))
    print("notifs", list(Notification.objects.values_list("user__email","title","read_at")))
    print(DataRow.objects.filter(global_key="street-cam-004").values("row_data","metadata").first())
    print(Task.objects.filter(project__name="Receipts", status="done").count())
