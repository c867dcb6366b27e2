"""Authentication classes for the API."""

from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """Session auth (with CSRF) that answers 401, not 403, to anonymous callers."""

    def authenticate_header(self, request) -> str:
        return 'Session realm="api"'
