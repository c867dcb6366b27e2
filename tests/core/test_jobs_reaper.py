"""The job reaper: stale jobs are enqueued again once, fresh ones are left alone, jobs that
stopped too often fail; at a worker's start the embedded setup restarts every unfinished
job; the periodic task prunes the filesystem broker's processed messages."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from labelhub.celery import app, reap_jobs_at_start
from labelhub.core import tasks as core_tasks
from labelhub.core.jobs import JobEngine, JobState, jobs_reap, jobs_reap_at_start
from labelhub.projects.models import DataRowJob, Dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    """The (engine, job id) of every job the reaper enqueues, instead of a Celery message."""
    calls: list[tuple[str, str]] = []

    def record(self: JobEngine, job) -> None:
        calls.append((self.name, str(job.pk)))

    monkeypatch.setattr(JobEngine, "enqueue_on_commit", record)
    return calls


@pytest.fixture
def dataset(workspace):
    return Dataset.objects.create(workspace=workspace, name="Reaped")


def make_job(dataset, *, state, seen_ago: float, runs: int = 1, heartbeat: bool = True):
    """A data row job in ``state`` whose last sign of life is ``seen_ago`` seconds old."""
    job = DataRowJob.objects.create(
        workspace=dataset.workspace, dataset=dataset, state=state, total=10, runs=runs
    )
    seen = timezone.now() - timedelta(seconds=seen_ago)
    DataRowJob.objects.filter(pk=job.pk).update(
        heartbeat_at=seen if heartbeat else None, created_at=seen
    )
    return job


def test_a_stale_running_job_is_enqueued_again_exactly_once(dataset, enqueued, settings):
    settings.JOBS_STALE_SECONDS = 300
    stale = make_job(dataset, state=JobState.RUNNING, seen_ago=301)

    assert jobs_reap() == {"restarted": 1, "failed": 0}
    # The restart is claimed (heartbeat stamped): a second reaper, now or soon, skips it.
    assert jobs_reap() == {"restarted": 0, "failed": 0}

    assert enqueued == [("projects.run_data_row_job", str(stale.pk))]
    stale.refresh_from_db()
    assert stale.state == JobState.RUNNING
    assert timezone.now() - stale.heartbeat_at < timedelta(seconds=5)


def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(dataset, enqueued, settings):
    settings.JOBS_STALE_SECONDS = 300
    fresh = make_job(dataset, state=JobState.RUNNING, seen_ago=299)
    done = make_job(dataset, state=JobState.FINISHED, seen_ago=10_000)

    assert jobs_reap() == {"restarted": 0, "failed": 0}

    assert enqueued == []
    fresh.refresh_from_db()
    done.refresh_from_db()
    assert (fresh.state, done.state) == (JobState.RUNNING, JobState.FINISHED)


def test_a_job_that_stopped_jobs_max_runs_times_fails_with_its_reason(dataset, enqueued, settings):
    settings.JOBS_MAX_RUNS = 3
    worn = make_job(dataset, state=JobState.RUNNING, seen_ago=10_000, runs=3)
    young = make_job(dataset, state=JobState.RUNNING, seen_ago=10_000, runs=2)

    assert jobs_reap() == {"restarted": 1, "failed": 1}

    assert enqueued == [("projects.run_data_row_job", str(young.pk))]
    worn.refresh_from_db()
    assert worn.state == JobState.FAILED
    assert worn.message == "the job stopped 3 times without finishing"
    assert worn.finished_at is not None


def test_a_queued_job_older_than_the_queued_threshold_is_enqueued_again(
    dataset, enqueued, settings
):
    settings.JOBS_QUEUED_STALE_SECONDS = 1800
    lost = make_job(dataset, state=JobState.QUEUED, seen_ago=1801, runs=0, heartbeat=False)
    waiting = make_job(dataset, state=JobState.QUEUED, seen_ago=1799, runs=0, heartbeat=False)

    assert jobs_reap() == {"restarted": 1, "failed": 0}

    assert enqueued == [("projects.run_data_row_job", str(lost.pk))]
    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert lost.state == waiting.state == JobState.QUEUED


def test_at_an_embedded_start_every_unfinished_job_is_restarted(dataset, enqueued, settings):
    settings.JOBS_REAP_AT_START_SECONDS = 0  # the only worker is the one starting
    running = make_job(dataset, state=JobState.RUNNING, seen_ago=1)
    queued = make_job(dataset, state=JobState.QUEUED, seen_ago=1, runs=0, heartbeat=False)
    make_job(dataset, state=JobState.FINISHED, seen_ago=1)

    assert jobs_reap_at_start() == {"restarted": 2, "failed": 0}

    assert sorted(enqueued) == sorted(
        [
            ("projects.run_data_row_job", str(running.pk)),
            ("projects.run_data_row_job", str(queued.pk)),
        ]
    )


def test_at_a_production_start_the_usual_thresholds_apply(dataset, enqueued, settings):
    settings.JOBS_REAP_AT_START_SECONDS = None  # other workers may be running these
    settings.JOBS_STALE_SECONDS = 300
    make_job(dataset, state=JobState.RUNNING, seen_ago=1)
    stale = make_job(dataset, state=JobState.RUNNING, seen_ago=301)

    assert jobs_reap_at_start() == {"restarted": 1, "failed": 0}
    assert enqueued == [("projects.run_data_row_job", str(stale.pk))]


def test_the_worker_ready_signal_reaps_before_the_first_task(
    dataset, enqueued, settings, monkeypatch
):
    settings.JOBS_REAP_AT_START_SECONDS = 0
    # The handler closes the worker's connections; the test's transaction must stay open.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    running = make_job(dataset, state=JobState.RUNNING, seen_ago=1)

    reap_jobs_at_start(sender=None)

    assert enqueued == [("projects.run_data_row_job", str(running.pk))]


def test_reap_jobs_is_scheduled_every_minute():
    assert app.conf.beat_schedule["reap-jobs"] == {"task": "core.reap_jobs", "schedule": 60.0}


def test_the_periodic_task_reaps_and_prunes_old_broker_messages(
    dataset, enqueued, settings, tmp_path
):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.BROKER_FOLDER = str(tmp_path)
    processed = tmp_path / "processed"
    processed.mkdir()
    old, new = processed / "1_old.celery.msg", processed / "2_new.celery.msg"
    old.write_text("{}")
    new.write_text("{}")
    day_ago = time.time() - core_tasks.PROCESSED_MESSAGES_KEPT - 60
    os.utime(old, (day_ago, day_ago))
    make_job(dataset, state=JobState.RUNNING, seen_ago=10_000)

    counts = core_tasks.reap_jobs_task.run()

    assert counts == {"restarted": 1, "failed": 0, "pruned": 1}
    assert sorted(p.name for p in processed.iterdir()) == ["2_new.celery.msg"]


def test_without_the_filesystem_broker_nothing_is_pruned(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    assert core_tasks.broker_messages_prune() == 0
