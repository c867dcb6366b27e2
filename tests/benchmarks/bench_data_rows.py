"""Benchmark: bulk-create data rows through the API path, on SQLite and on PostgreSQL.

Run on demand (never part of the test run; see tests/benchmarks/README.md)::

    .venv/bin/python tests/benchmarks/bench_data_rows.py [--rows 100000] [--tracemalloc]

Always measures SQLite (a fresh file in a temporary folder); also PostgreSQL when
``DATABASE_URL`` points at one (``scripts/benchmark`` sets it): a fresh database
``labelhub_bench_<random>`` is created on that server and dropped afterwards. Each database
runs in a child process (Django binds its database at start-up), with ``DEBUG=0``, Celery
tasks executed in-process and the in-memory channel layer (``REDIS_URL`` is unset there),
so the job runs the worker's code in the measured process.

Phases, each over ``--rows`` rows (URL, global key, external id, three metadata fields):

1. ``api-json-new``: ``POST /api/v1/datasets/<id>/data-rows/`` with a JSON list, through
   DRF's test client: parse, 202 and the ``DataRowJob`` it creates, run at commit (chunks of
   ``DATA_ROWS_CHUNK_SIZE``: validate, look up keys, ``bulk_create``, counters).
2. ``api-ndjson-upsert``: the same rows again as NDJSON: every row updates by global key
   (``bulk_update``).
3. ``service-create``: ``services.datasets.data_rows_create`` directly (what a later "send
   them as a batch" step calls; it returns the new ids) into a second dataset.

Printed per phase: rows, seconds, rows/second, and memory: the process's peak RSS
(``ru_maxrss``) after the phase, and with ``--tracemalloc`` the peak of Python allocations
during the phase (tracing slows the phase down; the rows/second of such a run are lower).

Exit status: 0 when every phase stored exactly the rows it should, 1 otherwise, 2 when the
setup failed. Extra arguments meant for other benchmarks are ignored.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def make_rows(n: int, prefix: str) -> list[dict]:
    splits = ("train", "valid", "test")
    return [
        {
            "row_data": f"https://cdn.example.com/bench/{prefix}/{i}.jpg",
            "global_key": f"{prefix}-{i:07d}",
            "external_id": f"ext-{i}",
            "metadata": {
                "split": splits[i % 3],
                "tag": "bench",
                "captureDateTime": "2026-01-01T10:00:00Z",
            },
        }
        for i in range(n)
    ]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# --- one database, in a child process ----------------------------------------------------


class Phase:
    def __init__(self, name: str, rows: int, trace: bool):
        self.name, self.rows, self.trace = name, rows, trace

    def __enter__(self):
        if self.trace:
            tracemalloc.start()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.python_peak = None
        if self.trace:
            self.python_peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
            tracemalloc.stop()
        return False

    def report(self, label: str) -> str:
        rate = self.rows / self.seconds if self.seconds else 0
        line = (
            f"{label:10} {self.name:18} {self.rows:>8,} rows {self.seconds:>7.2f} s "
            f"{rate:>9,.0f} rows/s  peak RSS {rss_mb():>6.0f} MB"
        )
        if self.python_peak is not None:
            line += f"  Python peak {self.python_peak:>6.0f} MB"
        return line


def run_one(label: str, rows: int, trace: bool) -> int:
    """Migrate the (fresh) database in DATABASE_URL and run the phases; 0 when all checks pass."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from labelhub.accounts.services import user_create
    from labelhub.celery import app
    from labelhub.projects.models import DataRow, DataRowJob, Dataset
    from labelhub.projects.services import datasets as services
    from labelhub.projects.services.datasets import InputRow
    from labelhub.workspaces.selectors import SESSION_WORKSPACE_KEY
    from labelhub.workspaces.services import tenant_create

    app.conf.task_always_eager = True
    call_command("migrate", verbosity=0)
    admin = user_create(email="bench@example.com", password=secrets.token_urlsafe(16), name="B")
    _, workspace = tenant_create(name="Bench", workspace_name="Bench", admin=admin)
    first = services.dataset_create(workspace=workspace, actor=admin, name="Bench A")
    second = services.dataset_create(workspace=workspace, actor=admin, name="Bench B")
    client = APIClient()
    client.force_login(admin)
    session = client.session
    session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
    session.save()
    url = f"/api/v1/datasets/{first.pk}/data-rows/?media_type=image"
    failures = []

    body = json.dumps(make_rows(rows, "a")).encode()
    with Phase("api-json-new", rows, trace) as phase:
        r = client.post(url, body, content_type="application/json")
    out(phase.report(label))
    job = DataRowJob.objects.get(pk=r.json()["job"]) if r.status_code == 202 else None
    if job is None or (job.state, job.created, job.updated) != ("finished", rows, 0):
        failures.append(f"api-json-new: {r.status_code} {job and (job.state, job.created)}")

    ndjson = "\n".join(json.dumps(row) for row in make_rows(rows, "a")).encode()
    del body
    with Phase("api-ndjson-upsert", rows, trace) as phase:
        r = client.post(url, ndjson, content_type="application/x-ndjson")
    out(phase.report(label))
    job = DataRowJob.objects.get(pk=r.json()["job"]) if r.status_code == 202 else None
    if job is None or (job.state, job.created, job.updated) != ("finished", 0, rows):
        failures.append(f"api-ndjson-upsert: {r.status_code} {job and (job.state, job.updated)}")
    del ndjson

    input_rows = [
        InputRow(i, {**row, "media_type": "image"})
        for i, row in enumerate(make_rows(rows, "b"), start=1)
    ]
    with Phase("service-create", rows, trace) as phase:
        result = services.data_rows_create(
            workspace=workspace, actor=admin, dataset=second, rows=input_rows
        )
    out(phase.report(label))
    if (result.created, len(result.ids), result.errors) != (rows, rows, []):
        failures.append(f"service-create: {result.created} created, {len(result.errors)} errors")

    # Send the 100,000 rows of the first dataset to a project as one batch, through the
    # API (one request; tasks are bulk-inserted).
    from labelhub.labeling.models import Task
    from labelhub.projects.services.projects import project_create

    project = project_create(workspace=workspace, actor=admin, name="Bench", media_type="image")
    batch_url = f"/api/v1/projects/{project.pk}/batches/"
    with Phase("api-batch", rows, trace) as phase:
        r = client.post(
            batch_url,
            {"name": "All", "dataset": {"dataset": str(first.pk), "sample": "all"}},
            format="json",
        )
    out(phase.report(label))
    tasks = Task.objects.filter(project=project).count()
    if (r.status_code, r.json().get("added"), tasks) != (201, rows, rows):
        failures.append(f"api-batch: {r.status_code} {r.content[:200]!r}, {tasks} tasks")

    counts = {
        d.name: (d.row_count, DataRow.objects.filter(dataset=d).count())
        for d in Dataset.objects.filter(pk__in=[first.pk, second.pk])
    }
    if counts != {"Bench A": (rows, rows), "Bench B": (rows, rows)}:
        failures.append(f"row counts: {counts}")
    for failure in failures:
        out(f"{label:10} CHECK FAILED: {failure}")
    return 1 if failures else 0


