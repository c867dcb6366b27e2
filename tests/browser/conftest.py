"""Browser-test fixtures: the real ASGI app in a thread, driven by headless Chromium.

The server is ``labelhub.asgi.application`` (HTTP through Django, ``/ws/live/`` through
Channels) served by uvicorn on 127.0.0.1 and a free port, in a background thread of the
test process. It talks to pytest-django's test database, so tests use ``transactional_db``:
their writes are committed and visible to the server's threads. The channel layer is
whatever the settings configure: in-memory (in-process) by default, Redis when REDIS_URL
is set.

Chromium is Debian's (``CHROMIUM_PATH``, default ``/usr/bin/chromium``); Playwright never
downloads a browser here. Without Chromium the tests marked ``browser`` are skipped.

Screenshots go to ``ARTIFACTS_DIR`` (default ``<tmp>/labelhub-artifacts``); a failing
test also leaves one screenshot per open page there, named ``FAILED-...``.

The pages run under the app's real Content-Security-Policy, and any violation a page
reports fails the test that opened it (``support.CspViolations``); a test that provokes
one on purpose takes it with the ``csp_violations`` fixture.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser.support import CspViolations, run_in_thread

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_REASON = "Chromium not found (set CHROMIUM_PATH or apt-get install chromium)"
# Playwright waits this long (ms) for an element or an expectation before failing.
TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    """Path of an executable Chromium (CHROMIUM_PATH, else /usr/bin/chromium), or None."""
    return shutil.which(os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium")


def artifacts_dir() -> Path:
    """Folder for screenshots (ARTIFACTS_DIR, else <tmp>/labelhub-artifacts), created."""
    path = Path(
        os.environ.get("ARTIFACTS_DIR") or Path(tempfile.gettempdir()) / "labelhub-artifacts"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_collection_modifyitems(config, items):
    """Skip browser tests (before any fixture runs) when there is no Chromium."""
    if chromium_path():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


CSP_KEY = pytest.StashKey[CspViolations]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a browser test whose pages reported Content-Security-Policy violations."""
    watch = item.stash.get(CSP_KEY, None)
    try:
        result = yield
    except BaseException as exc:
        # The test failed anyway; a violation may be why (a blocked script did nothing).
        if watch is not None and (seen := watch.take()):
            exc.add_note("Content-Security-Policy violations:\n  " + "\n  ".join(seen))
        raise
    if watch is not None:
        watch.assert_none()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- Event loop guard -----------------------------------------------------------------------


