"""``seed_demo`` shows the import features: local street images with their size, pre-label
imports (errors, warnings, a dry run), a ground-truth import, the admin's notifications;
and a second run changes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count

from labelhub.core.models import AuditLogEntry
from labelhub.demo.management.commands.seed_demo import (
    ROAD,
    SCENE_SIZE,
    street_scene,
    street_scene_svg,
)
from labelhub.imports.models import ImportJob, ImportLineError
from labelhub.labeling.models import Annotation, Label, Task
from labelhub.notifications.models import Notification
from labelhub.projects.models import DataRow, Project

pytestmark = pytest.mark.django_db

ADMIN = "admin@demo.labelhub.local"
STREET_DIR = Path(settings.BASE_DIR) / "static" / "demo" / "street"


def seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def jobs(project: str) -> list[tuple]:
    return list(
        ImportJob.objects.filter(project__name=project)
        .order_by("created_at")
        .values_list(
            "name",
            "kind",
            "dry_run",
            "state",
            "total",
            "lines_valid",
            "lines_invalid",
            "lines_written",
            "warnings",
        )
    )


def snapshot() -> dict:
    return {
        "jobs": sorted(ImportJob.objects.values_list("pk", "state", "lines_written", "warnings")),
        "annotations": Annotation.objects.count(),
        "errors": ImportLineError.objects.count(),
        "labels": sorted(Label.objects.values_list("pk", "status", "updated_at")),
        "notifications": sorted(Notification.objects.values_list("pk", "read_at", "title")),
        "rows": sorted(DataRow.objects.values_list("pk", "row_data", "metadata")),
        "tasks": sorted(Task.objects.values_list("pk", "status")),
        "threshold": list(Project.objects.values_list("name", "prelabel_confidence_threshold")),
        "audit": AuditLogEntry.objects.count(),
    }


def test_demo_images_are_local_small_svgs_matching_the_layout():
    for n in range(1, 25):
        path = STREET_DIR / f"street-{n:02d}.svg"
        text = path.read_text()
        assert path.stat().st_size < 3000
        assert text == street_scene_svg(n)  # the pre-labels' boxes are the drawn cars
        for left, top, width, height, _ in street_scene(n)["cars"]:
            assert 0 <= left and left + width <= SCENE_SIZE[0]
            assert 0 <= top and top + height <= SCENE_SIZE[1]
    assert len({street_scene_svg(n) for n in range(1, 25)}) == 24


def test_seed_demo_imports_then_a_second_run_changes_nothing():
    seed()

    rows = DataRow.objects.filter(dataset__name="Street cams").order_by("global_key")
    assert [r.row_data for r in rows] == [
        f"/static/demo/street/street-{n:02d}.svg" for n in range(1, 25)
    ]
    assert all(r.metadata["mediaAttributes"] == {"width": 640, "height": 480} for r in rows)
    assert rows[0].metadata["camera"] == "north"  # the rest of the metadata is kept

    streets = Project.objects.get(name="Street scenes")
    assert streets.prelabel_confidence_threshold == 0.5
    assert jobs("Street scenes") == [
        ("Model v1 pre-labels", "prelabels", False, "finished_with_errors", 40, 37, 3, 37, 0),
        ("Model v2 pre-labels", "prelabels", False, "finished", 3, 3, 0, 3, 3),
        ("Model v3 pre-labels (dry run)", "prelabels", True, "finished", 6, 6, 0, 0, 0),
    ]
    assert jobs("Receipts") == [
        ("Reviewed receipts", "ground_truth", False, "finished", 8, 8, 0, 8, 0),
    ]
    assert sorted(
        ImportLineError.objects.filter(job__name="Model v1 pre-labels").values_list("line", "name")
    ) == [(38, "FeatureNotFound"), (39, "InvalidGeometry"), (40, "DataRowNotFound")]

    prelabels = Annotation.objects.filter(project=streets, source="prelabel")
    assert prelabels.count() == 40
    assert dict(prelabels.values_list("kind").annotate(n=Count("pk"))) == {
        "bbox": 30,
        "point": 5,
        "polygon": 3,
        "checklist": 2,
    }
    drawn = prelabels.exclude(kind="checklist")  # the weather answers carry no confidence
    assert drawn.filter(confidence__lt=0.5).count() == 10  # under the project's threshold
    assert drawn.filter(confidence__gte=0.5).count() == 28
    assert not drawn.filter(confidence__lt=0.35).exists()
    assert not drawn.filter(confidence__gt=0.98).exists()
    assert set(prelabels.values_list("data_row__global_key", flat=True).distinct()) == {
        f"street-cam-{n:03d}" for n in range(4, 14)
    }
    # v1's boxes are the cars drawn in the images; the road polygon is the drawn road
    car = prelabels.filter(job__name="Model v1 pre-labels", kind="bbox").order_by("pk").first()
    n = int(car.data_row.global_key.rsplit("-", 1)[1])
    boxes = [
        {"top": t, "left": left, "height": h, "width": w}
        for left, t, w, h, _ in street_scene(n)["cars"]
    ]
    assert car.value["bbox"] in boxes
    road = prelabels.filter(kind="polygon").first()
    assert [(p["x"], p["y"]) for p in road.value["polygon"]] == ROAD

    receipts = Project.objects.get(name="Receipts")
    entities = Annotation.objects.filter(project=receipts, source="ground_truth")
    assert entities.count() == 8
    for entity in entities.select_related("data_row", "feature"):
        location = entity.value["location"]
        part = entity.data_row.row_data[location["start"] : location["end"]]
        if entity.feature.name == "Date":
            assert part.startswith("2026-10-") and len(part) == 10
        else:
            assert part == f"{float(part):.2f}"
    labels = Label.objects.filter(project=receipts)
    assert labels.count() == 4
    assert set(labels.values_list("origin", "status", "author__email")) == {
        ("imported", "submitted", ADMIN)
    }
    assert sorted(
        Task.objects.filter(project=receipts, status="done").values_list(
            "data_row__global_key", flat=True
        )
    ) == ["receipt-001", "receipt-002", "receipt-003", "receipt-004"]

    notes = Notification.objects.filter(user__email=ADMIN, kind=Notification.Kind.IMPORT_FINISHED)
    assert notes.count() == 4
    assert list(notes.filter(read_at__isnull=False).values_list("title", flat=True)) == [
        "Import Model v3 pre-labels (dry run) finished: 6 valid, 0 invalid, 0 written (dry run)."
    ]
    assert notes.filter(read_at__isnull=True).count() == 3
    assert notes.filter(title__contains="3 onto rows with pre-labels from another import").exists()
    assert Notification.objects.count() == 4

    before = snapshot()
    seed()
    assert snapshot() == before


def test_seed_demo_adds_missing_imports_to_older_demo_data():
    """Data seeded before the imports (the tenant exists, no jobs) gets them on the next run."""
    seed()
    v2 = ImportJob.objects.get(name="Model v2 pre-labels")
    Annotation.objects.filter(job=v2).delete()  # (deleting a job keeps its annotations)
    Notification.objects.filter(subject=f"import_job:{v2.pk}").delete()
    v2.delete()
    seed()
    assert [j[0] for j in jobs("Street scenes")] == [
        "Model v1 pre-labels",
        "Model v3 pre-labels (dry run)",
        "Model v2 pre-labels",
    ]
    assert ImportJob.objects.get(name="Model v2 pre-labels").warnings == 3
    assert Notification.objects.count() == 4
