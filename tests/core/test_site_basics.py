"""What every page and every start of the demo meets: the favicon, and start-up output
without noise (kombu's "No hostname was supplied", daphne's HTTP/2 notice, uvicorn's
lifespan notice, Django's log lines printed twice)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_favicon_ico_is_served():
    client = Client()
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [] or response.redirect_chain[0][1] in (301, 302)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.lstrip().startswith(b"<svg")


@pytest.mark.django_db
def test_pages_link_the_icon(client):
    html = client.get("/accounts/sign-in/", follow=True).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html


def test_embedded_broker_url_names_its_host():
    """kombu warns "No hostname was supplied" (once per process and connection) for a URL
    without a host; the filesystem transport ignores the host, so naming one is free."""
    if os.environ.get("REDIS_URL"):
        pytest.skip("the embedded broker only")
    from kombu import Connection

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("kombu.connection").addHandler(handler)
    try:
        Connection(settings.CELERY_BROKER_URL)._info()
    finally:
        logging.getLogger("kombu.connection").removeHandler(handler)
    assert [r.getMessage() for r in records] == []


def _run_python(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DEBUG"] = "1"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_django_log_lines_are_printed_once():
    """Django's own console handler and the root's both printed ``django.*`` records
    (runserver's "Watching for file changes with StatReloader" appeared twice)."""
    done = _run_python(
        "import django, logging; django.setup();"
        "logging.getLogger('django.utils.autoreload').info('watching once')"
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("watching once") == 1


def test_daphne_start_up_notices_are_quiet():
    """runserver serves through daphne, which logs at INFO that HTTP/2 needs Twisted extras
    LabelHub does not use, and each endpoint it configures; runserver says where it listens."""
    done = _run_python(
        "import django, logging; django.setup();"
        "logging.getLogger('daphne.server').info('HTTP/2 support not enabled');"
        "logging.getLogger('daphne.server').warning('a real problem')"
    )
    assert done.returncode == 0, done.stderr
    assert "HTTP/2" not in done.stderr
    assert "a real problem" in done.stderr


def test_procfile_web_turns_lifespan_off():
    """Django's ASGI handler has no lifespan support; uvicorn's probe for it printed
    "ASGI 'lifespan' protocol appears unsupported." at every start."""
    web = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    assert "--lifespan off" in web
