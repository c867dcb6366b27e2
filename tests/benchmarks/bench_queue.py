"""Benchmark: the labeling queue under many labelers, through a production server.

Run on demand (never part of the test run; see tests/benchmarks/README.md)::

    .venv/bin/python tests/benchmarks/bench_queue.py [--tasks 100000] [--labelers 200]
        [--phases 50,200] [--duration 30] [--workers 2] [--pages 1000] [--no-pages]

PostgreSQL only. What it does:

1. Uses DATABASE_URL / REDIS_URL from the environment, or starts ``scripts/services``.
   Creates a fresh database ``labelhub_bench_queue_<random>`` on that server (dropped at
   the end) and takes an empty Redis database index (flushed at the end). Migrates, then
   in a child process: a tenant and workspace, ``--labelers`` labeler members each with an
   API key and a database session, a project with the loop's ontology and ``--tasks``
   tasks in one batch (data rows and tasks by ``bulk_create``; every tenth row needs 3
   labels, the rest 1), and a second project ("pages") whose ``--pages`` tasks the
   labelers hold (5 each) for the websocket mode.
2. Starts ``uvicorn labelhub.asgi:application --workers N`` (the README's production
   command; ``DJANGO_ENV=production``) on 127.0.0.1.
3. HTTP mode, per phase (50, then 200 labelers): every labeler loops
   ``POST …/queue/next/`` → ``POST …/tasks/<row>/submit/`` (the first task held) for
   ``--duration`` seconds over keep-alive connections (asyncio + uvloop, one client
   process). Printed: claims/s (``reserved`` events in the phase), labels/s, p50/p95/p99
   latency of next and of submit, errors by status. A sampler checks the queue's
   invariants every 0.5 s (one SQL statement: a plain task never held twice, no task
   over its label count, the ``reserved`` counter equal to the reservation rows); after
   the phase the database is checked for duplicate reservations (a task reserved more
   often than it needs labels, or twice by one person).
4. Websocket mode: ``--pages`` task pages (websockets with the labelers' session
   cookies) each send ``timer.beat`` every 5 s for ``--pages-duration`` seconds
   (staggered over the first 5 s); every beat must be answered by a ``timer.tick``.
   Printed: ticks sent / received / lost, error replies, beat→tick latency, and
   channel-layer / database errors counted in the server's log.
5. Baseline, same database: a raw claim loop with psycopg only on a table of its own
   (``SELECT … ORDER BY priority, id LIMIT 1 FOR UPDATE SKIP LOCKED``, mark it reserved
   and insert a reservation row, commit; then complete it in a second transaction) at 16
   and at 200 connections (threads) for ``--baseline-duration`` seconds; claims/s and
   the ratio end to end / raw.

Goals (PASS/MISS, a miss does not fail the run): p95 of next ≤ 100 ms at 200 labelers,
≥ 500 claims/s end to end. Exit status 1 when a check failed (duplicate reservations,
broken invariants, lost ticks, layer errors, server exceptions), 2 when the setup failed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import re
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import (  # noqa: E402
    empty_redis_db,
    flush_redis_db,
    free_port,
    out,
    production_env,
    run_checked,
    service_urls,
    stop_group,
    wait_until_listening,
    with_path,
)

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
HOST = "127.0.0.1"
PAGES_PER_LABELER = 5
CONSENSUS_EVERY = 10  # every tenth task needs CONSENSUS_LABELS labels
CONSENSUS_LABELS = 3
BEAT_SECONDS = 5.0
GOAL_P95_MS = 100.0
GOAL_CLAIMS = 500.0
SUBMISSION = json.dumps({"annotations": [{"name": "weather", "answer": {"name": "sunny"}}]})

LAYER_ERROR_PATTERNS = {
    "Too many connections": re.compile(r"Too many connections|MaxConnectionsError"),
    "redis TimeoutError": re.compile(r"redis\.exceptions\.TimeoutError|Timeout reading from"),
    "redis ConnectionError": re.compile(r"redis\.exceptions\.ConnectionError|Connection reset"),
    "channel full / over capacity": re.compile(r"ChannelFull|over capacity"),
    "database pool timeout": re.compile(r"PoolTimeout|couldn't get a connection"),
    "too many clients (PostgreSQL)": re.compile(r"too many clients|remaining connection slots"),
    "too many open files": re.compile(r"Too many open files|EMFILE"),
}
SERVER_EXCEPTION = re.compile(
    r"Exception in ASGI application|Exception inside application|Internal Server Error"
)

# One statement: a consistent snapshot of tasks and reservations.
BROKEN_INVARIANTS = """
SELECT t.id, t.labels_needed, t.labels_done, t.reserved, COALESCE(r.n, 0)
FROM labeling_task t
LEFT JOIN (
    SELECT task_id, COUNT(*) AS n FROM labeling_reservation WHERE project_id = %(p)s
    GROUP BY task_id
) r ON r.task_id = t.id
WHERE t.project_id = %(p)s AND (t.reserved > 0 OR r.n IS NOT NULL) AND (
    COALESCE(r.n, 0) <> t.reserved
    OR t.reserved + t.labels_done > t.labels_needed
    OR (t.labels_needed = 1 AND COALESCE(r.n, 0) > 1)
)
LIMIT 20
"""
# Reserved events per task beyond its label count, or twice to one person (no lease
# expires and nothing is released during the run, so each reservation is one claim).
DUPLICATES = """
SELECT 'over label count' AS what, COUNT(*) FROM (
    SELECT e.task_id FROM labeling_labelingevent e JOIN labeling_task t ON t.id = e.task_id
    WHERE e.project_id = %(p)s AND e.kind = 'reserved'
    GROUP BY e.task_id, t.labels_needed HAVING COUNT(*) > t.labels_needed
) a
UNION ALL
SELECT 'twice to one person', COUNT(*) FROM (
    SELECT task_id FROM labeling_labelingevent
    WHERE project_id = %(p)s AND kind = 'reserved'
    GROUP BY task_id, actor_id HAVING COUNT(*) > 1
) b
UNION ALL
SELECT 'released or expired', COUNT(*) FROM labeling_labelingevent
WHERE project_id = %(p)s AND kind IN ('released', 'lease_expired')
"""


# --- environment -------------------------------------------------------------------------


def raise_open_files_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = 65536 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


# --- setup through Django (child process) ------------------------------------------------


def setup_child(tasks: int, labelers: int, pages: int) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from labelhub.access.services.api_keys import api_key_create
    from labelhub.accounts.models import User
    from labelhub.labeling.models import Batch, Task
    from labelhub.labeling.services import queue
    from labelhub.labeling.services.workflow import workflow_of
    from labelhub.projects.models import DataRow, Dataset, Project
    from labelhub.projects.services.ontologies import ontology_create
    from labelhub.projects.services.projects import project_create
    from labelhub.workspaces.models import Membership, Role
    from labelhub.workspaces.services import tenant_create
    from tests.labeling.helpers import TREE

    admin = User.objects.create_user(email="bench-queue-admin@example.com", password=None)
    _, workspace = tenant_create(name="Bench queue", workspace_name="Queue", admin=admin)
    people = [
        User.objects.create_user(email=f"bench-queue-{n:04d}@example.com", password=None)
        for n in range(labelers)
    ]
    Membership.objects.bulk_create(
        Membership(workspace=workspace, user=user, role=Role.LABELER) for user in people
    )
    ontology = ontology_create(workspace=workspace, actor=admin, name="Loop", ontology=TREE)
    dataset = Dataset.objects.create(workspace=workspace, name="Queue rows")
    for start in range(0, tasks, 10_000):
        DataRow.objects.bulk_create(
            DataRow(
                workspace=workspace,
                dataset=dataset,
                row_data=f"https://cdn.example.com/queue/{i}.jpg",
                media_type="image",
                global_key=f"row-{i:07d}",
            )
            for i in range(start, min(tasks, start + 10_000))
        )
    row_ids = list(
        DataRow.objects.filter(dataset=dataset).order_by("global_key").values_list("pk", flat=True)
    )

    def project_with(name: str, ids: list, consensus: bool) -> Project:
        project = project_create(
            workspace=workspace,
            actor=admin,
            name=name,
            media_type="image",
            ontology=str(ontology.pk),
        )
        step = workflow_of(project).label
        batch = Batch.objects.create(
            workspace=workspace, project=project, name="All rows", created_by=admin
        )
        for start in range(0, len(ids), 10_000):
            Task.objects.bulk_create(
                Task(
                    workspace=workspace,
                    project=project,
                    data_row_id=pk,
                    batch=batch,
                    step=step,
                    labels_needed=CONSENSUS_LABELS
                    if consensus and (start + n) % CONSENSUS_EVERY == 0
                    else 1,
                )
                for n, pk in enumerate(ids[start : start + 10_000])
            )
        return project

    project = project_with("Queue bench", row_ids, consensus=True)
    pages_project = project_with("Task pages", row_ids[:pages], consensus=False)
    Project.objects.filter(pk=pages_project.pk).update(reservation_count=PAGES_PER_LABELER)
    pages_project.refresh_from_db()
    keys, sessions, held = [], [], []
    for user in people:
        _, secret = api_key_create(workspace=workspace, actor=user, name="Queue bench")
        keys.append(secret)
        session = SessionStore()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
        if len(held) < pages:
            for r in queue.queue_next(project=pages_project, actor=user):
                held.append([len(sessions) - 1, str(r.task.data_row_id)])
    fixture = {
        "project_id": str(project.pk),
        "pages_project_id": str(pages_project.pk),
        "api_keys": keys,
        "sessions": sessions,
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "pages": held[:pages],
    }
    connection.close()
    out("FIXTURE " + json.dumps(fixture))
    return 0


# --- server ------------------------------------------------------------------------------


def start_server(env: dict[str, str], port: int, workers: int, log: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "labelhub.asgi:application",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop_group() ends its workers too
    )


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and its children (Linux /proc)."""
    total, todo = 0.0, [root]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for tid in os.listdir(f"/proc/{pid}/task"):
                todo.extend(
                    int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
                )
        except (OSError, IndexError, ValueError):
            continue
    return total


