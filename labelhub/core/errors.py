"""Application errors and the one handler that renders them for the API."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """Base of the errors services raise; carries an HTTP status and a stable code."""

    status_code = 400
    code = "error"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    """Input breaks a rule; `details` maps field names to lists of messages."""

    status_code = 400
    code = "invalid"
    default_message = "The input is not valid."

    def __init__(self, message: str | None = None, *, field: str | None = None, details=None):
        if field and not details:
            details = {field: [message or self.default_message]}
        super().__init__(message, details=details)


class NotFound(ApplicationError):
    """The object is missing or belongs to another workspace (indistinguishable on purpose)."""

    status_code = 404
    code = "not_found"
    default_message = "Not found."


class PermissionDenied(ApplicationError):
    """The actor may see the object but not do this to it."""

    status_code = 403
    code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class Conflict(ApplicationError):
    """The action clashes with the current state (duplicate, last admin, used token)."""

    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class Throttled(ApplicationError):
    """Too many requests of one kind; ``retry_after`` seconds until one fits again."""

    status_code = 429
    code = "throttled"
    default_message = "Too many requests; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int = 60, details=None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, details=details)


_DRF_CODES = {
    drf_exceptions.ParseError: "malformed",
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "throttled",
    drf_exceptions.ValidationError: "invalid",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Build the API's error envelope."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every error as ``{"error": {"code", "message", "details"}}``."""
    if isinstance(exc, ApplicationError):
        # the same Retry-After header as DRF's throttle answers
        wait = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(wait)} if wait else None
        return Response(
            error_body(exc.code, exc.message, exc.details), status=exc.status_code, headers=headers
        )
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if not isinstance(exc, drf_exceptions.APIException):
        return None  # a real bug: Django's 500 handler logs it, no traceback reaches users
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, drf_exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, list):
            detail = {"non_field_errors": detail}
        message = "The input is not valid."
        return Response(error_body(code, message, detail), status=exc.status_code, headers=headers)
    return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)
