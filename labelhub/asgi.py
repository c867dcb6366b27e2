"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from labelhub.core.slots import SlotLimitedHttp  # noqa: E402
from labelhub.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # at most DB_CONCURRENCY requests run at once per process; the rest wait unthreaded
        "http": SlotLimitedHttp(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
