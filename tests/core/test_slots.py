"""The per-process cap on database work in flight (labelhub/core/slots.py)."""

import asyncio

from labelhub.core.slots import SlotLimitedHttp, with_slot


class Probe:
    """A fake ASGI app that counts how many calls run at once."""

    def __init__(self):
        self.running = 0
        self.most = 0
        self.done = 0

    async def __call__(self, scope, receive, send):
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0.01)
        self.running -= 1
        self.done += 1


def test_http_requests_wait_for_a_slot_and_all_finish(settings):
    settings.DB_CONCURRENCY = 3
    probe = Probe()
    app = SlotLimitedHttp(probe)

    async def main():
        await asyncio.gather(*(app({"type": "http"}, None, None) for _ in range(30)))

    asyncio.run(main())
    assert (probe.most, probe.done) == (3, 30)


def test_websockets_and_lifespan_are_not_held(settings):
    settings.DB_CONCURRENCY = 1
    probe = Probe()
    app = SlotLimitedHttp(probe)

    async def main():
        await asyncio.gather(*(app({"type": "websocket"}, None, None) for _ in range(5)))

    asyncio.run(main())
    assert (probe.most, probe.done) == (5, 5)


def test_socket_database_calls_share_the_slots(settings):
    settings.DB_CONCURRENCY = 2
    probe = Probe()

    async def main():
        await asyncio.gather(*(with_slot(probe, {}, None, None) for _ in range(9)))

    # a second event loop gets its own semaphore (a semaphore belongs to one loop)
    asyncio.run(main())
    asyncio.run(main())
    assert (probe.most, probe.done) == (2, 18)
