"""The demo's labeling loop: two weeks of work on "Street scenes" and "Receipts", done
through the labeling services (queue, submit, skip, review, rework, bulk actions), then
dated back over the last 14 days.

Every transition happens now (the services stamp the clock); the work is written day by
day and afterwards each day's rows are moved onto a working day (08:00 on) of the last
two weeks, one after the other with the seconds the work took (``Timeline``): events,
labels, reviews, skips, tasks' last change, notifications and audit rows. The last step,
the reservations people hold at the moment, stays at the real time so their leases are
live. Projects, batches, tasks and data rows keep their creation time (the seeding's).
Seeded: the same run gives the same story (only the calendar days depend on today's
date). The seconds are those a task page's clock would have counted: a work session per
task, which ``session_close`` folds into the label as it would after real beats.

What it leaves (``tests/demo/test_seed_demo.py`` asserts it exactly):

* *Street scenes*: review steps *Initial review* (everyone who may review) and
  *Night check* (night rows only, the manager reviews); rework goes to the label's
  creator (2 attempts). Rows done, in review (both steps), one in rework for labeler1,
  one rejected, reworked and approved (labeler2's), skipped rows with reasons, two rows
  held by labeler2, a benchmark row, a hidden row, the rest to label.
* *Receipts*: a consensus batch (2 labels a row), per-label review scores, a review
  score threshold of 70 that takes labeler2 out of the queue; authentic input protection
  on, with a blocked paste and a rapid entry by labeler1 on receipt-006.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from labelhub.accounts.models import User
from labelhub.core.models import AuditLogEntry
from labelhub.labeling.models import (
    Batch,
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
from labelhub.labeling.services import actions, queue, review, work
from labelhub.labeling.services.input_events import input_event_record
from labelhub.labeling.services.workflow import review_step_add, step_update, workflow_of
from labelhub.notifications.models import Notification
from labelhub.projects.models import InstructionsAcknowledgement, Project
from labelhub.projects.services.projects import instructions_acknowledge, project_settings_update

SEED = 2026
#: the demo people of the story (their e-mails' local parts)
PEOPLE = ("admin", "manager", "labeler1", "labeler2")
NIGHT_CHECK = "Night check"
#: working hours of the back-dated days
DAY_START = time(8, 0)
#: how many working days the history covers (the last ones of the past 13 days)
DAYS = 8
#: the session seconds a person spends per mode (uniform, rounded to 0.1 s)
SECONDS = {"label": (35.0, 160.0), "review": (12.0, 70.0), "rework": (25.0, 90.0)}


def street_annotations(n: int, *, occluded_fixed: bool = False) -> list[dict]:
    """A labeler's answer on street image ``n``: its cars (up to 3), the pedestrian and
    the weather, in the submit shape (NDJSON lines without ``dataRow``)."""
    from labelhub.demo.management.commands.seed_demo import street_scene

    scene = street_scene(n)
    lines = []
    for i, (left, top, width, height, _) in enumerate(scene["cars"][:3]):
        occluded = i == 2 or (occluded_fixed and i == 1)
        answer: dict = {"name": "no"}
        if occluded:  # a nested answer under "Yes" (the editor shows it once Yes is chosen)
            answer = {
                "name": "yes",
                "classifications": [{"name": "How much", "answer": {"name": "partly"}}],
            }
        lines.append(
            {
                "uuid": f"car-{i}",
                "name": "Car",
                "bbox": {"top": top, "left": left, "height": height, "width": width},
                "classifications": [{"name": "Occluded", "answer": answer}],
            }
        )
    if len(lines) >= 2:  # the second car follows the first
        lines.append({"name": "Follows", "relationship": {"source": "car-1", "target": "car-0"}})
    x, y = scene["pedestrian"]
    lines.append({"name": "Pedestrian", "point": {"x": x, "y": y - 15}})
    lines.append({"name": "Weather", "answer": [{"name": "fog" if scene["night"] else "sunny"}]})
    return lines


def receipt_annotations(text: str) -> list[dict]:
    """The date and the total of a receipt's text as entities."""
    lines = []
    date = text.find("2026-10-")
    if date >= 0:
        lines.append({"name": "Date", "location": {"start": date, "end": date + 10}})
    total = text.find("TOTAL ")
    if total >= 0:
        start = total + len("TOTAL ")
        end = text.find(" ", start)
        if start < end:
            lines.append({"name": "Total", "location": {"start": start, "end": end}})
    return lines


