"""Helpers shared by the browser tests: demo accounts and console actions."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from django.db import OperationalError, connections
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, WebError, expect

T = TypeVar("T")

DEMO_PASSWORD = "labelhub-demo-2026"
ADMIN_EMAIL = "admin@demo.labelhub.local"
LABELER_EMAIL = "labeler1@demo.labelhub.local"


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Fill and submit the sign-in form (the caller asserts where it lands)."""
    page.goto("/accounts/sign-in/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def switch_workspace(page: Page, name: str) -> None:
    """Pick a workspace in the header switcher (it submits itself) and wait for the reload."""
    with page.expect_navigation():
        page.get_by_test_id("workspace-switcher").select_option(label=name)
    expect(page.locator("select#workspace-switcher option:checked")).to_have_text(name)


def expect_live(page: Page) -> None:
    """Wait until the page's websocket said hello: the header indicator reads "Live"."""
    indicator = page.locator("#live-indicator")
    expect(indicator).to_have_text("Live")
    expect(indicator).to_have_class("live live-on")


def run_in_thread(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run Django code in a fresh thread (no event loop there) and return its result.

    The thread's database connections are closed before it ends, so none is left open on
    the test database (PostgreSQL refuses to drop a database that has open connections).
    On SQLite the test database is in memory with a shared cache, where a table another
    connection is reading (the live server answering the page) is "locked" at once, with
    no busy timeout: such a call is tried again (the file database LabelHub runs on waits
    instead).
    """

    def call() -> T:
        try:
            for attempt in range(20):
                try:
                    return func(*args, **kwargs)  # services are atomic: a failure wrote nothing
                except OperationalError as exc:
                    if "table is locked" not in str(exc) or attempt == 19:
                        raise
                    time.sleep(0.1)
            raise AssertionError("unreachable")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


# --- Content-Security-Policy violations ---------------------------------------------------------

# Chromium words them "Executing inline script violates the following Content Security
# Policy directive ..." (older versions: "Refused to execute ... because it violates ..."),
# and a refused eval throws an EvalError in the same words.
CSP_MESSAGE = re.compile(r"Content Security Policy", re.IGNORECASE)
CSP_BINDING = "__labelhubCspViolation"
# The page's own report, independent of the console's wording: every document of a watched
# context hands each securitypolicyviolation event to the test process.
CSP_LISTENER = (
    'document.addEventListener("securitypolicyviolation", function (e) {'
    f"  window.{CSP_BINDING}("
    '    e.effectiveDirective + " blocked " + (e.blockedURI || "(inline)") +'
    '    " at " + (e.sourceFile || e.documentURI) + ":" + e.lineNumber);'
    "}, true);"
)


class CspViolations:
    """Content-Security-Policy violations reported in the browser contexts it watches.

    Three channels, so a change in one (Chromium's console wording, say) cannot hide a
    violation: console messages, uncaught page errors (a refused ``eval`` throws), and a
    ``securitypolicyviolation`` listener installed in every document before its scripts.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._contexts: list[BrowserContext] = []

    def watch(self, context: BrowserContext) -> None:
        """Record every violation any page of ``context`` reports from now on."""
        self._contexts.append(context)
        context.on("console", self._on_console)
        context.on("weberror", self._on_weberror)
        context.expose_binding(CSP_BINDING, self._on_event)
        context.add_init_script(CSP_LISTENER)

    def _on_console(self, message: ConsoleMessage) -> None:
        if CSP_MESSAGE.search(message.text):
            self.seen.append(
                f"console on {message.page.url if message.page else '?'}: {message.text}"
            )

    def _on_weberror(self, error: WebError) -> None:
        text = f"{error.error.name}: {error.error.message}"
        if CSP_MESSAGE.search(text):
            self.seen.append(f"page error on {error.page.url if error.page else '?'}: {text}")

    def _on_event(self, source: dict[str, Any], text: str) -> None:
        self.seen.append(f"securitypolicyviolation on {source['frame'].url}: {text}")

    def take(self) -> list[str]:
        """Return the violations reported so far and forget them."""
        # A round trip to the driver delivers the events it already holds.
        for context in self._contexts:
            try:
                context.cookies()
            except Exception:  # a closed context has nothing left to deliver
                pass
        seen, self.seen = self.seen, []
        return seen

    def assert_none(self) -> None:
        """Fail the test if any page reported a violation (and forget them)."""
        if seen := self.take():
            pytest.fail(
                "Content-Security-Policy violations:\n  " + "\n  ".join(seen), pytrace=False
            )
