"""The live websocket: one per browser tab, joined to the user's groups."""

from __future__ import annotations

from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from labelhub.core import live
from labelhub.core.parsers import loads
from labelhub.core.slots import with_slot

CLOSE_UNAUTHENTICATED = 4401
#: delivery ids a socket remembers (an event's copies through several groups arrive together)
RECENT_DELIVERIES = 256


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Authenticated socket: joins ``user.<id>``; subscribes to other groups on request.

    Client messages: ``{"type": "subscribe", "group": "workspace.<id>"}`` and
    ``{"type": "unsubscribe", ...}``; ``{"type": "ping"}`` answers ``pong``; other types
    go to the app that registered them (``live.register_message_handler``: the task page's
    ``timer.beat``), whose reply is sent back.
    Server messages: ``{"type": "hello"}``, ``{"type": "subscribed", "group"}``,
    ``{"type": "error", "code", "message"}`` and events ``{"type": "event", "event": {...}}``.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.groups_joined: set[str] = set()
        #: what apps' message handlers keep for this socket (the task page's timers)
        self.state: dict[str, Any] = {}
        self.deliveries: deque[str] = deque(maxlen=RECENT_DELIVERIES)
        await self.accept()
        await self._join(live.user_group(user.pk))
        await self.send_json({"type": "hello", "user": str(user.pk)})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "state", None):
            await with_slot(database_sync_to_async(live.socket_closed), self.user, self.state)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind in {"subscribe", "unsubscribe"}:
            group = content.get("group")
            if not isinstance(group, str) or not await with_slot(self._may_join, group):
                # Same answer for a missing and a forbidden group: isolation holds here too.
                await self.send_json(
                    {
                        "type": "error",
                        "code": "not_found",
                        "message": "No such group.",
                        "group": group,
                    }
                )
                return
            if kind == "subscribe":
                await self._join(group)
                await self.send_json({"type": "subscribed", "group": group})
            else:
                await self.channel_layer.group_discard(group, self.channel_name)
                self.groups_joined.discard(group)
                await self.send_json({"type": "unsubscribed", "group": group})
        elif live.has_handler(kind):
            reply = await with_slot(
                database_sync_to_async(live.handle_message), self.user, content, self.state
            )
            if reply is not None:
                await self.send_json(reply)
        else:
            await self.send_json(
                {"type": "error", "code": "invalid", "message": "Unknown message."}
            )

    async def decode_json(self, text_data: str) -> Any:
        try:  # the strict reader: deep nesting would crash the consumer with RecursionError
            return loads(text_data)
        except ValueError:
            return None

    async def live_event(self, message: dict[str, Any]) -> None:
        delivery = message.get("delivery")
        if delivery is not None:
            # The same event sent to several groups this socket joined: pass it on once.
            if delivery in self.deliveries:
                return
            self.deliveries.append(delivery)
        await self.send_json({"type": "event", "event": message["event"]})

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    @database_sync_to_async
    def _may_join(self, group: str) -> bool:
        return live.may_subscribe(self.user, group)
