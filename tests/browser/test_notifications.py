"""The notification center in a real browser: live badge and toast, then mark all read."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from labelhub.accounts.models import User
from labelhub.notifications.models import Notification
from labelhub.notifications.services import notification_create
from labelhub.workspaces.models import Workspace
from tests.browser.support import ADMIN_EMAIL, expect_live, run_in_thread, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_data")]


def _notify_admin(title: str, url: str) -> None:
    """Create an entry for the demo admin as a background job would (outside the loop)."""
    admin = User.objects.get(email=ADMIN_EMAIL)
    workspace = Workspace.objects.get(name="Vision", tenant__name="Demo Labs")
    notification_create(
        user_id=admin.pk,
        workspace_id=workspace.pk,
        kind=Notification.Kind.IMPORT_FINISHED,
        subject="import_job:browser-1",
        title=title,
        body="120 annotations imported.",
        url=url,
    )


def test_badge_and_toast_update_live_then_mark_all_read(new_page, screenshot):
    # Start from an empty notification center (the demo's imports notified the admin).
    run_in_thread(lambda: Notification.objects.all().delete())
    page = new_page("admin")
    sign_in(page, ADMIN_EMAIL)
    expect(page).to_have_url(re.compile(r"/$"))
    expect_live(page)
    badge = page.get_by_test_id("notification-badge")
    expect(badge).to_be_hidden()

    # A background job finishes: the open page learns it without a reload.
    page.evaluate("window.__notReloaded = true")
    run_in_thread(_notify_admin, "Import “Street cams MAL” finished", "/notifications/")
    expect(badge).to_be_visible()
    expect(badge).to_have_text("1")
    toast = page.get_by_test_id("notification-toast")
    expect(toast).to_have_text("Import “Street cams MAL” finished")
    expect(toast.get_by_role("link")).to_have_attribute("href", "/notifications/")
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "01-live-badge-and-toast")

    # A second tab of the same session, to see the read event arrive live.
    other_tab = page.context.new_page()
    other_tab.goto("/")
    expect_live(other_tab)
    expect(other_tab.get_by_test_id("notification-badge")).to_have_text("1")

    # The toast links to the entry's url: here the notification center itself.
    toast.get_by_role("link").click()
    expect(page.locator("main h1")).to_have_text("Notifications")
    table = page.get_by_test_id("notifications-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr.unread .notification-title")).to_have_text(
        "Import “Street cams MAL” finished"
    )
    expect(badge).to_have_text("1")
    screenshot(page, "02-notification-center-unread")

    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("#messages .message")).to_have_text(["Marked 1 notification read."])
    expect(table.locator("tbody tr.read")).to_have_count(1)
    expect(badge).to_be_hidden()
    screenshot(page, "03-all-read")
    # The other tab was not reloaded: the notification.read event hid its badge.
    expect(other_tab.get_by_test_id("notification-badge")).to_be_hidden()
    expect(other_tab.get_by_test_id("notification-badge")).to_have_text("0")
    assert run_in_thread(lambda: Notification.objects.filter(read_at__isnull=True).count()) == 0
