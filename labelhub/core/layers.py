"""A channel layer for the embedded setup: sockets in memory, group events across processes
through a folder.

Without Redis the websockets live in the web process, in channels' own in-memory layer,
but the events about jobs are sent by the Celery worker, another process. This layer is
the in-memory one plus a relay: every ``group_send`` is also written as a small file to
a folder (``LIVE_RELAY_FOLDER``, ``var/live/``), and a process that has sockets polls the
folder and delivers the files other processes wrote to its own groups. Delivery stays
at-most-once, as with Redis (clients refetch state on reconnect); a file lives
``relay_expiry`` seconds. Only group messages cross processes: nothing here sends to one
channel of another process. ADR 0009 says why not a SQLite-backed layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from channels.layers import InMemoryChannelLayer

logger = logging.getLogger(__name__)

_SUFFIX = ".json"


class FolderRelayChannelLayer(InMemoryChannelLayer):
    """channels' in-memory layer whose group messages also reach other processes."""

    def __init__(
        self,
        folder: str | os.PathLike | None = None,
        relay_expiry: float = 60,
        poll_interval: float = 0.2,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.folder = Path(folder) if folder else None
        self.relay_expiry = relay_expiry
        self.poll_interval = poll_interval
        # Names this instance's files, so its reader skips what it delivered itself.
        self.origin = f"{os.getpid()}x{uuid.uuid4().hex[:8]}"
        self._sequence = 0
        self._pruned_at = 0.0
        self._reader: asyncio.Task | None = None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)

    # --- sending ---------------------------------------------------------------------------
    async def group_send(self, group: str, message: dict) -> None:
        """Deliver to this process's members, and leave the message for other processes."""
        await super().group_send(group, message)
        if self.folder is None:
            return
        try:
            data = orjson.dumps({"group": group, "message": message})
        except TypeError:
            logger.warning("live event to %s not relayed: not JSON", group)
            return
        self._sequence += 1
        name = f"{time.time_ns():020d}-{self.origin}-{self._sequence}{_SUFFIX}"
        try:
            await asyncio.to_thread(self._publish, name, data)
        except OSError:
            logger.warning("live event to %s not relayed", group, exc_info=True)

    def _publish(self, name: str, data: bytes) -> None:
        """Write a message file whole (a reader never sees half a file), prune old ones."""
        folder = self.folder
        assert folder is not None
        tmp = folder / f".{name}"
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)
        now = time.monotonic()
        if now - self._pruned_at > 5:  # a process without readers must not fill the folder
            self._pruned_at = now
            self._prune(time.time_ns())

    def _prune(self, now_ns: int) -> None:
        assert self.folder is not None
        limit = now_ns - int(self.relay_expiry * 1e9)
        with os.scandir(self.folder) as entries:
            for entry in entries:
                stamp = _stamp(entry.name.lstrip("."))
                if stamp is not None and stamp < limit:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)

    # --- receiving ---------------------------------------------------------------------------
    async def group_add(self, group: str, channel: str) -> None:
        """Join as usual; the first member in this event loop starts the relay reader."""
        await super().group_add(group, channel)
        self.start_relay()

    def start_relay(self) -> None:
        """Poll the folder from the running event loop (once per loop)."""
        if self.folder is None:
            return
        loop = asyncio.get_running_loop()
        reader = self._reader
        if reader is not None and not reader.done() and reader.get_loop() is loop:
            return
        self._reader = loop.create_task(self._relay(time.time_ns()), name="live-relay")

    async def _relay(self, since_ns: int) -> None:
        """Deliver messages other processes wrote since ``since_ns``, until cancelled."""
        seen: set[str] = set()
        while True:
            try:
                fresh, present = await asyncio.to_thread(self._scan, since_ns, seen)
                seen &= present  # forget files that are gone
                for name, group, message in fresh:
                    seen.add(name)
                    await super().group_send(group, message)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bad file or a full disk must not stop the relay
                logger.warning("live relay: reading %s failed", self.folder, exc_info=True)
            await asyncio.sleep(self.poll_interval)

    def _scan(self, since_ns: int, seen: set[str]) -> tuple[list[tuple[str, str, dict]], set]:
        """Messages not yet delivered, oldest first, and the names present."""
        assert self.folder is not None
        present: set[str] = set()
        fresh: list[tuple[str, str, dict]] = []
        with os.scandir(self.folder) as entries:
            names = sorted(e.name for e in entries if not e.name.startswith("."))
        for name in names:
            stamp = _stamp(name)
            if stamp is None or stamp < since_ns:
                continue
            present.add(name)
            if name in seen or f"-{self.origin}-" in name:
                continue
            try:
                data = orjson.loads((self.folder / name).read_bytes())
            except (OSError, orjson.JSONDecodeError):
                continue  # pruned meanwhile, or not ours
            if isinstance(data, dict) and isinstance(data.get("group"), str):
                fresh.append((name, data["group"], data.get("message") or {}))
        return fresh, present

    async def close(self) -> None:
        """Stop the relay reader."""
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


def _stamp(name: str) -> int | None:
    """The nanosecond time a message file name starts with, or None for other files."""
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() and name.endswith(_SUFFIX) else None
