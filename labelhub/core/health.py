"""Health endpoints for load balancers: /healthz (process) and /readyz (dependencies)."""

from __future__ import annotations

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from labelhub.celery import app


@never_cache
@require_GET
def healthz(request):
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_channel_layer() -> None:
    layer = get_channel_layer()

    async def roundtrip() -> None:
        channel = await layer.new_channel("readyz.")
        await layer.send(channel, {"type": "readyz.ping"})
        message = await layer.receive(channel)
        if message.get("type") != "readyz.ping":
            raise RuntimeError("channel layer returned the wrong message")

    async_to_sync(roundtrip)()


def _check_broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
@require_GET
def readyz(request):
    """Answer 200 when the database, channel layer and broker (when configured) respond."""
    checks = {"database": _check_database, "channel_layer": _check_channel_layer}
    if settings.REDIS_URL:
        checks["broker"] = _check_broker
    results: dict[str, dict] = {}
    healthy = True
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
            results[name] = {"status": "ok"}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            healthy = False
            results[name] = {"status": "error", "error": type(exc).__name__}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results},
        status=200 if healthy else 503,
    )