@dataclass
class Timeline:
    """Marks where each day of the story starts (real time), to date it back later."""

    rng: random.Random
    start: datetime = field(default_factory=timezone.now)
    marks: list[datetime] = field(default_factory=list)
    live: datetime | None = None

    def next_day(self) -> None:
        self.marks.append(timezone.now())

    def now_live(self) -> None:
        """From here on the rows keep their real time (what people hold right now)."""
        self.live = timezone.now()

    def working_days(self) -> list:
        """The last ``DAYS`` working days (Mon–Fri) among the 13 days before today,
        spread so the first is the earliest of them."""
        today = timezone.localdate()
        weekdays = [
            today - timedelta(days=k)
            for k in range(13, 0, -1)
            if (today - timedelta(days=k)).weekday() < 5
        ]
        last = len(weekdays) - 1
        return [weekdays[round(i * last / (DAYS - 1))] for i in range(DAYS)]

    def date_back(self, workspace_id: Any, project_ids: list[Any]) -> None:
        """Move every row the story wrote before ``live`` onto its working day."""
        assert len(self.marks) == DAYS and self.live is not None
        tz = timezone.get_current_timezone()
        days = self.working_days()
        events = list(
            LabelingEvent.objects.filter(
                project_id__in=project_ids, created_at__gte=self.start, created_at__lt=self.live
            ).order_by("created_at", "id")
        )
        anchors: list[tuple[datetime, datetime]] = []
        clock = None
        day = -1
        previous = None
        for event in events:
            index = bisect.bisect_right(self.marks, event.created_at) - 1
            if index != day:
                day = index
                clock = datetime.combine(days[day], DAY_START, tzinfo=tz) + timedelta(
                    minutes=self.rng.randint(0, 75)
                )
                anchors.append((self.marks[day], clock))
                previous = None
            clock += timedelta(seconds=self._gap(event, previous))
            anchors.append((event.created_at, clock))
            event.created_at = clock
            previous = event
        LabelingEvent.objects.bulk_update(events, ["created_at"], batch_size=500)
        reals = [real for real, _ in anchors]

        def fake(real: datetime | None) -> datetime | None:
            if real is None or real < self.start or real >= self.live:
                return real
            i = bisect.bisect_right(reals, real) - 1
            return anchors[i][1] if i >= 0 else real

        self._move(
            Label.objects.filter(project_id__in=project_ids), fake, "submitted_at", "updated_at"
        )
        self._move(Review.objects.filter(project_id__in=project_ids), fake, "created_at")
        self._move(
            LabelVersion.objects.filter(label__project_id__in=project_ids), fake, "created_at"
        )
        self._move(InputEvent.objects.filter(project_id__in=project_ids), fake, "created_at")
        self._move(Skip.objects.filter(task__project_id__in=project_ids), fake, "created_at")
        self._move(Task.objects.filter(project_id__in=project_ids), fake, "updated_at")
        self._move(Contributor.objects.filter(project_id__in=project_ids), fake, "removed_at")
        self._move(
            InstructionsAcknowledgement.objects.filter(project_id__in=project_ids),
            fake,
            "created_at",
        )
        for model in (Notification, AuditLogEntry):
            rows = model.objects.filter(workspace_id=workspace_id, created_at__gte=self.start)
            self._move(rows, fake, "created_at")

    def _gap(self, event: LabelingEvent, previous: LabelingEvent | None) -> float:
        """Seconds between the previous row of the day and this one."""
        kind = event.kind
        if kind == LabelingEvent.Kind.RESERVED:
            same_claim = (
                previous is not None
                and previous.kind == kind
                and previous.actor_id == event.actor_id
                and previous.mode == event.mode
            )
            if same_claim:
                return 0.01
            pause = self.rng.uniform(600, 2700) if self.rng.random() < 0.15 else 0
            return pause + self.rng.uniform(5, 120)
        if kind in (LabelingEvent.Kind.DONE, LabelingEvent.Kind.MOVED):
            return self.rng.uniform(0.05, 0.5)
        if event.seconds:
            return event.seconds + self.rng.uniform(1, 6)
        return self.rng.uniform(15, 60)

    def _move(self, queryset, fake, *fields: str) -> None:
        changed = []
        for row in queryset.only("pk", *fields):
            moved = False
            for name in fields:
                value = getattr(row, name)
                new = fake(value)
                if new != value:
                    setattr(row, name, new)
                    moved = True
            if moved:
                changed.append(row)
        if changed:
            type(changed[0]).objects.bulk_update(changed, list(fields), batch_size=500)


