"""One chunked job engine for every background job (uploads, imports, purges, and later
exports, model runs and rollup rebuilds).

A job is a row of a ``ChunkedJob`` subclass; its work comes in numbered chunks (usually
``PayloadChunk`` rows holding the uploaded lines, stored while the request streams the
body). A ``JobEngine`` subclass says what one chunk does; the engine does the rest the
same way for every kind of job:

* **States** ``queued → running → finished | finished_with_errors | failed``.
* **One transaction per chunk**: the job row is locked, the chunk is written with the
  job's counters, ``processed`` and ``next_chunk`` move on, and the progress event goes
  out after commit. A run (or a redelivered task, or a second worker) starts at
  ``next_chunk`` and skips a chunk another run committed, so no chunk is handled twice.
* **Idempotent task shell** (``job_task``): lost database connections retry with
  backoff; anything else marks the job failed with a message users can read.
* **Heartbeat and reaper**: every chunk stamps ``heartbeat_at``; ``jobs_reap`` (the
  periodic task ``core.reap_jobs``, and ``jobs_reap_at_start`` when a worker starts)
  re-enqueues queued or running jobs whose heartbeat went stale because their worker
  died, and fails a job that stopped ``JOBS_MAX_RUNS`` times.
* **End of a job**: the engine's ``ended`` hook (audit), the final progress event, and
  the end listeners (the notifications app registers one: "Import X finished …").

Other apps subclass ``ChunkedJob``, ``PayloadChunk`` and ``JobEngine``; core imports no
app, so what only a higher app knows (notifications) arrives through
``register_end_listener``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections, models, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from labelhub.core.ids import parse_id
from labelhub.core.live import send_event_on_commit
from labelhub.core.models import OpaqueIdModel

logger = logging.getLogger(__name__)


class JobState(models.TextChoices):
    """Where a job is in its life."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FINISHED_WITH_ERRORS = "finished_with_errors", "Finished with errors"
    FAILED = "failed", "Failed"


JOB_DONE = frozenset({JobState.FINISHED, JobState.FINISHED_WITH_ERRORS, JobState.FAILED})
#: database errors worth a retry: the connection went away, or SQLite was busy too long
RETRYABLE = (OperationalError, InterfaceError)


class ChunkedJob(OpaqueIdModel):
    """The columns every job has; subclasses add their workspace, owner and counters."""

    State = JobState

    state = models.CharField(max_length=24, choices=JobState.choices, default=JobState.QUEUED)
    #: units of work (lines, rows) in the job, and how many are handled
    total = models.IntegerField(default=0)
    processed = models.IntegerField(default=0)
    #: the chunk to handle next (a re-run continues from here)
    next_chunk = models.IntegerField(default=0)
    #: why a failed job failed
    message = models.TextField(blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)
    #: the last sign of life of a run; the reaper restarts jobs whose heartbeat is stale
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    #: how many times a run started (retries and restarts by the reaper included)
    runs = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True


class PayloadChunk(models.Model):
    """A slice of a job's uploaded lines, stored as received (subclasses add ``job``).

    ``text`` keeps blank lines so that line ``first_line + i`` is ``text.split("\\n")[i]``.
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.IntegerField()
    #: physical line number (1-based) of the chunk's first line
    first_line = models.IntegerField()
    #: non-blank lines in the chunk
    count = models.IntegerField()
    text = models.TextField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.job_id} #{self.seq}"

    def numbered_lines(self) -> list[tuple[int, str]]:
        """(physical line number, text) of the chunk's non-blank lines."""
        return [(self.first_line + i, t) for i, t in enumerate(self.text.split("\n")) if t]


@dataclass
class ChunkResult:
    """What checking a chunk produced; engines subclass it to carry their results."""

    seq: int
    #: units of work the chunk held (added to the job's ``processed``)
    units: int


class JobFailed(Exception):
    """Raised by an engine's hooks to end the job as failed with a readable message."""


