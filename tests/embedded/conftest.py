"""The embedded setup as ``scripts/demo`` runs it, in subprocesses: uvicorn and a Celery
worker (filesystem broker) on one SQLite file, seeded with the demo data, in a temporary
folder. Whatever this test process was given (PostgreSQL, Redis, eager tasks) stays out:
these tests are about the setup that needs no server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN = "admin@demo.labelhub.local"

#: variables of the test process that would move the subprocesses off the embedded setup
NOT_PASSED = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "CHANNEL_LAYER_PREFIX",
    "EMAIL_FILE_PATH",
    "LABELHUB_CELERY_WORKER",
    "DJANGO_ENV",
    "DJANGO_SETTINGS_MODULE",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/embedded/" in str(item.fspath):
            item.add_marker(pytest.mark.embedded)


@dataclass
class Site:
    """A running embedded installation."""

    folder: Path
    env: dict[str, str]
    base: str
    key: str
    server: subprocess.Popen
    ids: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, body: bytes | None = None, **headers: str):
        """(status, parsed JSON body) of one API request."""
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {self.key}", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def manage(self, *args: str) -> str:
        """Run ``manage.py`` against this installation; its standard output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start_worker(self) -> subprocess.Popen:
        """Start the Celery worker as the Procfile does; return once it is ready."""
        log = (self.folder / "worker.log").open("w")
        worker = subprocess.Popen(
            [str(BIN / "celery"), "-A", "labelhub", "worker", "--loglevel=INFO"]
            + ["--concurrency=2", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while "ready." not in (self.folder / "worker.log").read_text():
            assert worker.poll() is None and time.monotonic() < deadline, self.worker_log()
            time.sleep(0.2)
        return worker

    def worker_log(self) -> str:
        return (self.folder / "worker.log").read_text()[-4000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Stop a subprocess this fixture started."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="package")
def site(tmp_path_factory) -> Iterator[Site]:
    """The demo's web server over a fresh seeded SQLite file (no worker yet)."""
    folder = tmp_path_factory.mktemp("embedded")
    env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED}
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'labelhub.sqlite3'}",
        BROKER_FOLDER=str(folder / "celery"),
        LIVE_RELAY_FOLDER=str(folder / "live"),
        SECRET_KEY_FILE=str(folder / "secret_key"),
        MEDIA_ROOT=str(folder / "media"),
        DEBUG="0",
        API_RATE_LIMIT="1000000/hour",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    port = _free_port()
    site = Site(folder, env, f"http://127.0.0.1:{port}", "", None)  # type: ignore[arg-type]
    site.manage("migrate", "--noinput", "-v0")
    site.manage("seed_demo")
    site.key = site.manage(
        "create_api_key", "--email", ADMIN, "--workspace", "Vision", "--name", "tests"
    ).strip()
    log = (folder / "server.log").open("w")
    site.server = subprocess.Popen(
        [str(BIN / "uvicorn"), "labelhub.asgi:application", "--host", "127.0.0.1"]
        + ["--port", str(port), "--no-access-log"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{site.base}/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                assert site.server.poll() is None, (folder / "server.log").read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        _, projects = site.call("GET", "/api/v1/projects/")
        site.ids = {p["name"]: p["id"] for p in projects["results"]}
        _, datasets = site.call("GET", "/api/v1/datasets/")
        site.ids.update({d["name"]: d["id"] for d in datasets["results"]})
        yield site
    finally:
        stop(site.server)
