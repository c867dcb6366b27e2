"""A per-process cap on database work in flight under the ASGI server.

Django runs each synchronous request in a thread of its own, and Channels runs each
socket's database calls the same way, so nothing bounds how many wait for one of the
process's pooled connections: past the pool's size they queue inside psycopg's pool and
fail after its timeout (a 500, a dropped socket). Waiting here instead, on an asyncio
semaphore sized like the pool, costs nothing (no thread, no connection) and keeps the
order of arrival. ``DB_CONCURRENCY`` sets the size (default: the pool's maximum).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def db_slots() -> asyncio.Semaphore:
    """This event loop's semaphore (one per loop: a semaphore belongs to its loop)."""
    loop = asyncio.get_running_loop()
    slots = _SLOTS.get(loop)
    if slots is None:
        slots = _SLOTS[loop] = asyncio.Semaphore(settings.DB_CONCURRENCY)
    return slots


async def with_slot(call: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Await ``call(*args)`` holding one slot."""
    async with db_slots():
        return await call(*args)


class SlotLimitedHttp:
    """ASGI middleware: an HTTP request runs (and holds its thread and connection) only
    while it holds a slot; the others wait on the event loop."""

    def __init__(self, app: Callable[..., Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        async with db_slots():
            await self.app(scope, receive, send)
