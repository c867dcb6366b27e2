"""Helpers shared by the benchmark scripts (``bench_*.py`` import it as ``_support``; the
leading underscore keeps ``scripts/benchmark`` from running it as a benchmark)."""

from __future__ import annotations

import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def out(line: str = "") -> None:
    """Write one report line to stdout (flushed, so the progress shows up live)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def service_urls() -> dict[str, str]:
    """DATABASE_URL and REDIS_URL from the environment, or from ``scripts/services start``."""
    urls = {k: os.environ.get(k, "") for k in ("DATABASE_URL", "REDIS_URL")}
    if all(urls.values()):
        return urls
    out("DATABASE_URL/REDIS_URL not set: starting scripts/services ...")
    done = subprocess.run(
        [str(ROOT / "scripts" / "services"), "start"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    for line in done.stdout.splitlines():
        match = re.fullmatch(r"export (DATABASE_URL|REDIS_URL)=(\S+)", line.strip())
        if match:
            urls[match.group(1)] = match.group(2)
    if not all(urls.values()):
        raise RuntimeError(f"scripts/services printed no URLs:\n{done.stdout}{done.stderr}")
    return urls


def free_port() -> int:
    """A TCP port free on HOST right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until_listening(server: subprocess.Popen, port: int, timeout: float = 60.0) -> None:
    """Wait until ``server`` accepts connections on ``port`` (fail if it exits first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited early with status {server.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server not listening on {HOST}:{port} after {timeout:.0f} s")


def with_path(url: str, path: str) -> str:
    """The URL with another path (a database name, a Redis index)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{path}"))


def empty_redis_db(redis_url: str) -> int:
    """An empty Redis database index (1-15) for this run's broker, cache and channel layer."""
    import redis

    for index in random.sample(range(1, 16), 15):
        client = redis.Redis.from_url(with_path(redis_url, str(index)), socket_timeout=5)
        try:
            if client.dbsize() == 0:
                return index
        finally:
            client.close()
    raise RuntimeError("no empty Redis database index among 1-15")


def flush_redis_db(redis_url: str) -> None:
    """Empty the run's Redis database index."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def production_env(
    database_url: str, redis_url: str, *, secret: str = "", api_rate: str = "1000000/hour"
) -> dict[str, str]:
    """The environment of the server, worker and setup child: production settings on this
    run's database and Redis index (one ``secret`` for all when sessions must carry over)."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DJANGO_ENV": "production",
            "SECRET_KEY": secret or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            # benchmark clients loop without pause: far above a person's pace
            "API_RATE_LIMIT": api_rate,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def run_checked(command: list[str], env: dict[str, str], what: str) -> str:
    """Run a command in the repository; its stdout, or an error with its output."""
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def stop_group(proc: subprocess.Popen | None) -> None:
    """Stop a process group started with ``start_new_session`` (TERM, then KILL)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        proc.wait(timeout=15)
