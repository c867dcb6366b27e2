"""Console page of the notification center: the signed-in user's entries."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from labelhub.access.console import ConsoleView
from labelhub.notifications import selectors, services
from labelhub.notifications.links import safe_link

PAGE_SIZE = 50


class NotificationsView(ConsoleView, View):
    """The user's notifications, newest first; mark one or all read.

    Entries belong to the user, not to the current workspace, so the page needs no
    workspace (and no permission beyond being signed in).
    """

    required_permissions = {"GET": None, "POST": None}
    workspace_optional = True

    def get(self, request):
        unread_only = request.GET.get("unread") == "1"
        entries = selectors.notification_list(request.user, unread_only=unread_only)
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
        for entry in page:
            entry.link = safe_link(entry.url)
        return render(
            request,
            "notifications/list.html",
            {"page": page, "unread_only": unread_only},
        )

    def post(self, request):
        action = request.POST.get("action")
        if action == "read":
            services.notification_mark_read(user=request.user, ids=request.POST.getlist("id"))
        elif action == "read_all":
            changed = services.notification_mark_read(user=request.user)
            messages.success(
                request, f"Marked {changed} notification{'' if changed == 1 else 's'} read."
            )
        else:
            messages.error(request, "Unknown action.")
        target = reverse("console:notifications")
        if request.POST.get("unread") == "1":
            target += "?unread=1"
        return redirect(target)