# --- a small keep-alive HTTP/1.1 client (asyncio) ----------------------------------------


class HttpConnection:
    def __init__(self, port: int, api_key: str) -> None:
        self.port, self.key = port, api_key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self.post(path, "", method="GET")

    async def post(self, path: str, body: str, method: str = "POST") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        data = body.encode()
        self.writer.write(
            (
                f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {self.key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode()
            + data
        )
        try:
            return await self._response()
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise

    async def _response(self) -> tuple[int, bytes]:
        assert self.reader is not None
        status = int((await self.reader.readline()).split()[1])
        length, chunked, close = None, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            parts = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            await self.reader.readline()
            body = b"".join(parts)
        else:
            body = await self.reader.readexactly(length or 0)
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (ms)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


class Phase:
    def __init__(self) -> None:
        self.next_ms: list[float] = []
        self.submit_ms: list[float] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self.empty = 0
        self.submits = 0


async def labeler_loop(port: int, key: str, project: str, until: float, phase: Phase) -> None:
    conn = HttpConnection(port, key)
    base = f"/api/v1/projects/{project}"
    try:
        while time.monotonic() < until:
            t0 = time.perf_counter()
            try:
                status, body = await conn.post(f"{base}/queue/next/", '{"mode": "label"}')
            except (OSError, asyncio.IncompleteReadError) as exc:
                phase.errors[f"next {type(exc).__name__}"] += 1
                await asyncio.sleep(0.1)
                continue
            phase.next_ms.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                phase.errors[f"next {status}"] += 1
                await asyncio.sleep(0.1)
                continue
            held = json.loads(body)["tasks"]
            if not held:
                phase.empty += 1
                await asyncio.sleep(0.5)
                continue
            t1 = time.perf_counter()
            try:
                status, body = await conn.post(
                    f"{base}/tasks/{held[0]['data_row']}/submit/", SUBMISSION
                )
            except (OSError, asyncio.IncompleteReadError) as exc:
                phase.errors[f"submit {type(exc).__name__}"] += 1
                continue
            phase.submit_ms.append((time.perf_counter() - t1) * 1000)
            if status == 201:
                phase.submits += 1
            else:
                phase.errors[f"submit {status} {body[:120]!r}"] += 1
    finally:
        await conn.close()


async def floor_loop(port: int, key: str, until: float, latencies: list[float]) -> None:
    conn = HttpConnection(port, key)
    try:
        while time.monotonic() < until:
            t0 = time.perf_counter()
            status, _ = await conn.get("/api/v1/me/")
            if status == 200:
                latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        await conn.close()


def run_floor(port: int, keys: list[str], duration: float) -> tuple[list[float], float]:
    """The cheapest authenticated API call (``GET me/``) at the same concurrency: what
    the stack itself costs per request on this machine, measured in the same run."""
    import uvloop

    latencies: list[float] = []

    async def main() -> float:
        until = time.monotonic() + duration
        t0 = time.perf_counter()
        await asyncio.gather(*(floor_loop(port, k, until, latencies) for k in keys))
        return time.perf_counter() - t0

    return latencies, uvloop.run(main())


def run_phase(port: int, keys: list[str], project: str, duration: float) -> tuple[Phase, float]:
    import uvloop

    phase = Phase()

    async def main() -> float:
        until = time.monotonic() + duration
        t0 = time.perf_counter()
        await asyncio.gather(*(labeler_loop(port, k, project, until, phase) for k in keys))
        return time.perf_counter() - t0

    return phase, uvloop.run(main())


class Sampler(threading.Thread):
    """Checks the queue's invariants every ``interval`` seconds during a phase."""

    def __init__(self, db_url: str, project: str, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.db_url, self.project, self.interval = db_url, project, interval
        self.stopping = threading.Event()
        self.samples = 0
        self.violations: list[tuple] = []
        self.error = ""

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.db_url, autocommit=True) as conn:
                while not self.stopping.wait(self.interval):
                    rows = conn.execute(BROKEN_INVARIANTS, {"p": self.project}).fetchall()
                    self.samples += 1
                    self.violations.extend(rows)
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            self.error = repr(exc)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


# --- websocket task pages ----------------------------------------------------------------


class Pages:
    def __init__(self) -> None:
        self.connected = 0
        self.connect_errors: collections.Counter[str] = collections.Counter()
        self.sent = 0
        self.ticks = 0
        self.error_replies: collections.Counter[str] = collections.Counter()
        self.latency_ms: list[float] = []
        self.dropped = 0


async def page(port: int, cookie: str, project: str, row: str, duration: float, pages: Pages):
    import websockets

    await asyncio.sleep(random.uniform(0, BEAT_SECONDS))  # pages open at different times
    beat = json.dumps({"type": "timer.beat", "project": project, "data_row": row, "mode": "label"})
    try:
        async with websockets.connect(
            f"ws://{HOST}:{port}/ws/live/",
            additional_headers={"Cookie": cookie, "Origin": f"http://{HOST}:{port}"},
            open_timeout=60,
            ping_interval=None,
            max_queue=None,
        ) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if hello.get("type") != "hello":
                raise RuntimeError(f"expected hello, got {hello!r}")
            pages.connected += 1
            until = time.monotonic() + duration
            while time.monotonic() < until:
                sent_at = time.perf_counter()
                await ws.send(beat)
                pages.sent += 1
                deadline = sent_at + BEAT_SECONDS * 3
                while True:  # the answer to this beat (events may come in between)
                    message = json.loads(
                        await asyncio.wait_for(ws.recv(), deadline - time.perf_counter())
                    )
                    if message.get("type") == "timer.tick":
                        pages.ticks += 1
                        pages.latency_ms.append((time.perf_counter() - sent_at) * 1000)
                        break
                    if message.get("type") == "error":
                        pages.error_replies[f"{message.get('code')}: {message.get('message')}"] += 1
                        break
                await asyncio.sleep(max(0.0, BEAT_SECONDS - (time.perf_counter() - sent_at)))
    except TimeoutError:
        pages.dropped += 1
    except Exception as exc:  # noqa: BLE001 - counted by kind
        if pages.connected == 0 or "hello" in str(exc):
            pages.connect_errors[type(exc).__name__] += 1
        else:
            pages.dropped += 1
            pages.connect_errors[f"after connect: {type(exc).__name__}"] += 1


def run_pages(port: int, fixture: dict[str, Any], duration: float) -> Pages:
    import uvloop

    pages = Pages()
    cookies = [f"{fixture['cookie_name']}={key}" for key in fixture["sessions"]]

    async def main() -> None:
        await asyncio.gather(
            *(
                page(port, cookies[who], fixture["pages_project_id"], row, duration, pages)
                for who, row in fixture["pages"]
            )
        )

    uvloop.run(main())
    return pages


def layer_errors(log_path: Path) -> tuple[collections.Counter[str], int]:
    text = log_path.read_text(errors="replace")
    found: collections.Counter[str] = collections.Counter()
    for name, pattern in LAYER_ERROR_PATTERNS.items():
        found[name] = len(pattern.findall(text))
    return found, len(SERVER_EXCEPTION.findall(text))


# --- raw baseline ------------------------------------------------------------------------

RAW_SETUP = """
DROP TABLE IF EXISTS bench_raw_reservation, bench_raw_task;
CREATE TABLE bench_raw_task (
    id bigserial PRIMARY KEY, priority smallint NOT NULL DEFAULT 5,
    labels_needed smallint NOT NULL, labels_done smallint NOT NULL DEFAULT 0,
    reserved smallint NOT NULL DEFAULT 0
);
CREATE TABLE bench_raw_reservation (
    id bigserial PRIMARY KEY, task_id bigint NOT NULL REFERENCES bench_raw_task (id),
    holder int NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (task_id, holder)
);
INSERT INTO bench_raw_task (labels_needed)
    SELECT CASE WHEN n % 10 = 0 THEN 3 ELSE 1 END FROM generate_series(0, %(n)s - 1) n;
CREATE INDEX bench_raw_queue ON bench_raw_task (priority, id) WHERE labels_done < labels_needed;
ANALYZE bench_raw_task;
"""
RAW_CLAIM = """
SELECT id FROM bench_raw_task t
WHERE labels_done < labels_needed AND labels_needed > labels_done + reserved
  AND NOT EXISTS (SELECT 1 FROM bench_raw_reservation r WHERE r.task_id = t.id AND r.holder = %s)
ORDER BY priority, id LIMIT 1 FOR UPDATE SKIP LOCKED
"""


def raw_claims(db_url: str, connections: int, duration: float, tasks: int) -> tuple[float, int]:
    """Claims/s of the raw loop at ``connections`` threads; returns (rate, duplicates)."""
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(RAW_SETUP.replace("%(n)s", str(tasks)))
    counts = [0] * connections
    start = threading.Barrier(connections + 1)
    failures: list[str] = []

    def worker(n: int) -> None:
        try:
            with psycopg.connect(db_url) as conn:
                start.wait()
                until = time.monotonic() + duration
                while time.monotonic() < until:
                    with conn.transaction():
                        row = conn.execute(RAW_CLAIM, [n]).fetchone()
                        if row is None:
                            break
                        conn.execute(
                            "UPDATE bench_raw_task SET reserved = reserved + 1 WHERE id = %s", row
                        )
                        conn.execute(
                            "INSERT INTO bench_raw_reservation (task_id, holder) VALUES (%s, %s)",
                            [row[0], n],
                        )
                    counts[n] += 1
                    with conn.transaction():  # the "submit": the claim did its work
                        conn.execute(
                            "UPDATE bench_raw_task SET reserved = reserved - 1,"
                            " labels_done = labels_done + 1 WHERE id = %s",
                            row,
                        )
        except Exception:  # noqa: BLE001 - reported
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
    for thread in threads:
        thread.start()
    start.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - t0
    if failures:
        raise RuntimeError(f"raw claim loop failed:\n{failures[0]}")
    with psycopg.connect(db_url, autocommit=True) as conn:
        duplicates = conn.execute(
            "SELECT COUNT(*) FROM (SELECT r.task_id FROM bench_raw_reservation r"
            " JOIN bench_raw_task t ON t.id = r.task_id GROUP BY r.task_id, t.labels_needed"
            " HAVING COUNT(*) > t.labels_needed) d"
        ).fetchone()[0]
        conn.execute("DROP TABLE bench_raw_reservation, bench_raw_task")
    return sum(counts) / seconds, duplicates


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--labelers", type=int, default=200)
    parser.add_argument("--phases", default="50,200", help="labelers per phase (50,200)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase (30)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (2)")
    parser.add_argument("--pages", type=int, default=1000, help="open task pages (1000)")
    parser.add_argument("--pages-duration", type=float, default=30.0)
    parser.add_argument("--no-pages", action="store_true", help="skip the websocket mode")
    parser.add_argument("--baseline-duration", type=float, default=10.0)
    parser.add_argument("--keep-log", action="store_true")
    parser.add_argument("--setup-child", action="store_true", help=argparse.SUPPRESS)
    args, unknown = parser.parse_known_args(argv)
    if unknown and not args.setup_child:
        out(f"(ignoring arguments for other benchmarks: {' '.join(unknown)})")
    args.phase_sizes = [int(n) for n in args.phases.split(",") if n]
    if max(args.phase_sizes) > args.labelers:
        parser.error("a phase cannot have more labelers than --labelers")
    if args.pages > args.labelers * PAGES_PER_LABELER or args.pages > args.tasks:
        parser.error(f"--pages needs <= {PAGES_PER_LABELER} per labeler and <= --tasks")
    return args


def main(argv: list[str] | None = None) -> int:  # noqa: C901, PLR0912, PLR0915 - one script
    args = parse_args(argv)
    if args.setup_child:
        return setup_child(args.tasks, args.labelers, 0 if args.no_pages else args.pages)
    out(
        f"bench_queue: {args.tasks:,} tasks, {args.labelers} labelers, phases {args.phases}, "
        f"{args.duration:.0f} s each, uvicorn --workers {args.workers}"
    )
    urls = service_urls()
    if not urls["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        out("bench_queue needs PostgreSQL (DATABASE_URL)")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import psycopg

    name = f"labelhub_bench_queue_{secrets.token_hex(4)}"
    admin_url = with_path(urls["DATABASE_URL"], "postgres")
    db_url = with_path(urls["DATABASE_URL"], name)
    folder = Path(tempfile.mkdtemp(prefix="labelhub-bench-queue-"))
    log_path = folder / "server.log"
    server = None
    created = False
    redis_url = ""
    failures: list[str] = []
    try:
        files = raise_open_files_limit()
        redis_url = with_path(urls["REDIS_URL"], str(empty_redis_db(urls["REDIS_URL"])))
        # one secret for the server and the setup child: session hashes depend on it
        env = production_env(
            db_url, redis_url, secret=secrets.token_urlsafe(50), api_rate="100000000/hour"
        )
        out(f"database {name} (fresh); redis {redis_url}; open files {files}")
        t0 = time.perf_counter()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created = True
        run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env, "migrate")
        out(f"setup: migrate {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        command = [PYTHON, __file__, "--setup-child", "--tasks", str(args.tasks)]
        command += ["--labelers", str(args.labelers), "--pages", str(args.pages)]
        if args.no_pages:
            command.append("--no-pages")
        stdout = run_checked(command, env, "fixture setup")
        fixture = json.loads(
            next(line for line in stdout.splitlines() if line.startswith("FIXTURE "))[8:]
        )
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        out(
            f"setup: {args.tasks:,} tasks, {args.labelers} labelers {time.perf_counter() - t0:.1f} s"
        )

        port = free_port()
        log = log_path.open("wb")
        server = start_server(env, port, args.workers, log)
        wait_until_listening(server, port)
        run_phase(port, fixture["api_keys"][:4], fixture["project_id"], 2.0)  # warm-up
        out(f"server: uvicorn --workers {args.workers} pid {server.pid} on {HOST}:{port}")

        project = fixture["project_id"]
        results = {}
        floor_clients = min(50, len(fixture["api_keys"]))
        cpu0 = cpu_seconds(server.pid)
        floor, seconds = run_floor(port, fixture["api_keys"][:floor_clients], 10.0)
        cpu1 = cpu_seconds(server.pid)
        out(f"--- floor: {floor_clients} clients looping GET /api/v1/me/, {seconds:.1f} s ----")
        out(
            f"requests/s             {len(floor) / seconds:8.1f}; latency ms p50 "
            f"{percentile(floor, 50):.1f} p95 {percentile(floor, 95):.1f}; server CPU per "
            f"request {(cpu1 - cpu0) / max(len(floor), 1) * 1000:.1f} ms"
        )
        for size in args.phase_sizes:
            with psycopg.connect(db_url, autocommit=True) as conn:
                before = conn.execute(
                    "SELECT COUNT(*) FROM labeling_labelingevent WHERE project_id = %s"
                    " AND kind = 'reserved'",
                    [project],
                ).fetchone()[0]
            sampler = Sampler(db_url, project)
            sampler.start()
            load_before = loadavg()
            cpu0, self0 = cpu_seconds(server.pid), time.process_time()
            phase, seconds = run_phase(port, fixture["api_keys"][:size], project, args.duration)
            cpu1, self1 = cpu_seconds(server.pid), time.process_time()
            sampler.stop()
            with psycopg.connect(db_url, autocommit=True) as conn:
                after = conn.execute(
                    "SELECT COUNT(*) FROM labeling_labelingevent WHERE project_id = %s"
                    " AND kind = 'reserved'",
                    [project],
                ).fetchone()[0]
                duplicates = dict(conn.execute(DUPLICATES, {"p": project}).fetchall())
            claims = (after - before) / seconds
            results[size] = {"claims": claims, "p95": percentile(phase.next_ms, 95)}
            out(f"--- {size} labelers, {seconds:.1f} s -------------------------------")
            out(f"claims/s               {claims:8.1f}  (reserved events / s)")
            out(f"labels/s               {phase.submits / seconds:8.1f}  (submits answered 201)")
            for what, values in (("next", phase.next_ms), ("submit", phase.submit_ms)):
                out(
                    f"{what:<7} latency ms     p50 {percentile(values, 50):7.1f}  "
                    f"p95 {percentile(values, 95):7.1f}  p99 {percentile(values, 99):7.1f}  "
                    f"({len(values)} requests)"
                )
            out(
                f"errors                 {dict(phase.errors) or 0}; empty queue answers {phase.empty}"
            )
            out(f"duplicate reservations {duplicates}")
            out(
                f"invariant samples      {sampler.samples}, violations {len(sampler.violations)}"
                f"{' ' + sampler.error if sampler.error else ''}"
            )
            requests = len(phase.next_ms) + len(phase.submit_ms)
            out(
                f"CPU                    server {cpu1 - cpu0:.1f} s, clients {self1 - self0:.1f} s"
                f" of {seconds:.1f} s wall ({(cpu1 - cpu0) / max(requests, 1) * 1000:.1f} ms of"
                f" server CPU per request); load average before {load_before}, after {loadavg()}"
            )
            if any(duplicates.get(k) for k in ("over label count", "twice to one person")):
                failures.append(f"{size} labelers: duplicate reservations {duplicates}")
            if sampler.violations or sampler.error:
                failures.append(f"{size} labelers: invariants broken {sampler.violations[:5]}")
            if phase.errors:
                failures.append(f"{size} labelers: request errors {dict(phase.errors)}")

        if not args.no_pages:
            cpu0 = cpu_seconds(server.pid)
            t0 = time.perf_counter()
            pages = run_pages(port, fixture, args.pages_duration)
            seconds = time.perf_counter() - t0
            cpu1 = cpu_seconds(server.pid)
            found, exceptions = layer_errors(log_path)
            lost = pages.sent - pages.ticks - sum(pages.error_replies.values())
            out(
                f"--- {len(fixture['pages'])} task pages, beat every {BEAT_SECONDS:.0f} s ----------"
            )
            out(
                f"pages connected        {pages.connected}; connect errors {dict(pages.connect_errors) or 0}"
            )
            out(
                f"ticks sent / received  {pages.sent} / {pages.ticks}; lost {lost}; dropped {pages.dropped}"
            )
            out(f"error replies          {dict(pages.error_replies) or 0}")
            out(
                f"beat->tick latency ms  p50 {percentile(pages.latency_ms, 50):.1f}  "
                f"p95 {percentile(pages.latency_ms, 95):.1f}  p99 {percentile(pages.latency_ms, 99):.1f}"
            )
            out(f"server layer errors    {dict(found)}; exceptions {exceptions}")
            out(
                f"CPU                    server {cpu1 - cpu0:.1f} s of {seconds:.1f} s wall; load {loadavg()}"
            )
            if lost or pages.dropped or pages.error_replies or pages.connect_errors:
                failures.append("task pages: lost ticks, errors or dropped sockets")
            if len(fixture["pages"]) != pages.connected:
                failures.append(
                    f"task pages: {pages.connected} of {len(fixture['pages'])} connected"
                )
            if sum(found.values()):
                failures.append(f"channel layer / database errors {dict(found)}")
        stop_group(server)
        server = None
        found, exceptions = layer_errors(log_path)
        if exceptions:
            failures.append(f"{exceptions} server exceptions (see the log)")

        out("--- raw baseline (psycopg, SELECT ... FOR UPDATE SKIP LOCKED) -----------")
        raw = {}
        for n in (16, 200):
            rate, duplicates = raw_claims(db_url, n, args.baseline_duration, args.tasks)
            raw[n] = rate
            out(f"raw claims/s at {n:>3} connections  {rate:8.1f}  (duplicates {duplicates})")
            if duplicates:
                failures.append(f"raw baseline duplicates at {n}")
        out("--- summary ----------------------------------------------------------------")
        for size, result in results.items():
            n = min(raw, key=lambda c: abs(c - size))
            out(
                f"{size:>4} labelers: {result['claims']:7.1f} claims/s end to end, "
                f"ratio to raw at {n} connections {result['claims'] / raw[n]:.3f}; "
                f"next p95 {result['p95']:.1f} ms"
            )
        top = results.get(200) or results[max(results)]
        out(
            f"goal next p95 <= {GOAL_P95_MS:.0f} ms at 200 labelers: "
            f"{'PASS' if top['p95'] <= GOAL_P95_MS else 'MISS'} ({top['p95']:.1f} ms)"
        )
        out(
            f"goal >= {GOAL_CLAIMS:.0f} claims/s end to end: "
            f"{'PASS' if top['claims'] >= GOAL_CLAIMS else 'MISS'} ({top['claims']:.1f})"
        )
        out(f"load average           {loadavg()}")
    except Exception:  # noqa: BLE001 - the setup failed: report, clean up, exit 2
        out(traceback.format_exc())
        if log_path.exists():
            out("--- end of the server log ---\n" + log_path.read_text(errors="replace")[-3000:])
        return 2
    finally:
        stop_group(server)
        if created:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if redis_url:
            flush_redis_db(redis_url)
        if args.keep_log and log_path.exists():
            out(f"server log kept: {log_path}")
        else:
            for path in folder.glob("*"):
                path.unlink()
            folder.rmdir()
    for failure in failures:
        out(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
