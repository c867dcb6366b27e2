"""Helpers shared by the benchmark scripts (``bench_*.py`` import it as ``_support``; the
leading underscore keeps ``scripts/benchmark`` from running it as a benchmark)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

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
