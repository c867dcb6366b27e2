"""Benchmark: an annotation import (NDJSON pre-labels) through the API and a real Celery worker.

Run on demand (never part of the test run; see tests/benchmarks/README.md)::

    .venv/bin/python tests/benchmarks/bench_imports.py [--annotations 1000000] [--rows 100000]

PostgreSQL only. What it does, printing each step's duration:

1. Uses DATABASE_URL / REDIS_URL from the environment, or starts ``scripts/services``.
   Creates a fresh database ``labelhub_bench_<random>`` on that PostgreSQL server (dropped
   at the end) and an empty Redis database index of its own (so no other worker on the
   same Redis takes the job; flushed at the end). Migrates, then, in a child process
   through the services: a tenant, a workspace and its admin, an API key, an ontology with
   one rectangle tool "Car" carrying a nested radio classification "Color" (red, blue), a
   dataset of ``--rows`` image data rows (global keys ``row-0000000`` ...), and a project
   using the ontology with ONE batch holding every row.
2. Writes the NDJSON file to a temporary folder: ``--annotations`` valid bounding boxes
   (``--annotations // --rows`` per row, the rest on the last row; a row's lines
   consecutive), each with a confidence and the nested "Color" answer, plus 1 % invalid
   lines spread evenly through the file, alternating four kinds: unknown feature name,
   negative width, unknown global key and broken JSON.
3. Starts the production commands: ``celery -A labelhub worker --concurrency=1`` and
   ``uvicorn labelhub.asgi:application`` (``DJANGO_ENV=production``, a random
   ``SECRET_KEY``), each in its own process group; waits for the worker's ping answer.
4. POSTs the file streamed from disk to ``/api/v1/projects/<id>/imports/?kind=prelabels``
   (``Content-Type: application/x-ndjson``, ``Authorization: Bearer <key>``), then polls
   the job every 0.25 s until it is finished / finished_with_errors / failed. Meanwhile it
   samples every 0.2 s the ``VmRSS`` / ``VmHWM`` of every process of the worker's and the
   server's process trees.
5. Raw ``COPY`` baseline on the same database: the same number of equivalent rows for
   ``labeling_annotation`` (same project, data rows, feature, value shape), written to a
   file in COPY text format, then ONLY ``COPY ... FROM STDIN`` (psycopg 3, 1 MB blocks)
   plus the commit is timed. The rows are deleted afterwards. Note that this COPY runs
   into a table already holding the import's rows (their indexes included).
6. Checks the job's results, prints the goals, and always stops the worker and the server,
   drops the database and removes the temporary files (also on errors, Ctrl-C, SIGTERM).

Printed: upload seconds (until the 202), processing seconds (202 -> final state), end to end
seconds, annotations/second end to end (``lines_written`` / end to end), the job's counters,
the worker's and the server's peak RSS (max ``VmHWM`` over the tree, and which process),
the raw COPY rows/second and the ratio import rate / COPY rate; then goals
(>= 30,000 annotations/s end to end, ratio >= 0.2, worker peak RSS < 300 MB) as PASS/MISS.

Exit status: 0 when the results are right (state ``finished_with_errors``, every valid line
written, every invalid line counted, the annotations in the table), 1 otherwise (a missed
goal alone does not fail the run), 2 when the setup itself failed. Extra arguments meant for
other benchmarks are ignored. ``--keep-logs`` keeps the worker's and server's logs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
CELERY = str(Path(sys.executable).with_name("celery"))
HOST = "127.0.0.1"
FINAL_STATES = {"finished", "finished_with_errors", "failed"}
INVALID_KINDS = ("unknown feature", "negative width", "unknown global key", "broken JSON")
COPY_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "workspace_id",
    "project_id",
    "data_row_id",
    "feature_id",
    "kind",
    "value",
    "confidence",
    "custom_metrics",
    "source",
    "job_id",
    "uuid",
    "label_id",
)
GOAL_RATE = 30_000
GOAL_RATIO = 0.2
GOAL_WORKER_RSS_MB = 300


class Step:
    """``with Step("name"):`` prints the step's duration when it ends."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> Step:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> bool:
        self.seconds = time.perf_counter() - self.started
        status = "" if exc[0] is None else "  (failed)"
        out(f"step  {self.name:<44} {self.seconds:8.2f} s{status}")
        return False