# --- the parent: a fresh database per engine ----------------------------------------------


def child(label: str, database_url: str, args: argparse.Namespace) -> int:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(
        {
            "DATABASE_URL": database_url,
            "DATABASE_POOL_MAX_SIZE": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    command = [sys.executable, __file__, "--child", label, "--rows", str(args.rows)]
    if args.tracemalloc:
        command.append("--tracemalloc")
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def run_postgres(args: argparse.Namespace) -> int:
    import psycopg

    base = os.environ["DATABASE_URL"]
    name = f"labelhub_bench_{secrets.token_hex(4)}"
    admin_url = with_database(base, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        return child("postgresql", with_database(base, name), args)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows per phase (100000)")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python allocations (slower)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, unknown = parser.parse_known_args(argv)
    if unknown and not args.child:
        out(f"(ignoring arguments for other benchmarks: {' '.join(unknown)})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return run_one(args.child, args.rows, args.tracemalloc)
    out(f"bench_data_rows: {args.rows:,} rows per phase")
    status = 0
    try:
        with tempfile.TemporaryDirectory(prefix="labelhub-bench-") as folder:
            status |= child("sqlite", f"sqlite:///{folder}/bench.sqlite3", args)
        if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
            status |= run_postgres(args)
        else:
            out(
                "postgresql: skipped (DATABASE_URL is not a PostgreSQL URL; scripts/benchmark sets one)"
            )
    except Exception as exc:  # noqa: BLE001 - report the setup failure and exit 2
        out(f"setup failed: {exc!r}")
        return 2
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
