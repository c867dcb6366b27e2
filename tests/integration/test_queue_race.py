"""The queue under a crowd: 200 labelers claiming at once on PostgreSQL (issue 11).

Each labeler is a thread with its own database connection (no pool: one real backend
each), looping ``queue_next`` → ``label_submit`` on the first task held until the queue
has nothing left for them. The project holds plain rows (one label each) and consensus
rows (three labels each). A sampler thread checks the tables every few milliseconds
while the crowd works; the claims every thread saw are checked afterwards.

Asserted:

* a plain row is never reserved by two people at once (sampler, one statement per
  sample so the snapshot is consistent), and no task ever holds more reservations than
  the labels it still needs, nor a ``reserved`` counter that differs from its rows;
* no row is served twice to one person (every claim recorded, and the unique
  ``(task, user)`` reservation constraint never trips: it would surface as an error);
* every task is claimed and labeled exactly as often as its label count, by distinct
  people, and ends in its next step (the default workflow's review step), with no
  reservation left.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
import traceback

import pytest
from django.db import close_old_connections, connection, connections

from labelhub.accounts.models import User
from labelhub.labeling.models import Label, LabelingEvent, Reservation, Task
from labelhub.labeling.services import queue, work
from labelhub.labeling.services.workflow import workflow_of
from labelhub.projects.models import Project
from tests.labeling.helpers import make_loop_project, people, weather

LABELERS = 200
ROWS = 400
CONSENSUS_COVERAGE = 25  # % of rows needing CONSENSUS_LABELS labels
CONSENSUS_LABELS = 3
DEADLINE_SECONDS = 120  # a stuck crowd fails instead of hanging CI

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the race needs PostgreSQL (DATABASE_URL)"
    ),
]

# One statement, so PostgreSQL reads one consistent snapshot of both tables.
BROKEN_INVARIANTS = """
SELECT t.id, t.labels_needed, t.labels_done, t.reserved, COALESCE(r.n, 0)
FROM labeling_task t
LEFT JOIN (
    SELECT task_id, COUNT(*) AS n FROM labeling_reservation GROUP BY task_id
) r ON r.task_id = t.id
WHERE t.project_id = %s AND (
    COALESCE(r.n, 0) <> t.reserved
    OR t.reserved + t.labels_done > t.labels_needed
    OR (t.labels_needed = 1 AND COALESCE(r.n, 0) > 1)
)
"""


class Crowd:
    """What the threads saw: claims and submissions per person, errors, violations."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.claims: dict[int, list[int]] = collections.defaultdict(list)  # user -> tasks
        self.submits: dict[int, list[int]] = collections.defaultdict(list)
        self.errors: list[str] = []
        self.violations: list[tuple] = []
        self.samples = 0
        self.done = threading.Event()


def labeler(crowd: Crowd, project_id, user_id, start: threading.Barrier) -> None:
    try:
        project = Project.objects.get(pk=project_id)
        user = User.objects.get(pk=user_id)
        holding: set[int] = set()
        start.wait()
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            held = queue.queue_next(project=project, actor=user)
            if not held:
                break
            ids = [r.task_id for r in held]
            with crowd.lock:
                crowd.claims[user.pk].extend(t for t in ids if t not in holding)
            holding.update(ids)
            task = Task.objects.select_related("project", "step").get(pk=ids[0])
            work.label_submit(task=task, actor=user, annotations=weather())
            holding.discard(task.pk)
            with crowd.lock:
                crowd.submits[user.pk].append(task.pk)
        else:
            raise TimeoutError(f"labeler {user.email} still busy after {DEADLINE_SECONDS} s")
        if holding:
            raise AssertionError(f"{user.email} left holding {holding}")
    except BaseException:  # noqa: BLE001 - reported by the test, never lost in a thread
        with crowd.lock:
            crowd.errors.append(traceback.format_exc())
    finally:
        connection.close()


def sampler(crowd: Crowd, project_id) -> None:
    try:
        while not crowd.done.is_set():
            with connection.cursor() as cursor:
                cursor.execute(BROKEN_INVARIANTS, [project_id])
                rows = cursor.fetchall()
            crowd.samples += 1
            if rows:
                with crowd.lock:
                    crowd.violations.extend(rows)
            time.sleep(0.005)
    except BaseException:  # noqa: BLE001
        with crowd.lock:
            crowd.errors.append("sampler: " + traceback.format_exc())
    finally:
        connection.close()


