"""Helpers shared by the browser tests: demo accounts and console actions."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import connections
from playwright.sync_api import Page, expect

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
    """

    def call() -> T:
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
