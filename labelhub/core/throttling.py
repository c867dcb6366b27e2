"""API rate limiting: per API key (with the key's own rate when it has one), else per user."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle


class ApiRateThrottle(SimpleRateThrottle):
    """Count requests per API key, signed-in user or (anonymous) address.

    A key counts apart from its owner's session, so a busy integration does not starve
    the owner's console; a key's ``rate_limit_per_minute`` replaces the default rate.
    """

    scope = "api"

    def get_cache_key(self, request: Any, view: Any) -> str:
        """Return the counter's key: the API key, else the user, else the address."""
        auth = getattr(request, "auth", None)
        if getattr(auth, "prefix", None) and getattr(auth, "pk", None):
            ident = f"key:{auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Any, view: Any) -> bool:
        """Apply the key's own rate when it carries one, else the configured default."""
        own = getattr(getattr(request, "auth", None), "rate_limit_per_minute", None)
        if own:
            self.num_requests, self.duration = int(own), 60
        return super().allow_request(request, view)