@pytest.fixture
def one_connection_per_thread():
    """No connection pool: each thread holds a backend of its own (the pool's cap of 10
    per process would make 200 threads queue for connections, not race for rows)."""
    options = connections.settings["default"].setdefault("OPTIONS", {})
    connection.close()  # a pooled connection goes back to the pool it came from
    pool = options.pop("pool", None)
    yield
    connection.close()  # and an unpooled one is closed before the pool comes back
    if pool is not None:
        options["pool"] = pool


def test_two_hundred_labelers_claim_and_submit_at_once(workspace, admin, one_connection_per_thread):
    started = time.monotonic()
    # the labelers exist before the batch: consensus rows need enough people
    labelers, _ = people(workspace, n_labelers=LABELERS, n_reviewers=0)
    project, rows = make_loop_project(
        workspace,
        admin,
        rows=ROWS,
        name="Race",
        consensus_coverage=CONSENSUS_COVERAGE,
        consensus_labels=CONSENSUS_LABELS,
    )
    needed = dict(Task.objects.filter(project=project).values_list("pk", "labels_needed"))
    consensus = {pk for pk, n in needed.items() if n == CONSENSUS_LABELS}
    assert len(needed) == ROWS
    assert len(consensus) == ROWS * CONSENSUS_COVERAGE // 100
    assert set(needed.values()) == {1, CONSENSUS_LABELS}
    review_step = workflow_of(project).reviews[0]
    connection.close()  # the threads open their own; this one is not needed meanwhile

    crowd = Crowd()
    start = threading.Barrier(LABELERS)
    threads = [
        threading.Thread(target=labeler, args=(crowd, project.pk, user.pk, start), daemon=True)
        for user in labelers
    ]
    watcher = threading.Thread(target=sampler, args=(crowd, project.pk), daemon=True)
    watcher.start()
    crowd_started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_SECONDS + 30)
    crowd_seconds = time.monotonic() - crowd_started
    crowd.done.set()
    watcher.join(30)
    close_old_connections()

    assert not any(t.is_alive() for t in threads), "labelers still running"
    assert not crowd.errors, f"{len(crowd.errors)} thread errors, first:\n{crowd.errors[0]}"
    assert crowd.samples > 0
    assert not crowd.violations, f"invariants broken while claiming: {crowd.violations[:10]}"

    # never twice to one person
    for user_id, claimed in crowd.claims.items():
        assert len(claimed) == len(set(claimed)), f"user {user_id} served a row twice"
        assert sorted(claimed) == sorted(crowd.submits[user_id])
    # every task claimed and labeled exactly as often as its label count, by distinct people
    claimed_by = collections.defaultdict(set)
    claim_count = collections.Counter()
    for user_id, claimed in crowd.claims.items():
        for task_id in claimed:
            claimed_by[task_id].add(user_id)
            claim_count[task_id] += 1
    assert claim_count == collections.Counter(needed)
    assert {t: len(users) for t, users in claimed_by.items()} == needed
    submitted = collections.Counter(t for ids in crowd.submits.values() for t in ids)
    assert submitted == collections.Counter(needed)

    # the database agrees: labels, events, counters, steps
    assert not Reservation.objects.filter(project=project).exists()
    tasks = list(Task.objects.filter(project=project))
    assert {(t.step_id, t.status, t.reserved) for t in tasks} == {
        (review_step.pk, Task.Status.IN_REVIEW, 0)
    }
    assert all(t.labels_done == t.labels_needed for t in tasks)
    label_rows = Label.objects.filter(project=project).values_list("data_row_id", "author_id")
    by_row = collections.defaultdict(list)
    for row_id, author in label_rows:
        by_row[row_id].append(author)
    row_needed = {t.data_row_id: t.labels_needed for t in tasks}
    assert {row: len(authors) for row, authors in by_row.items()} == row_needed
    assert all(len(set(authors)) == len(authors) for authors in by_row.values())
    events = collections.Counter(
        LabelingEvent.objects.filter(project_id=project.pk).values_list("kind", "task_id")
    )
    for task_id, n in needed.items():
        assert events[(LabelingEvent.Kind.RESERVED, task_id)] == n
        assert events[(LabelingEvent.Kind.SUBMITTED, task_id)] == n
    assert not LabelingEvent.objects.filter(
        project_id=project.pk,
        kind__in=[LabelingEvent.Kind.RELEASED, LabelingEvent.Kind.LEASE_EXPIRED],
    ).exists()

    total = sum(needed.values())
    sys.stdout.write(  # shown with -s
        f"\n{LABELERS} labelers: {total} labels on {ROWS} rows ({len(consensus)} consensus) in "
        f"{crowd_seconds:.1f} s ({total / crowd_seconds:.0f} claim+submit/s), "
        f"{crowd.samples} invariant samples; whole test {time.monotonic() - started:.1f} s\n"
    )
