"""Scale-out: two web processes and two Celery workers on one PostgreSQL and one Redis.

* an event sent by one web process reaches a socket held by the other;
* a job is run exactly once, though two workers listen;
* a worker killed in mid-job (SIGKILL) has its job finished by the other worker (through
  the reaper), with no line handled twice and none lost.

The processes are real (uvicorn, celery), on the test database pytest-django made, with a
queue of their own so CI's worker does not take their jobs.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.db import connection
from django.test import Client

from labelhub.access.services.api_keys import api_key_create
from labelhub.imports.models import ImportJob, ImportReportChunk
from labelhub.labeling.models import Annotation
from labelhub.workspaces.models import Membership, Role
from tests.factories import make_member, make_workspace
from tests.imports.helpers import make_import_project

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent
TREE = {"tools": [{"tool": "rectangle", "name": "Car", "featureSchemaId": "ckcar"}]}
CHUNK = 50  # lines per chunk, so that a job has many chunks to be killed in the middle of


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Cluster:
    """Web and worker processes of one installation, started and stopped by the test."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.queue = f"scale-out-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "DATABASE_POOL_MAX_SIZE": "0",
            "REDIS_URL": settings.REDIS_URL,
            "CHANNEL_LAYER_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
            "CELERY_QUEUE": self.queue,
            "IMPORTS_CHUNK_SIZE": str(CHUNK),
            "IMPORTS_PIPELINE": "false",
            "JOBS_STALE_SECONDS": "3600",  # only the test's reaper call restarts jobs
            "JOBS_REAP_AT_START_SECONDS": "3600",
            "DEBUG": "0",
            "LOG_LEVEL": "INFO",
        }
        self.procs: dict[str, subprocess.Popen] = {}

    def start_web(self, name: str) -> str:
        port = _free_port()
        self._start(
            name,
            [str(VENV / "uvicorn"), "labelhub.asgi:application", "--port", str(port)],
        )
        base = f"http://127.0.0.1:{port}"
        self._wait(lambda: urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200)
        return base

    def start_worker(self, name: str) -> None:
        self._start(
            name,
            [
                str(VENV / "celery"),
                "-A",
                "labelhub",
                "worker",
                "-Q",
                self.queue,
                "-n",
                f"{name}@%h",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                # DEBUG: a job's first start ("job <id> … starts") is logged at that level,
                # and the test reads which worker ran the job from it
                "--loglevel",
                "DEBUG",
            ],
        )
        self._wait(lambda: "ready" in self.log(name))

    def _start(self, name: str, argv: list[str]) -> None:
        log = (self.tmp / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill takes its pool too
        )

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(timeout=30)

    def manage(self, code: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    @staticmethod
    def _wait(ready, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("a process of the cluster did not start")


@pytest.fixture
def cluster(tmp_path):
    cluster = Cluster(tmp_path)
    yield cluster
    cluster.stop()


def _post(base: str, path: str, key: str, body: bytes, content_type: str, method="POST"):
    request = urllib.request.Request(
        base + path,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, json.loads(response.read() or b"{}")


def _import(base: str, key: str, project, keys: list[str], lines: int, name: str) -> str:
    body = "\n".join(
        json.dumps(
            {
                "uuid": f"{name}-{n}",
                "dataRow": {"globalKey": keys[n % len(keys)]},
                "name": "Car",
                "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
            }
        )
        for n in range(lines)
    ).encode()
    status, job = _post(
        base,
        f"/api/v1/projects/{project.pk}/imports/?name={name}&kind=prelabels",
        key,
        body,
        "application/x-ndjson",
    )
    assert status == 202, job
    return job["id"]


def _wait_for(job_id: str, until, timeout: float = 180) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if until(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not get there: {job.state}, {job.processed}")


def _assert_every_line_once(job: ImportJob, lines: int) -> None:
    chunks = (lines + CHUNK - 1) // CHUNK
    assert (job.state, job.lines_read, job.lines_written, job.processed) == (
        "finished",
        lines,
        lines,
        lines,
    )
    offsets = list(ImportReportChunk.objects.filter(job=job).values_list("offset", flat=True))
    assert sorted(offsets) == list(range(chunks))  # each chunk's statuses stored once
    assert Annotation.objects.filter(job=job).count() == lines


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_and_two_workers_share_one_database_and_redis(cluster):
    # Given an installation: a workspace with an admin (API key) and a member, a project
    ws = make_workspace("Scale")
    admin = make_member(ws, Role.ADMIN, email="admin@scale.test")
    member = make_member(ws, Role.LABELER, email="member@scale.test")
    keys = [f"cam-{n}" for n in range(100)]
    project, _ = make_import_project(ws, admin, TREE, keys=keys)
    _, key = api_key_create(workspace=ws, actor=admin, name="scale")
    web_a, web_b = cluster.start_web("web-a"), cluster.start_web("web-b")
    cluster.start_worker("worker-1")
    cluster.start_worker("worker-2")

    # 1. An event sent by web B reaches the member's socket on web A.
    browser = Client()
    browser.force_login(member)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"

    async def listen_then_change_role():
        url = web_a.replace("http", "ws") + "/ws/live/"
        async with websockets.connect(
            url, additional_headers={"Cookie": cookie, "Origin": web_a}
        ) as socket_a:
            assert json.loads(await socket_a.recv())["type"] == "hello"
            membership = await asyncio.to_thread(Membership.objects.get, user=member)
            status, _ = await asyncio.to_thread(
                _post,
                web_b,
                f"/api/v1/members/{membership.pk}/",
                key,
                json.dumps({"role": "reviewer"}).encode(),
                "application/json",
                "PATCH",
            )
            assert status == 200
            return json.loads(await asyncio.wait_for(socket_a.recv(), timeout=20))

    message = asyncio.run(listen_then_change_role())
    assert message["event"]["type"] == "membership.role_changed"
    assert message["event"]["message"] == "Your role in Scale is now Reviewer."

    # 2. A job is run exactly once though both workers listen.
    once = _wait_for(_import(web_a, key, project, keys, 1_000, "once"), lambda j: j.finished_at)
    _assert_every_line_once(once, 1_000)
    assert once.runs == 1
    assert [cluster.log(w).count(str(once.pk)) > 0 for w in ("worker-1", "worker-2")].count(
        True
    ) == 1

    # 3. The worker running a long job is killed; the reaper hands the job to the other.
    lines = 12_000
    job_id = _import(web_b, key, project, keys, lines, "killed")
    halfway = _wait_for(job_id, lambda j: j.processed >= 10 * CHUNK)
    runner = next(w for w in ("worker-1", "worker-2") if job_id in cluster.log(w))
    survivor = "worker-2" if runner == "worker-1" else "worker-1"
    cluster.kill(runner)
    stopped = ImportJob.objects.get(pk=job_id)
    assert stopped.state == "running" and stopped.processed < lines, "killed too late"
    time.sleep(1)
    assert ImportJob.objects.get(pk=job_id).processed == stopped.processed  # nobody runs it
    restarted = cluster.manage(
        "from labelhub.core.jobs import jobs_reap; print(jobs_reap(running_after=0))"
    )
    assert "'restarted': 1" in restarted
    done = _wait_for(job_id, lambda j: j.finished_at)
    _assert_every_line_once(done, lines)
    assert done.runs == 2
    assert job_id in cluster.log(survivor)
    assert halfway.processed >= 10 * CHUNK
