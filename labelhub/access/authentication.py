"""API-key authentication: ``Authorization: Bearer lh_…``."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from labelhub.access.services.api_keys import api_key_authenticate


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer lh_…``: the request acts as the key (its owner, restricted)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        key = api_key_authenticate(raw.strip(), ip_address=request.META.get("REMOTE_ADDR"))
        if key is None:
            raise exceptions.AuthenticationFailed("The API key is invalid, revoked or expired.")
        return key.owner, key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describe API-key auth in the OpenAPI schema."""

    target_class = "labelhub.access.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "API key: lh_…"}