# --- environment -------------------------------------------------------------------------


# --- setup through the services (child process) ------------------------------------------

ONTOLOGY = {
    "tools": [
        {
            "tool": "rectangle",
            "name": "Car",
            "classifications": [
                {
                    "type": "radio",
                    "name": "Color",
                    "options": [{"value": "red"}, {"value": "blue"}],
                }
            ],
        }
    ],
    "classifications": [],
}


def setup_child(rows: int) -> int:
    """Create the fixture in DATABASE_URL; print it as one ``FIXTURE {json}`` line."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from labelhub.access.services.api_keys import api_key_create
    from labelhub.accounts.services import user_create
    from labelhub.labeling.models import Batch, Task
    from labelhub.labeling.services.batches import MAX_ROWS_PER_REQUEST, batch_create
    from labelhub.projects.models import DataRow, FeatureSchema
    from labelhub.projects.services.datasets import InputRow, data_rows_create, dataset_create
    from labelhub.projects.services.ontologies import ontology_create
    from labelhub.projects.services.projects import project_create
    from labelhub.workspaces.services import tenant_create

    admin = user_create(
        email="bench-imports@example.com", password=secrets.token_urlsafe(16), name="Bench"
    )
    _, workspace = tenant_create(name="Bench imports", workspace_name="Bench", admin=admin)
    ontology = ontology_create(
        workspace=workspace, actor=admin, name="Cars", media_type="image", ontology=ONTOLOGY
    )
    project = project_create(
        workspace=workspace,
        actor=admin,
        name="Import bench",
        media_type="image",
        ontology=ontology.pk,
    )
    dataset = dataset_create(workspace=workspace, actor=admin, name="Bench rows")
    input_rows = [
        InputRow(
            i + 1,
            {
                "row_data": f"https://cdn.example.com/bench/{i}.jpg",
                "global_key": f"row-{i:07d}",
                "media_type": "image",
            },
        )
        for i in range(rows)
    ]
    result = data_rows_create(workspace=workspace, actor=admin, dataset=dataset, rows=input_rows)
    if result.created != rows or result.errors:
        raise RuntimeError(f"data rows: {result.created} created, errors {result.errors[:3]}")
    del input_rows
    if rows <= MAX_ROWS_PER_REQUEST:
        batch, report = batch_create(
            project=project,
            actor=admin,
            name="All rows",
            dataset={"dataset": str(dataset.pk), "sample": "all"},
        )
        added = report["added"]
    else:  # more than one request may send: insert the batch's tasks directly
        batch = Batch.objects.create(
            workspace=workspace, project=project, name="All rows", created_by=admin
        )
        ids = list(DataRow.objects.filter(dataset=dataset).values_list("pk", flat=True))
        for start in range(0, len(ids), 10_000):
            Task.objects.bulk_create(
                Task(workspace=workspace, project=project, data_row_id=pk, batch=batch)
                for pk in ids[start : start + 10_000]
            )
        added = len(ids)
    if added != rows:
        raise RuntimeError(f"batch holds {added} of {rows} rows")
    _, secret = api_key_create(workspace=workspace, actor=admin, name="Import bench")
    features = {f.name: f for f in FeatureSchema.objects.filter(ontology=ontology).order_by("path")}
    fixture = {
        "workspace_id": str(workspace.pk),
        "project_id": str(project.pk),
        "batch_id": str(batch.pk),
        "api_key": secret,
        "car_id": str(features["Car"].pk),
        "car_schema": features["Car"].schema_id,
        "color_schema": features["Color"].schema_id,
        "options": {name: features[name].schema_id for name in ("red", "blue")},
    }
    connection.close()
    out("FIXTURE " + json.dumps(fixture))
    return 0


def create_fixture(env: dict[str, str], rows: int) -> dict[str, Any]:
    stdout = run_checked(
        [PYTHON, __file__, "--setup-child", "--rows", str(rows)], env, "fixture setup"
    )
    for line in stdout.splitlines():
        if line.startswith("FIXTURE "):
            return json.loads(line[len("FIXTURE ") :])
    raise RuntimeError(f"the setup child printed no fixture:\n{stdout}")


# --- the NDJSON file ---------------------------------------------------------------------


def _bbox(rnd: random.Random) -> tuple[int, int, int, int]:
    return rnd.randint(0, 900), rnd.randint(0, 900), rnd.randint(5, 200), rnd.randint(5, 200)


def write_ndjson(path: Path, annotations: int, rows: int, invalid: int, seed: int = 1) -> int:
    """Write the import file; return how many lines it holds."""
    rnd = random.Random(seed)
    per_row = annotations // rows
    every = annotations // invalid if invalid else 0  # one invalid line after this many
    written = invalid_written = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        buffer: list[str] = []
        for i in range(annotations):
            row = min(i // per_row, rows - 1)
            top, left, height, width = _bbox(rnd)
            color = "red" if i % 2 == 0 else "blue"
            buffer.append(
                f'{{"uuid": "{uuid.uuid4()}", "dataRow": {{"globalKey": "row-{row:07d}"}}, '
                f'"name": "Car", "bbox": {{"top": {top}, "left": {left}, "height": {height}, '
                f'"width": {width}}}, "confidence": 0.{rnd.randint(10, 99)}, '
                f'"classifications": [{{"name": "Color", "answer": {{"name": "{color}"}}}}]}}\n'
            )
            written += 1
            if every and (i + 1) % every == 0 and invalid_written < invalid:
                buffer.append(invalid_line(invalid_written, row) + "\n")
                invalid_written += 1
                written += 1
            if len(buffer) >= 10_000:
                fh.write("".join(buffer))
                buffer.clear()
        fh.write("".join(buffer))
    if invalid_written != invalid:
        raise RuntimeError(f"wrote {invalid_written} invalid lines, wanted {invalid}")
    return written


def invalid_line(n: int, row: int) -> str:
    """The n-th invalid line (kinds alternate, see INVALID_KINDS)."""
    kind = n % len(INVALID_KINDS)
    name, key, width = "Car", f"row-{row:07d}", 40
    if kind == 0:
        name = "Cra"
    elif kind == 1:
        width = -40
    elif kind == 2:
        key = f"missing-{n:07d}"
    text = (
        f'{{"uuid": "{uuid.uuid4()}", "dataRow": {{"globalKey": "{key}"}}, "name": "{name}", '
        f'"bbox": {{"top": 10, "left": 10, "height": 40, "width": {width}}}, '
        f'"confidence": 0.5, "classifications": [{{"name": "Color", "answer": {{"name": "red"}}}}]}}'
    )
    return text[: len(text) // 2] if kind == 3 else text


# --- processes ---------------------------------------------------------------------------


def start_group(command: list[str], env: dict[str, str], log: Any) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop_group() ends it and its children
    )


def wait_until_worker_ready(
    worker: subprocess.Popen, redis_url: str, node: str, timeout: float = 90.0
) -> None:
    """Ping the worker through the broker (a bare Celery app: no Django needed here)."""
    from celery import Celery

    app = Celery("bench-ping", broker=redis_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise RuntimeError(f"worker exited early with status {worker.returncode}")
            if app.control.ping(destination=[node], timeout=1.0):
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker {node} did not answer a ping within {timeout:.0f} s")
    finally:
        app.close()


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (Linux /proc)."""
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            todo.extend(int(c) for c in children)
    return pids