@dataclass(frozen=True)
class JobEnd:
    """What end listeners learn about a job that ended (finished or failed)."""

    #: the engine's name and the job row as it ended
    engine: str
    job: ChunkedJob
    #: notification kind ("import.finished") and the object it is about ("import_job:<id>")
    kind: str
    subject: str
    user_id: Any
    workspace_id: Any
    title: str
    body: str
    url: str


_ENGINES: dict[str, JobEngine] = {}
_END_LISTENERS: list[Callable[[JobEnd], None]] = []


def register_end_listener(listener: Callable[[JobEnd], None]) -> None:
    """Call ``listener`` (inside the ending transaction) whenever a job ends."""
    if listener not in _END_LISTENERS:
        _END_LISTENERS.append(listener)


def engines() -> dict[str, JobEngine]:
    """Every registered engine by task name."""
    return dict(_ENGINES)


def engine_for(name: str) -> JobEngine:
    """The engine registered under a task name."""
    return _ENGINES[name]


class JobEngine:
    """How one kind of chunked job runs. Subclass, set the class attributes, fill the
    hooks, and decorate with ``@register``."""

    #: the Celery task name ("imports.run_import_job"); also the engine's registry key
    name: ClassVar[str]
    model: ClassVar[type[ChunkedJob]]
    #: the payload chunk model (with a ``job`` foreign key), or None for generated chunks
    chunk_model: ClassVar[type[PayloadChunk] | None] = None
    #: the job's own counter columns, saved with each chunk
    counter_fields: ClassVar[tuple[str, ...]] = ()
    #: columns the hooks read from the locked job row (besides the engine's own)
    locked_fields: ClassVar[tuple[str, ...]] = ()
    #: on PostgreSQL outside a transaction, commit chunk k in a writer thread while
    #: chunk k+1 is checked (the checking must tolerate one uncommitted chunk before it)
    pipelined: ClassVar[bool] = False
    #: the Celery task running this engine's jobs (set by ``register``)
    task: ClassVar[Any]

    # --- hooks --------------------------------------------------------------------------
    def load(self, *, workspace_id: Any, job_id: Any) -> ChunkedJob | None:
        """Fetch the job (with what the hooks need) inside its workspace."""
        return (
            self.model.objects.filter(pk=parse_id(job_id), workspace_id=parse_id(workspace_id))
            .select_related(*self.related())
            .first()
        )

    def related(self) -> tuple[str, ...]:
        """``select_related`` paths the hooks use."""
        return ()

    def begin(self, job: ChunkedJob) -> Any:
        """Prepare a run; return a context handed to ``check`` (raise JobFailed to stop)."""
        return None

    def running(self, job: ChunkedJob) -> Any:
        """A context manager around the chunk loop (e.g. pausing the cycle collector)."""
        return _nothing()

    def chunks(self, job: ChunkedJob, start: int) -> Iterator[Any]:
        """The chunks from ``start`` on, one query each (one chunk in memory)."""
        if self.chunk_model is None:
            raise NotImplementedError("engines without payload chunks generate their own")
        seq = start
        while (
            chunk := self.chunk_model.objects.filter(job_id=job.pk, seq=seq).first()
        ) is not None:
            yield chunk
            seq += 1

    def check(self, job: ChunkedJob, ctx: Any, chunk: Any) -> ChunkResult:
        """Work out a chunk outside any transaction (validation, parsing)."""
        return ChunkResult(seq=chunk.seq, units=chunk.count)

    def commit(self, job: ChunkedJob, locked: ChunkedJob, result: ChunkResult, ctx: Any) -> None:
        """Write a checked chunk and add to ``locked``'s counters (inside its transaction)."""

    def outcome(self, locked: ChunkedJob) -> str:
        """The state a job ends in once every chunk is handled."""
        return JobState.FINISHED

    def summary(self, locked: ChunkedJob) -> str:
        """One sentence on how the job ended (notification title, event message)."""
        return f"Job {locked.pk} {locked.get_state_display().lower()}."

    def progress_event(self, job: ChunkedJob, locked: ChunkedJob, message: str = "") -> dict:
        """The live event sent after each chunk and at the end (``{}`` sends none)."""
        return {}

    def recipients(self, job: ChunkedJob) -> list[str]:
        """Live groups that follow the job."""
        return []

    def ended(self, job: ChunkedJob, locked: ChunkedJob, message: str) -> None:
        """Record the end (audit) inside the ending transaction."""

    def notice(self, job: ChunkedJob, locked: ChunkedJob, message: str) -> JobEnd | None:
        """What end listeners (the notification center) are told, or None."""
        return None

    # --- engine -------------------------------------------------------------------------
    def _fields(self) -> list[str]:
        own = ["id", "state", "total", "processed", "next_chunk", "heartbeat_at", "finished_at"]
        return list(dict.fromkeys([*own, *self.counter_fields, *self.locked_fields, "message"]))

    def _locked(self, job: ChunkedJob) -> ChunkedJob | None:
        return (
            self.model.objects.select_for_update().only(*self._fields()).filter(pk=job.pk).first()
        )

    def run(self, *, workspace_id: Any, job_id: Any) -> ChunkedJob | None:
        """Run (or continue) a job chunk by chunk; a finished or missing job is left alone."""
        job = self.load(workspace_id=workspace_id, job_id=job_id)
        if job is None or job.state in JOB_DONE:
            return job
        now = timezone.now()
        self.model.objects.filter(pk=job.pk).exclude(state__in=JOB_DONE).update(
            state=JobState.RUNNING, heartbeat_at=now, runs=F("runs") + 1
        )
        if job.runs or job.next_chunk:
            # Started before (a worker died, a message came twice): worth a line.
            logger.info(
                "job %s (%s) resumes at chunk %s (run %s)",
                job.pk,
                self.name,
                job.next_chunk,
                job.runs + 1,
            )
        else:  # a first start: the worker already logs the task it received
            logger.debug("job %s (%s) starts", job.pk, self.name)
        try:
            ctx = self.begin(job)
        except JobFailed as exc:
            self.fail(workspace_id=workspace_id, job_id=job_id, message=str(exc))
            return self.model.objects.filter(pk=job.pk).first()
        start = self.model.objects.filter(pk=job.pk).values_list("next_chunk", flat=True).first()
        if start is None:  # deleted meanwhile (its dataset or project went)
            return None
        recipients = self.recipients(job)
        with self.running(job):
            chunks = self.chunks(job, start)
            if (
                self.pipelined
                and connection.vendor == "postgresql"
                and not connection.in_atomic_block
                and getattr(settings, "JOBS_PIPELINE", True)
            ):
                self._run_pipelined(job, ctx, chunks, recipients)
            else:
                for chunk in chunks:
                    if not self._commit(job, ctx, self.check(job, ctx, chunk), recipients):
                        break
        return self._finish(job, recipients)

    def _commit(
        self, job: ChunkedJob, ctx: Any, result: ChunkResult, recipients: list[str]
    ) -> bool:
        """Commit one checked chunk; False when the job is gone or over (stop). A chunk
        another run already committed is skipped (its ``seq`` is below ``next_chunk``)."""
        with transaction.atomic():
            locked = self._locked(job)
            if locked is None or locked.state in JOB_DONE:
                return False
            if locked.next_chunk != result.seq:
                return locked.next_chunk > result.seq  # done by another run: skip; a gap: stop
            self.commit(job, locked, result, ctx)
            locked.processed += result.units
            locked.next_chunk += 1
            locked.state = JobState.RUNNING
            locked.heartbeat_at = timezone.now()
            fields = ["processed", "next_chunk", "state", "heartbeat_at", *self.counter_fields]
            locked.save(update_fields=list(dict.fromkeys(fields)))
            if event := self.progress_event(job, locked):
                send_event_on_commit(event, recipients)
        return True

    def _run_pipelined(
        self, job: ChunkedJob, ctx: Any, chunks: Iterator[Any], recipients: list[str]
    ) -> None:
        """Check chunks here and commit them in a writer thread, one chunk apart."""
        handoff: queue.Queue[ChunkResult | None] = queue.Queue(maxsize=1)
        failure: list[BaseException] = []
        stop = threading.Event()

        def writer() -> None:
            try:
                while (result := handoff.get()) is not None:
                    if not stop.is_set() and not self._commit(job, ctx, result, recipients):
                        stop.set()
            except Exception as exc:  # noqa: BLE001 -- re-raised in the task (retry or fail)
                failure.append(exc)
                stop.set()
                while handoff.get() is not None:
                    pass
            finally:
                connections.close_all()

        thread = threading.Thread(target=writer, name=f"job-writer-{job.pk}", daemon=True)
        thread.start()
        try:
            for chunk in chunks:
                if stop.is_set():
                    break
                handoff.put(self.check(job, ctx, chunk))
        finally:
            handoff.put(None)
            thread.join()
        if failure:
            raise failure[0]

    def _finish(self, job: ChunkedJob, recipients: list[str]) -> ChunkedJob | None:
        with transaction.atomic():
            locked = self._locked(job)
            if locked is None:
                return None
            if locked.state in JOB_DONE:
                return locked
            locked.state = self.outcome(locked)
            locked.finished_at = timezone.now()
            locked.save(update_fields=["state", "finished_at"])
            self._end(job, locked, recipients)
        return locked

    def _end(self, job: ChunkedJob, locked: ChunkedJob, recipients: list[str]) -> None:
        message = self.summary(locked)
        self.ended(job, locked, message)
        notice = self.notice(job, locked, message)
        if notice is not None:
            for listener in _END_LISTENERS:
                listener(notice)
        if event := self.progress_event(job, locked, message):
            if notice is not None and event.get("message"):
                # The notification's toast tells that person; the event's message is for
                # the others watching (one notice each, console.js).
                event["notified_user"] = str(notice.user_id)
            send_event_on_commit(event, recipients)

    def fail(self, *, workspace_id: Any, job_id: Any, message: str) -> ChunkedJob | None:
        """Mark a job failed with why (its committed chunks stay)."""
        job = self.load(workspace_id=workspace_id, job_id=job_id)
        if job is None:
            return None
        with transaction.atomic():
            locked = self._locked(job)
            if locked is None or locked.state in JOB_DONE:
                return locked
            locked.state = JobState.FAILED
            locked.finished_at = timezone.now()
            locked.message = message
            locked.save(update_fields=["state", "finished_at", "message"])
            self._end(job, locked, self.recipients(job))
        return locked

    def enqueue_on_commit(self, job: ChunkedJob) -> None:
        """Start the job's task once the surrounding transaction commits."""
        ids = {"workspace_id": str(job.workspace_id), "job_id": str(job.pk)}
        task = self.task
        # The task object, not send_task: it honours eager mode and test doubles.
        transaction.on_commit(lambda: task.delay(**ids))


