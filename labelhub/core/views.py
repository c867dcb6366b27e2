"""Error pages (JSON under /api/, HTML elsewhere) and console helpers shared by apps."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from labelhub.access.authz import can
from labelhub.accounts import mfa
from labelhub.core.errors import ApplicationError, error_body
from labelhub.workspaces.selectors import current_workspace_for


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request, exception=None):
    """400 page."""
    return _error(request, 400, "bad_request", "The request could not be understood.")


def permission_denied(request, exception=None):
    """403 page."""
    return _error(request, 403, "permission_denied", "You do not have access to this page.")


def page_not_found(request, exception=None):
    """404 page."""
    return _error(request, 404, "not_found", "Not found.")


def server_error(request):
    """500 page; never shows a traceback."""
    return _error(request, 500, "server_error", "Something went wrong on our side.")


def csrf_failure(request, reason=""):
    """403 for a missing or wrong CSRF token."""
    return _error(request, 403, "csrf_failed", "CSRF verification failed; reload and try again.")


class ConsoleView(LoginRequiredMixin):
    """Console page in the current workspace; ``required_permission`` guards it.

    Admin pages (see ``labelhub.accounts.mfa.GUARDED_PERMISSIONS``) also send admins of a
    workspace that requires two-factor authentication to enrol or to enter a code first.
    """

    required_permission: Any = None
    #: what the page's POST actions need when more than ``required_permission`` (the
    #: services check it; here it decides whether the admin 2FA rule applies to them)
    write_permission: Any = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.workspace = current_workspace_for(request)
        if self.workspace is None:
            return render(request, "console/no_workspace.html", status=404)
        if self.required_permission is not None and not can(
            request.user, self.required_permission, self.workspace
        ):
            return _error(request, 403, "permission_denied", "You do not have access to this page.")
        guarded = self.required_permission
        if request.method == "POST" and self.write_permission is not None:
            guarded = self.write_permission
        if guarded in mfa.GUARDED_PERMISSIONS:
            response = mfa.console_redirect(request, self.workspace)
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)


def apply_error_to_form(form, exc: ApplicationError) -> None:
    """Show a service error beside the fields it names, or on top of the form."""
    placed = False
    for field, problems in (exc.details or {}).items():
        if field in form.fields:
            for problem in problems if isinstance(problems, list) else [problems]:
                form.add_error(field, exc.message if problem in {"taken"} else problem)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def flash_error(request, exc: ApplicationError) -> None:
    """Report a service error in the message area."""
    messages.error(request, exc.message)