class Story:
    """Drives the services for the demo people, one call per thing a person does."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def _seconds(self, task: Task, user: User, mode: str) -> None:
        """The time the task page's clock counted (what ``session_close`` folds in)."""
        low, high = SECONDS[mode]
        WorkSession.objects.update_or_create(
            task=task,
            user=user,
            mode=mode,
            defaults={"seconds": round(self.rng.uniform(low, high), 1), "counting_since": None},
        )

    @staticmethod
    def task(project: Project, key: str) -> Task:
        return Task.objects.select_related("project", "step").get(
            project=project, data_row__global_key=key
        )

    def held(self, project: Project, user: User, key: str, mode: str) -> Task:
        """The person's reservation of the row, asking the queue for work when they do not
        hold it yet (the demo story only works on rows the queue serves them)."""
        task = self.task(project, key)
        if not Reservation.objects.filter(task=task, user=user, mode=mode).exists():
            queue.queue_next(project=project, actor=user, mode=mode)
        if not Reservation.objects.filter(task=task, user=user, mode=mode).exists():
            raise RuntimeError(f"The queue did not serve {key} to {user.email} ({mode}).")
        return task

    def label(self, project: Project, user: User, key: str, annotations: list) -> Label:
        task = self.held(project, user, key, "label")
        self._seconds(task, user, "label")
        return work.label_submit(task=task, actor=user, annotations=annotations)

    def rework(self, project: Project, user: User, key: str, annotations: list) -> Label:
        task = self.held(project, user, key, "rework")
        self._seconds(task, user, "rework")
        return work.label_submit(task=task, actor=user, annotations=annotations)

    def typed_in(self, project: Project, user: User, key: str) -> list[InputEvent]:
        """What authentic input protection saw of the person's free-text answer on the
        row: a paste blocked, then a rapid entry (none without a free-text feature)."""
        task = self.held(project, user, key, "label")
        features = list(text_features(project))
        if not features:
            return []
        return [
            input_event_record(
                task=task, actor=user, kind="paste", feature=features[0], detail={"characters": 48}
            ),
            input_event_record(
                task=task,
                actor=user,
                kind="rapid_entry",
                feature=features[0],
                detail={"characters": 120, "milliseconds": 300},
            ),
        ]

    def skip(self, project: Project, user: User, key: str, reason: str) -> Skip:
        task = self.held(project, user, key, "label")
        self._seconds(task, user, "label")
        return work.task_skip(task=task, actor=user, reason=reason)

    def review(self, project: Project, user: User, key: str, decision: str, **given: Any):
        task = self.held(project, user, key, "review")
        self._seconds(task, user, "review")
        return review.review_decide(task=task, actor=user, decision=decision, **given)

    @staticmethod
    def let_go(project: Project, user: User, keep: tuple[str, ...] = ()) -> None:
        """The person gives back what they hold (end of their day), but ``keep``."""
        for reservation in Reservation.objects.filter(project=project, user=user).select_related(
            "task__data_row", "task__project"
        ):
            if reservation.task.data_row.global_key not in keep:
                queue.reservation_release(task=reservation.task, actor=user)