def memory_kib(pid: int) -> tuple[int, int, str] | None:
    """(VmRSS, VmHWM, name) of a process, or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    try:
        rss = int(fields["VmRSS"].split()[0])
        hwm = int(fields["VmHWM"].split()[0])
    except (KeyError, ValueError, IndexError):
        return None
    return rss, hwm, fields.get("Name", "?").strip()


@dataclass
class TreePeak:
    label: str
    root: int
    hwm_kib: int = 0
    hwm_pid: int = 0
    hwm_name: str = ""
    tree_rss_peak_kib: int = 0  # largest sum of VmRSS over the tree at one sample
    pids: set[int] = field(default_factory=set)

    def sample(self) -> None:
        total = 0
        for pid in process_tree(self.root):
            mem = memory_kib(pid)
            if mem is None:
                continue
            rss, hwm, name = mem
            self.pids.add(pid)
            total += rss
            if hwm > self.hwm_kib:
                self.hwm_kib, self.hwm_pid, self.hwm_name = hwm, pid, name
        self.tree_rss_peak_kib = max(self.tree_rss_peak_kib, total)

    def line(self) -> str:
        which = "root" if self.hwm_pid == self.root else "child"
        return (
            f"{self.label:<22}{self.hwm_kib / 1024:8.0f} MB  (VmHWM of pid {self.hwm_pid} "
            f"{self.hwm_name}, the tree's {which}; {len(self.pids)} processes seen; "
            f"largest tree VmRSS sum {self.tree_rss_peak_kib / 1024:.0f} MB)"
        )


class MemorySampler(threading.Thread):
    def __init__(self, trees: list[TreePeak], interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.trees, self.interval = trees, interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for tree in self.trees:
                tree.sample()
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
        for tree in self.trees:  # a last sample: VmHWM only grows
            tree.sample()


# --- the measured import -----------------------------------------------------------------


@dataclass
class ImportRun:
    status: int = 0
    answer: dict[str, Any] = field(default_factory=dict)
    job: dict[str, Any] = field(default_factory=dict)
    upload_seconds: float = 0.0
    processing_seconds: float = 0.0
    total_seconds: float = 0.0
    polls: int = 0
    timed_out: bool = False


def run_import(
    port: int, fixture: dict[str, Any], path: Path, name: str, timeout: float
) -> ImportRun:
    headers = {"Authorization": f"Bearer {fixture['api_key']}"}
    project = fixture["project_id"]
    url = f"/api/v1/projects/{project}/imports/?name={quote(name)}&kind=prelabels"
    run = ImportRun()
    size = path.stat().st_size
    post = http.client.HTTPConnection(HOST, port, timeout=3600, blocksize=1 << 20)
    poll = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        with path.open("rb") as body:
            t0 = time.perf_counter()
            post.request(
                "POST",
                url,
                body=body,
                headers={
                    **headers,
                    "Content-Type": "application/x-ndjson",
                    "Content-Length": str(size),
                },
            )
            response = post.getresponse()
            raw = response.read()
            t_accepted = time.perf_counter()
        run.status = response.status
        run.upload_seconds = t_accepted - t0
        try:
            run.answer = json.loads(raw)
        except ValueError:
            run.answer = {"raw": raw[:2000].decode(errors="replace")}
        if response.status != 202:
            return run
        job_url = f"/api/v1/projects/{project}/imports/{run.answer['id']}/"
        run.job = run.answer
        deadline = t_accepted + timeout
        while run.job.get("state") not in FINAL_STATES:
            if time.perf_counter() > deadline:
                run.timed_out = True
                break
            time.sleep(0.25)
            poll.request("GET", job_url, headers=headers)
            answer = poll.getresponse()
            data = answer.read()
            run.polls += 1
            if answer.status != 200:
                raise RuntimeError(f"GET {job_url}: {answer.status} {data[:500]!r}")
            run.job = json.loads(data)
        t1 = time.perf_counter()
        run.processing_seconds = t1 - t_accepted
        run.total_seconds = t1 - t0
        return run
    finally:
        post.close()
        poll.close()


# --- the raw COPY baseline ---------------------------------------------------------------


def write_copy_file(
    path: Path, conn: Any, fixture: dict[str, Any], annotations: int, rows: int, seed: int = 2
) -> int:
    """The equivalent annotation rows in COPY text format; return how many."""
    keys = dict(
        conn.execute(
            "SELECT global_key, id FROM projects_datarow WHERE workspace_id = %s",
            [fixture["workspace_id"]],
        ).fetchall()
    )
    row_ids = [str(keys[f"row-{i:07d}"]) for i in range(rows)]
    del keys
    rnd = random.Random(seed)
    per_row = annotations // rows
    now = datetime.now(UTC).isoformat(sep=" ")
    fixed = f"{now}\t{now}\t{fixture['workspace_id']}\t{fixture['project_id']}\t"
    feature = fixture["car_id"]
    color = {
        name: json.dumps(
            [
                {
                    "schemaId": fixture["color_schema"],
                    "name": "Color",
                    "answer": {"schemaId": schema, "name": name},
                }
            ],
            separators=(",", ":"),
        ).replace("\\", "\\\\")
        for name, schema in fixture["options"].items()
    }
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        buffer: list[str] = []
        for i in range(annotations):
            top, left, height, width = _bbox(rnd)
            value = (
                f'{{"bbox":{{"top":{top},"left":{left},"height":{height},"width":{width}}},'
                f'"classifications":{color["red" if i % 2 == 0 else "blue"]}}}'
            )
            buffer.append(
                f"{time_ordered_uuid()}\t{fixed}{row_ids[min(i // per_row, rows - 1)]}\t"
                f"{feature}\tbbox\t{value}\t0.{rnd.randint(10, 99)}\t[]\tprelabel\t\\N\t"
                f"{uuid.uuid4()}\t\\N\n"
            )
            if len(buffer) >= 10_000:
                fh.write("".join(buffer))
                buffer.clear()
        fh.write("".join(buffer))
    return annotations


def time_ordered_uuid() -> uuid.UUID:
    """Same layout as ``labelhub.core.ids.new_id`` (milliseconds first), as the import uses."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def copy_file(conn: Any, path: Path) -> float:
    """Stream the file into labeling_annotation with COPY and commit; return the seconds."""
    columns = ", ".join(COPY_COLUMNS)
    with path.open("rb") as fh:
        t0 = time.perf_counter()
        with conn.cursor() as cursor:
            with cursor.copy(f"COPY labeling_annotation ({columns}) FROM STDIN") as copy:
                while block := fh.read(1 << 20):
                    copy.write(block)
        conn.commit()
        return time.perf_counter() - t0


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=int, default=1_000_000, help="valid lines (1000000)")
    parser.add_argument("--rows", type=int, default=100_000, help="data rows (100000)")
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="bound on the job's processing, s (3600)"
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the worker's and server's logs"
    )
    parser.add_argument("--setup-child", action="store_true", help=argparse.SUPPRESS)
    args, unknown = parser.parse_known_args(argv)
    if unknown and not args.setup_child:
        out(f"(ignoring arguments for other benchmarks: {' '.join(unknown)})")
    if not 1 <= args.rows <= args.annotations:
        parser.error("need 1 <= --rows <= --annotations")
    return args


