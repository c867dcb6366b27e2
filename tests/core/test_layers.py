"""The embedded channel layer: group events written by another process (the worker) reach
the sockets of the process that has them, once; old message files are pruned."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labelhub.core.layers import FolderRelayChannelLayer

ROOT = Path(__file__).resolve().parents[2]
EVENT = {"type": "live.event", "event": {"type": "import_job.progress", "processed": 7}}


async def receive(layer, channel, timeout=5.0):
    return await asyncio.wait_for(layer.receive(channel), timeout)


async def test_a_group_event_from_another_process_reaches_the_sockets_here(tmp_path):
    web = FolderRelayChannelLayer(folder=tmp_path, poll_interval=0.05)
    channel = await web.new_channel()
    await web.group_add("project.p1", channel)  # a socket joins: the relay starts
    try:
        # The worker: a process of its own, with no socket, sending as services do.
        code = (
            "import asyncio, sys;"
            "from labelhub.core.layers import FolderRelayChannelLayer as L;"
            f"asyncio.run(L(folder=sys.argv[1]).group_send('project.p1', {EVENT!r}))"
        )
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, check=True, timeout=60
        )
        assert await receive(web, channel) == EVENT
        await asyncio.sleep(0.3)  # several polls: the file is delivered once
        with pytest.raises(asyncio.TimeoutError):
            await receive(web, channel, timeout=0.3)
    finally:
        await web.close()


async def test_the_sending_process_delivers_its_own_events_once(tmp_path):
    web = FolderRelayChannelLayer(folder=tmp_path, poll_interval=0.05)
    channel = await web.new_channel()
    await web.group_add("user.u1", channel)
    try:
        await web.group_send("user.u1", EVENT)
        assert await receive(web, channel) == EVENT
        assert len(list(tmp_path.glob("*.json"))) == 1  # left for other web processes
        await asyncio.sleep(0.3)
        with pytest.raises(asyncio.TimeoutError):
            await receive(web, channel, timeout=0.3)
    finally:
        await web.close()


async def test_events_sent_before_the_first_socket_joined_are_not_replayed(tmp_path):
    worker = FolderRelayChannelLayer(folder=tmp_path)
    await worker.group_send("user.u1", {"type": "live.event", "event": {"old": True}})
    web = FolderRelayChannelLayer(folder=tmp_path, poll_interval=0.05)
    channel = await web.new_channel()
    await web.group_add("user.u1", channel)
    try:
        await worker.group_send("user.u1", EVENT)
        assert await receive(web, channel) == EVENT
    finally:
        await web.close()


async def test_message_files_older_than_the_expiry_are_pruned(tmp_path):
    old = tmp_path / f"{time.time_ns() - 120 * 10**9:020d}-1x0-1.json"
    old.write_text('{"group": "user.u1", "message": {}}')
    worker = FolderRelayChannelLayer(folder=tmp_path, relay_expiry=60)
    await worker.group_send("user.u1", EVENT)
    assert not old.exists()
    assert len(list(tmp_path.glob("*.json"))) == 1


async def test_without_a_folder_it_is_the_in_memory_layer(tmp_path):
    layer = FolderRelayChannelLayer(folder=None)
    channel = await layer.new_channel()
    await layer.group_add("user.u1", channel)
    await layer.group_send("user.u1", EVENT)
    assert await receive(layer, channel) == EVENT
    assert os.listdir(tmp_path) == []