@pytest.fixture(scope="package", autouse=True)
def _allow_orm_beside_playwright() -> Iterator[None]:
    """Let the test thread use the ORM while Playwright's sync API runs its event loop.

    Playwright's sync API keeps an asyncio loop running in the test thread, so Django would
    refuse ORM calls there (SynchronousOnlyOperation): seeding, the checks on the database,
    and the flush after each transactional test. Set for the browser tests only and
    restored after them, so the rest of the suite keeps Django's async-safety check.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# --- The server -------------------------------------------------------------------------------


class AsgiTestServer:
    """uvicorn serving an ASGI app on 127.0.0.1 in a daemon thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))  # the kernel picks a free port; no race
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",  # Django's ASGI handler has no lifespan support
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"asgi-test-server-{self.port}",
            daemon=True,
        )

    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the ASGI test server stopped during startup (see the log)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the ASGI test server did not start within {timeout}s")
            time.sleep(0.02)

    def stop(self, timeout: float = 15.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()


@pytest.fixture(scope="package")
def asgi_server(django_db_setup) -> Iterator[AsgiTestServer]:
    """The real ASGI application (HTTP + websockets) served against the test database.

    Static files are served from the finders, as Django's own live server does (WhiteNoise
    only knows collected files, and tests run with DEBUG off). Everything else, websockets
    included, goes to ``labelhub.asgi.application`` untouched.
    """
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from labelhub.asgi import application

    _count_sockets()
    server = AsgiTestServer(ASGIStaticFilesHandler(application))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_url(asgi_server, transactional_db) -> str:
    """Base URL of the running app; the test's database writes are committed (visible to it)."""
    return asgi_server.url


@pytest.fixture
def demo_data(transactional_db) -> None:
    """The demo tenant: admin@ (Admin of Vision and Text & Documents), manager, labelers.

    Seeded in a thread of its own: the services send live events with ``async_to_sync``,
    which refuses to run in this thread while Playwright's event loop is running in it.
    """
    run_in_thread(call_command, "seed_demo", stdout=io.StringIO())


# --- The browser ------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """Headless Debian Chromium, one per browser-test package run."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:  # only reached when a test outside the `browser` marker asks for it
        pytest.skip(SKIP_REASON)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def csp_violations(request) -> CspViolations:
    """The Content-Security-Policy violations of this test's pages (checked after the test)."""
    watch = CspViolations()
    request.node.stash[CSP_KEY] = watch
    return watch


@pytest.fixture
def new_page(browser, live_url, request, csp_violations) -> Iterator[Callable]:
    """Factory of pages, each in its own browser context (own cookies: one user each).

    ``new_page("admin")`` returns a page whose relative ``goto`` paths resolve against the
    live server. Every context is watched for Content-Security-Policy violations. When the
    test fails, every page is screenshotted as ``FAILED-...png``.
    """
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    contexts = []
    pages = {}

    def make(label: str = "user"):
        context = browser.new_context(
            base_url=live_url, viewport={"width": 1280, "height": 800}, locale="en-US"
        )
        context.set_default_timeout(TIMEOUT_MS)
        csp_violations.watch(context)
        contexts.append(context)
        page = context.new_page()
        pages[label] = page
        return page

    yield make

    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for label, page in pages.items():
            try:
                page.screenshot(
                    path=artifacts_dir() / f"FAILED-{_slug(request.node.name)}-{label}.png",
                    full_page=True,
                )
            except Exception:  # a crashed page cannot be captured; keep the real failure
                pass
    for context in contexts:
        context.close()
    if contexts:
        _wait_for_sockets_closed()


#: sockets the live server has accepted and not yet finished closing (close handlers
#: included); counted in memory: the server runs in this process
_OPEN_SOCKETS = [0]


def _count_sockets() -> None:
    """Count the live server's sockets from accept to the end of their close handlers."""
    from labelhub.core.consumers import LiveConsumer

    if getattr(LiveConsumer, "_counted_by_tests", False):
        return
    connect, disconnect = LiveConsumer.connect, LiveConsumer.disconnect

    async def counted_connect(self):
        await connect(self)
        if hasattr(self, "user"):  # accepted (an anonymous socket is closed at once)
            self._counted = True
            _OPEN_SOCKETS[0] += 1

    async def counted_disconnect(self, code):
        try:
            await disconnect(self, code)
        finally:
            if getattr(self, "_counted", False):
                self._counted = False
                _OPEN_SOCKETS[0] -= 1

    LiveConsumer.connect, LiveConsumer.disconnect = counted_connect, counted_disconnect
    LiveConsumer._counted_by_tests = True


def _wait_for_sockets_closed(timeout: float = 10.0) -> None:
    """Closing a page closes its socket, and the server then runs the close handlers in
    its own thread (a task page's timer is paused: a write). Wait for them: the database
    flush after the test would otherwise race that write (SQLite's shared cache answers
    "table is locked" and the next test finds tables half emptied). Counted in memory, so
    the wait itself takes no table lock."""
    deadline = time.monotonic() + timeout
    while _OPEN_SOCKETS[0] > 0 and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def screenshot(request) -> Callable:
    """``screenshot(page, "01-overview-vision")`` saves ``<ARTIFACTS_DIR>/<test>--<name>.png``
    (the whole page, or with ``full_page=False`` what the viewport shows)."""
    prefix = _slug(request.node.name.removeprefix("test_"))

    def save(page, name: str, *, full_page: bool = True) -> Path:
        path = artifacts_dir() / f"{prefix}--{name}.png"
        page.screenshot(path=path, full_page=full_page)
        return path

    return save


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")