def mb(path: Path) -> str:
    return f"{path.stat().st_size / 1024 / 1024:,.1f} MB"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.setup_child:
        return setup_child(args.rows)
    invalid = args.annotations // 100
    out(
        f"bench_imports: {args.annotations:,} annotations on {args.rows:,} data rows "
        f"(+{invalid:,} invalid lines)"
    )
    urls = service_urls()
    if not urls["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        out("bench_imports needs PostgreSQL (DATABASE_URL); scripts/benchmark sets one")
        return 2
    # A plain `kill` must still clean up (finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    import psycopg

    name = f"labelhub_bench_{secrets.token_hex(4)}"
    admin_url = with_path(urls["DATABASE_URL"], "postgres")
    db_url = with_path(urls["DATABASE_URL"], name)
    folder = Path(tempfile.mkdtemp(prefix="labelhub-bench-imports-"))
    worker = server = None
    worker_log = server_log = None
    redis_url = ""
    created = False
    failures: list[str] = []
    try:
        redis_url = with_path(urls["REDIS_URL"], str(empty_redis_db(urls["REDIS_URL"])))
        env = production_env(db_url, redis_url)
        out(f"database              {name} (fresh); redis {redis_url}")
        with Step("1 create database + migrate"):
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            created = True
            run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env, "migrate")
        with Step(f"1 setup ({args.rows:,} rows, batch, API key)"):
            fixture = create_fixture(env, args.rows)

        ndjson = folder / "import.ndjson"
        with Step("2 write NDJSON"):
            lines = write_ndjson(ndjson, args.annotations, args.rows, invalid)
        out(f"NDJSON file           {mb(ndjson)}, {lines:,} lines ({invalid:,} invalid)")

        node = f"bench-{secrets.token_hex(3)}@{socket.gethostname()}"
        port = free_port()
        worker_log = (folder / "worker.log").open("wb")
        server_log = (folder / "server.log").open("wb")
        with Step("3 start worker + server"):
            worker = start_group(
                [
                    CELERY,
                    "-A",
                    "labelhub",
                    "worker",
                    "--loglevel=WARNING",
                    "--concurrency=1",
                    "-n",
                    node,
                ],
                env,
                worker_log,
            )
            server = start_group(
                [
                    PYTHON,
                    "-m",
                    "uvicorn",
                    "labelhub.asgi:application",
                    "--host",
                    HOST,
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                env,
                server_log,
            )
            wait_until_listening(server, port)
            wait_until_worker_ready(worker, redis_url, node)
        out(f"worker                celery pid {worker.pid} ({node}, concurrency 1)")
        out(f"server                uvicorn pid {server.pid} on {HOST}:{port} (production)")

        trees = [TreePeak("worker peak RSS", worker.pid), TreePeak("server peak RSS", server.pid)]
        sampler = MemorySampler(trees)
        sampler.start()
        with Step("4 import (POST + processing)"):
            try:
                run = run_import(port, fixture, ndjson, "bench import", args.timeout)
            finally:
                sampler.stop()
        job = run.job
        if run.status != 202:
            failures.append(f"POST answered {run.status}: {json.dumps(run.answer)[:1000]}")
        written = int(job.get("lines_written") or 0)
        rate = written / run.total_seconds if run.total_seconds else 0.0
        out("--- annotation import -------------------------------------------")
        out(f"upload (POST -> 202)  {run.upload_seconds:10.2f} s")
        out(f"processing            {run.processing_seconds:10.2f} s (202 -> final state)")
        out(f"end to end            {run.total_seconds:10.2f} s")
        out(f"annotations/second    {rate:10,.0f} end to end (lines_written / end to end)")
        out(f"job state             {job.get('state')}{' (TIMED OUT)' if run.timed_out else ''}")
        for key in (
            "total",
            "processed",
            "lines_read",
            "lines_valid",
            "lines_invalid",
            "lines_written",
            "warnings",
        ):
            out(f"  {key:<20}{job.get(key, '-')!s:>10}")
        out(f"  error_summary       {json.dumps(job.get('error_summary', {}))}")
        if job.get("message"):
            out(f"  message             {job['message']}")
        out(f"  polls               {run.polls:>10}")
        for tree in trees:
            out(tree.line())

        with Step("5 write COPY file"), psycopg.connect(db_url) as conn:
            copy_path = folder / "annotations.copy"
            copy_rows = write_copy_file(copy_path, conn, fixture, args.annotations, args.rows)
        out(f"COPY file             {mb(copy_path)}, {copy_rows:,} rows")
        with psycopg.connect(db_url) as conn:
            with Step("5 raw COPY + commit"):
                copy_seconds = copy_file(conn, copy_path)
            copy_rate = copy_rows / copy_seconds
            with Step("5 delete the COPY rows"):
                deleted = conn.execute(
                    "DELETE FROM labeling_annotation WHERE project_id = %s AND job_id IS NULL",
                    [fixture["project_id"]],
                ).rowcount
                conn.commit()
            in_table = (
                conn.execute(
                    "SELECT count(*) FROM labeling_annotation WHERE job_id = %s", [job["id"]]
                ).fetchone()[0]
                if job.get("id")
                else 0
            )
        if deleted != copy_rows:
            failures.append(f"deleted {deleted} COPY rows, wanted {copy_rows}")
        ratio = rate / copy_rate if copy_rate else 0.0
        out("--- raw COPY baseline -------------------------------------------")
        out(f"raw COPY              {copy_seconds:10.2f} s for {copy_rows:,} rows")
        out(f"raw COPY rows/second  {copy_rate:10,.0f}")
        out(f"ratio import / COPY   {ratio:10.3f}")

        out("--- checks ------------------------------------------------------")
        checks = [
            ("job state finished_with_errors", job.get("state") == "finished_with_errors"),
            (f"lines_written == {args.annotations:,}", written == args.annotations),
            (f"lines_invalid == {invalid:,}", job.get("lines_invalid") == invalid),
            (
                f"annotations of the job in the table == {args.annotations:,} ({in_table:,})",
                in_table == args.annotations,
            ),
        ]
        for text, ok in checks:
            out(f"{'ok  ' if ok else 'FAIL'}  {text}")
            if not ok:
                failures.append(text)
        worker_mb = trees[0].hwm_kib / 1024
        out("--- goals (a miss does not fail the run) ------------------------")
        goals = [
            (f">= {GOAL_RATE:,} annotations/s end to end ({rate:,.0f})", rate >= GOAL_RATE),
            (f"ratio import / COPY >= {GOAL_RATIO} ({ratio:.3f})", ratio >= GOAL_RATIO),
            (
                f"worker peak RSS < {GOAL_WORKER_RSS_MB} MB ({worker_mb:.0f} MB)",
                0 < worker_mb < GOAL_WORKER_RSS_MB,
            ),
        ]
        for text, ok in goals:
            out(f"{'PASS' if ok else 'MISS'}  {text}")
    except BaseException:
        for label, log in (("worker", worker_log), ("server", server_log)):
            if log is not None:
                log.flush()
                text = Path(log.name).read_text(errors="replace")
                if text.strip():
                    sys.stderr.write(f"--- {label} log (end) ---\n{text[-4000:]}\n")
        raise
    finally:
        stop_group(worker)
        stop_group(server)
        for log in (worker_log, server_log):
            if log is not None:
                log.close()
        if worker_log is not None:  # the job's own errors, if any, are in the worker log
            text = Path(worker_log.name).read_text(errors="replace")
            if re.search(r"Traceback|ERROR", text) and not args.keep_logs:
                out(f"--- worker log (last 40 lines) ---\n{''.join(text.splitlines(True)[-40:])}")
        if args.keep_logs and worker_log is not None:
            kept = Path(tempfile.mkdtemp(prefix="labelhub-bench-imports-logs-"))
            for log in (worker_log, server_log):
                shutil.copy(log.name, kept)
            out(f"logs kept in          {kept}")
        shutil.rmtree(folder, ignore_errors=True)
        if created:
            try:
                with psycopg.connect(admin_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001 - cleanup must not hide the figures
                out(f"cleanup: could not drop {name}: {exc!r}")
        if redis_url:
            try:
                flush_redis_db(redis_url)
            except Exception as exc:  # noqa: BLE001
                out(f"cleanup: could not flush {redis_url}: {exc!r}")
    for failure in failures:
        out(f"CHECK FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception:  # setup failure: a distinct exit status
        traceback.print_exc()
        sys.exit(2)
