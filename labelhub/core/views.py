"""Error pages (JSON under /api/, HTML elsewhere) and console helpers shared by apps."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static

from labelhub.core.errors import ApplicationError, error_body


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=status)
    return error_page(request, status, message)


def error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """The console's error page (403, 404, ...) with a message for the user."""
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """``/favicon.ico``, which browsers and tools fetch without reading the page: the icon."""
    # Temporary: the static name carries a content hash in production, and browsers keep
    # a permanent redirect for good.
    return HttpResponseRedirect(static("favicon.svg"))


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