def register(cls: type[JobEngine]) -> type[JobEngine]:
    """Class decorator: make an engine known to the reaper and give it its Celery task."""
    cls.task = job_task(cls.name)
    _ENGINES[cls.name] = cls()
    return cls


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def run_job(task: Any, name: str, *, workspace_id: str, job_id: str) -> str | None:
    """The body of every job task: run, retry lost connections, fail on anything else."""
    engine = engine_for(name)
    try:
        job = engine.run(workspace_id=workspace_id, job_id=job_id)
    except RETRYABLE as exc:
        if task.request.retries < task.max_retries:
            raise task.retry(exc=exc, countdown=min(2 ** (task.request.retries + 1), 60))
        engine.fail(workspace_id=workspace_id, job_id=job_id, message="database unavailable")
        raise
    except Exception as exc:
        logger.exception("job %s (%s) failed", job_id, name)
        engine.fail(
            workspace_id=workspace_id,
            job_id=job_id,
            message=f"an internal error ({type(exc).__name__})",
        )
        raise
    return job.state if job is not None else None


def job_task(name: str) -> Any:
    """Define the Celery task of the engine registered as ``name`` (call in tasks.py)."""
    from celery import shared_task

    @shared_task(name=name, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
    def task(self: Any, *, workspace_id: str, job_id: str, **kwargs: Any) -> str | None:
        return run_job(self, name, workspace_id=workspace_id, job_id=job_id)

    task.__doc__ = f"Run or continue a {name} job (chunked, safe to run twice)."
    return task


def jobs_reap(
    *, now: Any = None, running_after: float | None = None, queued_after: float | None = None
) -> dict[str, int]:
    """Restart jobs whose worker died; returns {"restarted": n, "failed": m}.

    A running job whose heartbeat is older than ``running_after`` seconds
    (``JOBS_STALE_SECONDS``, 300: a chunk stamps it every second or so), or a queued job
    older than ``queued_after`` (``JOBS_QUEUED_STALE_SECONDS``, 1800: its message may
    still wait behind other jobs), is enqueued again; one that already started
    ``JOBS_MAX_RUNS`` times is failed instead. Safe to run anywhere, any number of times:
    a restarted job that was merely slow skips the chunks its first run commits.
    """
    now = now or timezone.now()
    if running_after is None:
        running_after = getattr(settings, "JOBS_STALE_SECONDS", 300)
    if queued_after is None:
        queued_after = getattr(settings, "JOBS_QUEUED_STALE_SECONDS", 1800)
    max_runs = getattr(settings, "JOBS_MAX_RUNS", 10)
    stale = {
        JobState.RUNNING: now - timedelta(seconds=running_after),
        JobState.QUEUED: now - timedelta(seconds=queued_after),
    }
    counts = {"restarted": 0, "failed": 0}
    for engine in _ENGINES.values():
        for state, before in stale.items():
            candidates = (
                engine.model.objects.filter(state=state)
                .annotate(seen=Coalesce("heartbeat_at", "created_at"))
                .filter(seen__lte=before)
                .values_list("pk", "workspace_id", "runs")
            )
            for pk, workspace_id, runs in list(candidates):
                if runs >= max_runs:
                    engine.fail(
                        workspace_id=workspace_id,
                        job_id=pk,
                        message=f"the job stopped {runs} times without finishing",
                    )
                    counts["failed"] += 1
                    continue
                with transaction.atomic():
                    # Claim the restart, so one reaper of several processes wins it.
                    claimed = (
                        engine.model.objects.filter(pk=pk, state=state)
                        .filter(Q(heartbeat_at__lte=before) | Q(heartbeat_at__isnull=True))
                        .update(heartbeat_at=now)
                    )
                    if claimed:
                        engine.enqueue_on_commit(engine.model(pk=pk, workspace_id=workspace_id))
                        counts["restarted"] += 1
    if any(counts.values()):
        logger.warning("job reaper: %(restarted)s restarted, %(failed)s failed", counts)
    return counts


def jobs_reap_at_start() -> dict[str, int]:
    """Reap as a worker starts, before it takes any task.

    With ``JOBS_REAP_AT_START_SECONDS`` set (0 in the embedded setup, whose only worker
    is this one), every job running or queued longer than that is restarted: a running
    one lost its worker, a queued one may have lost its message with it (a killed worker
    takes the messages it had reserved along). A queued job whose message still waits
    then runs twice, which the engine makes harmless (the second run finds it done).
    Unset, the usual thresholds apply: other workers may be running those jobs.
    """
    seconds = getattr(settings, "JOBS_REAP_AT_START_SECONDS", None)
    if seconds is None:
        return jobs_reap()
    return jobs_reap(running_after=seconds, queued_after=seconds)
