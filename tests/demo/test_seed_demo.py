"""``seed_demo`` shows the import features: local street images with their size, pre-label
imports (errors, warnings, a dry run), a ground-truth import, the admin's notifications;
two weeks of the labeling loop (``labelhub.demo.loop``); and a second run changes nothing."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Sum
from django.test import Client
from django.utils import timezone

from labelhub.accounts.models import User
from labelhub.core.models import AuditLogEntry
from labelhub.demo.management.commands.seed_demo import (
    ROAD,
    SCENE_SIZE,
    street_scene,
    street_scene_svg,
)
from labelhub.imports.models import ImportJob, ImportLineError
from labelhub.labeling.models import (
    Annotation,
    Contributor,
    InputEvent,
    Label,
    LabelingEvent,
    LabelVersion,
    Reservation,
    Review,
    Skip,
    Task,
    WorkflowStep,
    WorkSession,
)
from labelhub.labeling.selectors.input_events import text_features
from labelhub.labeling.selectors.queue import step_counts, waiting_for
from labelhub.labeling.services.workflow import workflow_of
from labelhub.notifications.models import Notification
from labelhub.projects.models import DataRow, Project
from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY

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
        "events": sorted(LabelingEvent.objects.values_list("pk", "kind", "created_at")),
        "reviews": sorted(Review.objects.values_list("pk", "decision", "score", "created_at")),
        "skips": sorted(Skip.objects.values_list("pk", "reason", "created_at")),
        "reservations": sorted(Reservation.objects.values_list("pk", "expires_at")),
        "steps": sorted(WorkflowStep.objects.values_list("pk", "name", "filters")),
        "versions": sorted(LabelVersion.objects.values_list("pk", "number", "created_at")),
        "input_events": sorted(InputEvent.objects.values_list("pk", "kind", "created_at")),
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
    labels = Label.objects.filter(project=receipts, origin="imported")
    assert labels.count() == 4
    assert set(labels.values_list("origin", "status", "author__email")) == {
        ("imported", "submitted", ADMIN)
    }
    assert sorted(
        Task.objects.filter(
            project=receipts, status="done", data_row__labels__origin="imported"
        ).values_list("data_row__global_key", flat=True)
    ) == ["receipt-001", "receipt-002", "receipt-003", "receipt-004"]

    notes = Notification.objects.filter(user__email=ADMIN, kind=Notification.Kind.IMPORT_FINISHED)
    assert notes.count() == 4
    assert list(notes.filter(read_at__isnull=False).values_list("title", flat=True)) == [
        "Import Model v3 pre-labels (dry run) finished: 6 valid, 0 invalid, 0 written (dry run)."
    ]
    assert notes.filter(read_at__isnull=True).count() == 3
    assert notes.filter(title__contains="3 onto rows with pre-labels from another import").exists()
    assert Notification.objects.filter(user__email=ADMIN).count() == 4

    before = snapshot()
    seed()
    assert snapshot() == before


def test_seed_demo_history_carries_the_address_it_was_made_from():
    """The audit log's IP column of the demo was empty: seeding runs without a request."""
    seed()
    entries = AuditLogEntry.objects.all()
    assert entries.count() > 40
    assert set(entries.values_list("ip_address", flat=True)) == {"127.0.0.1"}


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
    assert Notification.objects.filter(kind=Notification.Kind.IMPORT_FINISHED).count() == 4


# --- the labeling loop (labelhub.demo.loop) ------------------------------------------------


def by_step(project: Project) -> dict[str, int]:
    names = dict(WorkflowStep.objects.filter(project=project).values_list("pk", "name"))
    return {names[UUID(step)]: n for step, n in step_counts(project.pk).items()}


def by_status(project: Project) -> dict[str, int]:
    return dict(Task.objects.filter(project=project).values_list("status").annotate(n=Count("pk")))


def keys(queryset) -> list[str]:
    return sorted(queryset.values_list("data_row__global_key", flat=True))


def cams(*numbers: int) -> list[str]:
    return [f"street-cam-{n:03d}" for n in numbers]