def loop_untouched(streets: Project, receipts: Project) -> bool:
    """Whether the demo projects are as the seeding leaves them before the story: no
    events, no human labels, every street row to label, Receipts' second week a consensus
    batch (older demo data had statuses set by hand; the story is not written over it)."""
    ids = [streets.pk, receipts.pk]
    return (
        not LabelingEvent.objects.filter(project_id__in=ids).exists()
        and not Label.objects.filter(project_id__in=ids, origin=Label.Origin.HUMAN).exists()
        and not WorkflowStep.objects.filter(project_id__in=ids, name=NIGHT_CHECK).exists()
        and not Task.objects.filter(project=streets).exclude(status=Task.Status.TO_LABEL).exists()
        and Batch.objects.filter(project=receipts, name="Week 2", consensus_coverage=100).exists()
    )


def seed_labeling_loop() -> str:
    """Write the demo's two weeks of labeling (once, on untouched demo projects): what
    happened, ``written``, ``present`` (a run before wrote it) or ``skipped`` (no demo
    projects, or older demo data whose statuses were set by hand)."""
    projects = {
        p.name: p
        for p in Project.objects.filter(
            workspace__tenant__name="Demo Labs",
            workspace__name="Vision",
            name__in=["Street scenes", "Receipts"],
            ontology__isnull=False,
        )
    }
    people = {
        u.email.split("@")[0]: u
        for u in User.objects.filter(email__endswith="@demo.labelhub.local")
    }
    streets, receipts = projects.get("Street scenes"), projects.get("Receipts")
    if streets is None or receipts is None or not set(PEOPLE) <= set(people):
        return "skipped"
    if WorkflowStep.objects.filter(project=streets, name=NIGHT_CHECK).exists():
        return "present"
    if not loop_untouched(streets, receipts):
        return "skipped"
    rng = random.Random(SEED)  # noqa: S311 -- a fixed demo story, not a secret
    with transaction.atomic():
        timeline = Timeline(rng)
        _write(streets, receipts, people, Story(rng), timeline)
        timeline.date_back(streets.workspace_id, [streets.pk, receipts.pk])
    return "written"


