"""Session authentication for the API (API keys: ``labelhub.access.authentication``)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """Session auth (with CSRF) that answers 401, not 403, to anonymous callers."""

    def authenticate_header(self, request) -> str:
        return 'Session realm="api"'


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describe session auth in the OpenAPI schema (cookie + CSRF header)."""

    target_class = "labelhub.core.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