def test_seed_demo_writes_two_weeks_of_labeling_through_the_loop():
    before = timezone.now()
    seed()
    after = timezone.now()
    streets = Project.objects.get(name="Street scenes")
    receipts = Project.objects.get(name="Receipts")
    people = {u.email.split("@")[0]: u for u in User.objects.all()}
    l1, l2, manager = people["labeler1"], people["labeler2"], people["manager"]

    # Workflows: Street scenes has two review steps, the second for night rows only.
    steps = WorkflowStep.objects.filter(project=streets).order_by("position")
    assert list(steps.values_list("kind", "name", "position")) == [
        ("label", "Initial labeling", 0),
        ("review", "Initial review", 1),
        ("review", "Night check", 2),
        ("rework", "Rework", 900),
        ("done", "Done", 1000),
    ]
    night = steps.get(name="Night check")
    assert night.filters == [{"field": "metadata", "name": "tag", "values": ["night"]}]
    assert night.reviewer_users == [str(manager.pk)]
    rework = steps.get(kind="rework")
    assert (rework.assignment, rework.max_rework_attempts) == ("creator", 2)
    streets.refresh_from_db()
    assert (streets.benchmark_enabled, streets.reservation_lease_seconds) == (True, 86400)
    assert streets.reservation_count == 4  # the project keeps its setting
    receipts.refresh_from_db()
    assert (receipts.consensus_enabled, receipts.review_score_threshold) == (True, 70)

    # Tasks per step and status; each status mirrors its step.
    assert by_step(streets) == {
        "Initial labeling": 9,
        "Initial review": 3,
        "Night check": 1,
        "Rework": 1,
        "Done": 10,
    }
    assert by_status(streets) == {"to_label": 9, "in_review": 4, "in_rework": 1, "done": 10}
    assert by_step(receipts) == {"Initial labeling": 3, "Done": 9}
    assert by_status(receipts) == {"to_label": 3, "done": 9}
    mirror = {"label": "to_label", "review": "in_review", "rework": "in_rework", "done": "done"}
    for task in Task.objects.select_related("step"):
        assert task.status == mirror[task.step.kind]
    assert keys(Task.objects.filter(project=streets, step__name="Done")) == cams(
        1, 2, 3, 4, 5, 6, 7, 8, 10, 11
    )
    assert keys(Task.objects.filter(project=streets, step__name="Initial review")) == cams(
        13, 14, 15
    )
    assert keys(Task.objects.filter(project=streets, step=night)) == cams(12)
    assert keys(Task.objects.filter(project=streets, step=rework)) == cams(9)

    # Held right now: two rows by labeler2, with a live lease; a hidden row; a benchmark.
    held = Reservation.objects.filter(project=streets)
    assert sorted(held.values_list("task__data_row__global_key", "user__email", "mode")) == [
        (cams(16)[0], l2.email, "label"),
        (cams(17)[0], l2.email, "label"),
    ]
    assert all(r.expires_at > after for r in held)
    assert not Reservation.objects.filter(project=receipts).exists()
    assert keys(Task.objects.filter(hidden=True)) == cams(24)
    assert keys(Task.objects.filter(is_benchmark=True)) == cams(1)
    reference = Label.objects.get(is_benchmark_reference=True)
    assert (reference.data_row.global_key, reference.author, reference.status) == (
        cams(1)[0],
        l1,
        "approved",
    )

    # Consensus: Receipts' second week needs two labels a row.
    consensus = Task.objects.filter(project=receipts, batch__name="Week 2").order_by("id")
    assert list(consensus.values_list("labels_needed", "labels_done", "status")) == [
        (2, 2, "done"),
        (2, 1, "to_label"),
        (2, 0, "to_label"),
        (2, 0, "to_label"),
    ]

    # Labels: 22 by people (all timed), 4 imported; their states.
    human = Label.objects.filter(origin="human")
    assert human.count() == 22
    assert dict(human.values_list("status").annotate(n=Count("pk"))) == {
        "approved": 17,
        "submitted": 4,
        "rejected": 1,
    }
    assert not human.filter(seconds_labeling=0).exists()
    assert not human.filter(status="approved", seconds_review=0).exists()
    assert not human.filter(status="approved", score__isnull=True).exists()
    assert not WorkSession.objects.exists()

    # A label rejected (with its reason), reworked by its creator, then approved.
    task = Task.objects.get(project=streets, data_row__global_key="street-cam-007")
    label = Label.objects.get(project=streets, data_row=task.data_row)
    assert (label.author, label.status, label.rework_count) == (l2, "approved", 1)
    assert label.seconds_rework > 0
    assert list(task.reviews.values_list("decision", "reason", "score", "reviewer")) == [
        ("reject", "The car behind the sign is not boxed.", 45, manager.pk),
        ("approve", "", 86, l1.pk),
    ]
    assert label.score == (45 + 86) / 2
    assert list(
        LabelingEvent.objects.filter(task_id=task.pk)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    ) == [
        "reserved",
        "submitted",
        "reserved",
        "rejected",
        "reserved",
        "reworked",
        "reserved",
        "approved",
        "done",
    ]
    # The label in rework now is labeler1's; both authors were told.
    waiting = Label.objects.get(status="rejected")
    assert (waiting.data_row.global_key, waiting.author) == ("street-cam-009", l1)
    assert waiting.reviews.get().reason == "The occluded car is marked as not occluded."
    assert sorted(
        Notification.objects.filter(kind="label.rejected").values_list("user__email", "title")
    ) == [
        (l1.email, "Your label in Street scenes was rejected"),
        (l2.email, "Your label in Street scenes was rejected"),
    ]

    # Skipped rows, with reasons (both labeled by someone else later).
    assert sorted(
        Skip.objects.values_list("task__data_row__global_key", "user__email", "reason")
    ) == [
        ("street-cam-008", l2.email, "Glare on the lens hides the cars on the left."),
        ("street-cam-014", l1.email, "Too dark to tell the parked cars apart."),
    ]

    # Scores per label; a contributor under Receipts' threshold is out of its queue.
    assert sorted(
        Label.objects.filter(data_row__global_key="receipt-009").values_list(
            "author__email", "score"
        )
    ) == [(l1.email, 94.0), (l2.email, 50.0)]
    out = Contributor.objects.get(project=receipts, user=l2)
    assert out.removed_reason == "average review score 64.0 is below the threshold 70"
    assert Contributor.objects.filter(removed_at__isnull=False).count() == 1
    assert Notification.objects.filter(kind="queue.removed", user=l2).count() == 1

    # Every stored label has its versions: 22 labelings and the rework, back-dated too.
    versions = LabelVersion.objects.all()
    assert dict(versions.values_list("mode").annotate(n=Count("pk"))) == {"label": 22, "rework": 1}
    assert list(
        LabelVersion.objects.filter(label=label).order_by("number").values_list("number", "mode")
    ) == [(1, "label"), (2, "rework")]
    assert all(v.created_at < before for v in versions)

    # Authentic input: Receipts protects free-text answers; labeler1's page blocked a paste
    # and saw a rapid entry on receipt-006; the row's page lists both.
    assert (receipts.authentic_input_protection, streets.authentic_input_protection) == (
        True,
        False,
    )
    [(notes_id, notes)] = list(text_features(receipts).items())[:1]
    inputs = InputEvent.objects.order_by("created_at", "id")
    assert list(
        inputs.values_list("data_row__global_key", "user__email", "kind", "feature_schema_id")
    ) == [
        ("receipt-006", l1.email, "paste", notes_id),
        ("receipt-006", l1.email, "rapid_entry", notes_id),
    ]
    assert [e.detail for e in inputs] == [
        {"characters": 48},
        {"characters": 120, "milliseconds": 300},
    ]
    assert all(e.created_at < before for e in inputs)
    client = Client()
    client.force_login(people["admin"])
    session = client.session
    session[SESSION_WORKSPACE_KEY] = str(receipts.workspace_id)
    session.save()
    page = client.get(f"/projects/{receipts.pk}/data-rows/{inputs[0].data_row_id}/")
    html = page.content.decode()
    assert f"Paste blocked in {notes} · {l1.email} · " in html
    assert f"Rapid entry in {notes} (120 characters in 300 ms) · {l1.email} · " in html

    # Everyone finds work waiting (labeler2 is out of the Receipts queue).
    def waiting_in(project):
        wf = workflow_of(project)
        return {
            name: tuple(waiting_for(project, wf, people[name]).values())
            for name in ("admin", "manager", "labeler1", "labeler2")
        }

    assert waiting_in(streets) == {  # (label, review, rework)
        "admin": (7, 3, 0),
        "manager": (7, 4, 0),
        "labeler1": (6, 2, 1),
        "labeler2": (7, 1, 0),
    }
    assert waiting_in(receipts) == {
        "admin": (3, 0, 0),
        "manager": (3, 0, 0),
        "labeler1": (2, 0, 0),
        "labeler2": (0, 0, 0),  # taken out of the Receipts queue by the score threshold
    }

    # Events: every transition, over the last 14 days (working hours), the held rows now.
    events = LabelingEvent.objects.all()
    assert events.count() == 109
    assert dict(events.values_list("kind").annotate(n=Count("pk"))) == {
        "reserved": 48,
        "submitted": 22,
        "approved": 17,
        "done": 15,
        "skipped": 2,
        "rejected": 2,
        "reworked": 1,
        "released": 2,
    }
    assert dict(events.values_list("project__name").annotate(n=Count("pk"))) == {
        "Street scenes": 80,
        "Receipts": 29,
    }
    times = sorted(events.values_list("created_at", flat=True))
    assert before - timedelta(days=14) < times[0] < before - timedelta(days=10)
    assert times[-1] <= after
    now_rows = events.filter(created_at__gte=before)
    assert sorted(now_rows.values_list("kind", flat=True)) == ["released"] * 2 + ["reserved"] * 4
    past = [t for t in times if t < before]
    per_day = Counter(t.date() for t in past)  # eight working days
    assert [n for _, n in sorted(per_day.items())] == [6, 12, 14, 16, 12, 23, 14, 6]
    assert all(t.weekday() < 5 and 8 <= t.hour < 18 for t in past)
    assert {e.created_at.date() for e in Review.objects.all()} <= {t.date() for t in past}
    # the seconds on the events are the labels' (per mode), plus the two skips' 183.9 s
    seconds = dict(events.values_list("mode").annotate(s=Sum("seconds")))
    assert {mode: round(n, 1) for mode, n in seconds.items()} == {
        "": 0.0,  # done, moved
        "label": 2425.5,
        "review": 823.3,
        "rework": 69.2,
    }
    labels = human.aggregate(
        label=Sum("seconds_labeling"), review=Sum("seconds_review"), rework=Sum("seconds_rework")
    )
    assert round(seconds["rework"], 1) == round(labels["rework"], 1)
    assert round(seconds["review"], 1) == round(labels["review"], 1)
    # a skip's seconds are on its event and the task, not on any label
    skipped = events.filter(kind="skipped").aggregate(s=Sum("seconds"))["s"]
    assert round(skipped, 1) == 183.9
    assert round(seconds["label"], 1) == round(labels["label"] + skipped, 1)


def test_seed_demo_leaves_hand_set_statuses_of_older_demo_data_alone(monkeypatch):
    """Older demo data had task statuses set by hand (no labels behind them): the story
    is not written over it."""
    from labelhub.demo.management.commands import seed_demo as command

    monkeypatch.setattr(command, "seed_labeling_loop", lambda: "skipped")
    seed()
    monkeypatch.undo()
    Task.objects.filter(
        project__name="Street scenes", data_row__global_key="street-cam-001"
    ).update(status="done", labeled=True)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo labeling history skipped" in out.getvalue()
    assert not LabelingEvent.objects.exists()
    assert not WorkflowStep.objects.filter(name="Night check").exists()
    assert not Label.objects.filter(origin="human").exists()