def _write(streets: Project, receipts: Project, people: dict, s: Story, t: Timeline) -> None:
    admin, manager = people["admin"], people["manager"]
    l1, l2 = people["labeler1"], people["labeler2"]
    texts = dict(
        Task.objects.filter(project=receipts).values_list(
            "data_row__global_key", "data_row__row_data"
        )
    )

    def cam(n: int) -> str:
        return f"street-cam-{n:03d}"

    def label(user: User, n: int) -> Label:
        return s.label(streets, user, cam(n), street_annotations(n))

    def receipt(user: User, n: int) -> Label:
        key = f"receipt-{n:03d}"
        return s.label(receipts, user, key, receipt_annotations(texts[key]))

    # Day 1: the admin sets the workflows up; the labelers read the instructions and start.
    t.next_day()
    wf = workflow_of(streets)
    night = review_step_add(project=streets, actor=admin, name=NIGHT_CHECK)
    step_update(
        step=night,
        actor=admin,
        filters=[{"field": "metadata", "name": "tag", "values": ["night"]}],
        reviewer_users=[str(manager.pk)],
    )
    step_update(step=wf.rework, actor=admin, assignment="creator", max_rework_attempts=2)
    streets = project_settings_update(
        project=streets, actor=admin, benchmark_enabled=True, reservation_lease_seconds=24 * 3600
    )
    receipts = project_settings_update(
        project=receipts,
        actor=admin,
        consensus_enabled=True,
        review_score_threshold=70,
        authentic_input_protection=True,
    )
    # In the story each person takes one task at a time, so who gets which row is plain
    # (the queue still picks it); the projects keep their setting (4).
    live_streets = Project.objects.get(pk=streets.pk)
    streets.reservation_count = receipts.reservation_count = 1
    for person in (l1, l2, manager):
        instructions_acknowledge(project=streets, actor=person)
    label(l1, 1)
    label(l1, 2)
    label(l2, 3)

    # Day 2
    t.next_day()
    label(l1, 4)
    label(l1, 5)
    label(l2, 6)  # a night scene
    s.review(streets, manager, cam(1), "approve", score=95)
    s.review(streets, manager, cam(2), "approve", score=88)

    # Day 3
    t.next_day()
    label(l2, 7)
    s.skip(streets, l2, cam(8), "Glare on the lens hides the cars on the left.")
    s.review(streets, l2, cam(4), "approve", score=90)
    s.review(streets, l1, cam(3), "approve", score=84)
    s.review(streets, l1, cam(6), "approve", score=80)  # night: on to Night check
    receipt(l1, 5)

    # Day 4: the manager rejects a label; the night row passes its second review.
    t.next_day()
    s.review(streets, manager, cam(5), "approve", score=87)
    s.review(
        streets, manager, cam(7), "reject", score=45, reason="The car behind the sign is not boxed."
    )
    s.review(streets, manager, cam(6), "approve", score=92)
    label(l1, 8)
    label(l1, 9)
    # labeler1's page blocks a paste into the receipt's notes and sees a note typed too
    # fast: the row's page lists both
    s.typed_in(receipts, l1, "receipt-006")
    receipt(l1, 6)
    receipt(l2, 7)

    # Day 5: labeler2 reworks the rejected label; consensus rows get their first labels.
    t.next_day()
    s.rework(streets, l2, cam(7), street_annotations(7, occluded_fixed=True))
    label(l2, 10)
    label(l2, 11)
    receipt(l1, 8)
    receipt(l1, 9)
    receipt(l2, 9)  # the second label of a consensus row: on to review

    # Day 6: the rework is approved; a label goes back to labeler1; scores per label.
    t.next_day()
    s.review(streets, l1, cam(7), "approve", score=86)
    s.review(streets, l2, cam(8), "approve", score=91)
    s.review(
        streets,
        l2,
        cam(9),
        "reject",
        score=60,
        reason="The occluded car is marked as not occluded.",
    )
    s.review(receipts, manager, "receipt-005", "approve", score=96)
    s.review(receipts, manager, "receipt-006", "approve", score=91)
    s.review(receipts, manager, "receipt-007", "approve", score=78)
    s.review(receipts, manager, "receipt-008", "approve", score=88)
    nine = {
        label.author_id: str(label.pk)
        for label in Label.objects.filter(project=receipts, data_row__global_key="receipt-009")
    }
    # labeler2's 50 puts their average (64) under the project's threshold of 70: they
    # are taken out of the Receipts queue.
    s.review(receipts, manager, "receipt-009", "approve", scores={nine[l1.pk]: 94, nine[l2.pk]: 50})

    # Day 7
    t.next_day()
    s.review(streets, l1, cam(10), "approve", score=83)
    s.review(streets, manager, cam(11), "approve", score=89)
    label(l1, 12)  # a night scene
    label(l1, 13)
    s.skip(streets, l1, cam(14), "Too dark to tell the parked cars apart.")
    receipt(l1, 10)

    # Day 8 (the last working day): the night row waits for the manager's Night check;
    # the admin hides a duplicate frame.
    t.next_day()
    label(l2, 14)
    label(l2, 15)
    s.review(streets, l2, cam(12), "approve", score=85)
    actions.tasks_hide(
        project=streets,
        actor=admin,
        data_row_ids=[str(s.task(streets, cam(24)).data_row_id)],
        hidden=True,
    )

    # Now: labeler2 has started on two rows (with the project's setting of 4, the queue
    # gives four; two go back); the admin makes the first row a benchmark.
    t.now_live()
    queue.queue_next(project=live_streets, actor=l2)
    s.let_go(live_streets, l2, keep=(cam(16), cam(17)))
    actions.tasks_mark_benchmark(
        project=live_streets,
        actor=admin,
        data_row_ids=[str(s.task(streets, cam(1)).data_row_id)],
    )
