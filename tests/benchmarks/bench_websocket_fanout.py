"""Benchmark: fan one live event out to many websocket clients of a production server.

Run on demand (never part of the test run; see tests/benchmarks/README.md)::

    .venv/bin/python tests/benchmarks/bench_websocket_fanout.py [--clients 1000] [--users 10]

What it does:

1. Uses DATABASE_URL / REDIS_URL from the environment, or starts ``scripts/services``.
2. Raises ``ulimit -n`` (soft, up to the hard limit) for itself and the server it starts.
3. Migrates, then creates a tenant, a workspace and ``--users`` members through the
   project's services, each with a database session (the cookie a browser would carry).
4. Starts ``uvicorn labelhub.asgi:application`` with ``DJANGO_ENV=production`` on
   127.0.0.1 and a free port.
5. Connects every client at once (asyncio + ``websockets``) with a session cookie and an
   Origin header, waits for ``hello``, subscribes to the workspace group and waits for
   ``subscribed``; then holds the sockets idle for ``--hold`` seconds, as open tabs are.
6. From another thread, pushes ONE event to the workspace group with
   ``labelhub.core.live.send_event_now`` (channels-redis, same settings as the server);
   the event carries its ``time.time()`` send timestamp, so each client's latency is its
   receive time minus that timestamp.
7. Prints the figures (with the peak Redis clients and PostgreSQL backends sampled during
   the run), counts channel-layer errors in the server's log, stops the server and deletes
   the data it created.

Exit status: 0 when every client connected, every client got the event and the server
logged no channel-layer error and no unhandled exception; 1 otherwise; 2 when the setup
itself failed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import re
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import free_port, out, service_urls, wait_until_listening  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
HOST = "127.0.0.1"

# Server stderr lines that mean the channel layer (or the database behind the consumer)
# failed; each pattern is counted separately.
LAYER_ERROR_PATTERNS = {
    "Too many connections": re.compile(r"Too many connections|MaxConnectionsError"),
    "redis TimeoutError (socket_timeout)": re.compile(
        r"redis\.exceptions\.TimeoutError|Timeout reading from"
    ),
    "redis ConnectionError": re.compile(r"redis\.exceptions\.ConnectionError|Connection reset"),
    "channel full / over capacity": re.compile(r"ChannelFull|over capacity"),
    "database pool timeout": re.compile(r"PoolTimeout|couldn't get a connection"),
    "too many clients (PostgreSQL)": re.compile(r"too many clients|remaining connection slots"),
    "too many open files": re.compile(r"Too many open files|EMFILE"),
}
ASGI_EXCEPTION = re.compile(r"Exception in ASGI application|Exception inside application")


# --- environment -------------------------------------------------------------------------


def raise_open_files_limit(wanted: int) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (at most the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def production_env(urls: dict[str, str]) -> dict[str, str]:
    """The environment of the server (and of this process's Django)."""
    env = dict(os.environ)
    # A settings variant can be benchmarked with DJANGO_SETTINGS_MODULE (and PYTHONPATH).
    env.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
    env.update(urls)
    env.update(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


# --- data through Django -----------------------------------------------------------------


@dataclass
class Fixture:
    workspace_id: str
    tenant_id: str
    user_ids: list[str]
    session_keys: list[str]
    cookie_name: str


def create_fixture(users: int) -> Fixture:
    """A tenant, a workspace, ``users`` members and one database session per member."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from labelhub.access.services.members import membership_add
    from labelhub.accounts.models import User
    from labelhub.workspaces.models import Role
    from labelhub.workspaces.services import tenant_create

    run = secrets.token_hex(4)
    members = [
        User.objects.create_user(
            email=f"bench-{run}-{n}@example.com", password=secrets.token_urlsafe(16)
        )
        for n in range(users)
    ]
    tenant, workspace = tenant_create(
        name=f"Bench {run}", workspace_name="Fan-out", admin=members[0]
    )
    for user in members[1:]:
        membership_add(workspace=workspace, user=user, role=Role.LABELER, actor=members[0])
    keys = []
    for user in members:
        session = SessionStore()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return Fixture(
        workspace_id=str(workspace.pk),
        tenant_id=str(tenant.pk),
        user_ids=[str(u.pk) for u in members],
        session_keys=keys,
        cookie_name=settings.SESSION_COOKIE_NAME,
    )


def delete_fixture(fixture: Fixture) -> None:
    from django.contrib.sessions.models import Session

    from labelhub.accounts.models import User
    from labelhub.workspaces.models import Tenant, Workspace

    Session.objects.filter(session_key__in=fixture.session_keys).delete()
    Workspace.objects.filter(tenant_id=fixture.tenant_id).delete()
    Tenant.objects.filter(pk=fixture.tenant_id).delete()
    User.objects.filter(pk__in=fixture.user_ids).delete()


# --- server ------------------------------------------------------------------------------


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{done.stdout}\n{done.stderr}")


def start_server(env: dict[str, str], port: int, log: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "labelhub.asgi:application",
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop() ends it and its children
    )


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=15)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), or NaN where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scan_server_log(text: str) -> tuple[collections.Counter, int]:
    """Count layer/database errors by kind, and the ASGI exceptions, in the server log.

    Only unindented lines count: a traceback's source lines would count an error twice.
    """
    kinds: collections.Counter = collections.Counter()
    exceptions = 0
    for line in text.splitlines():
        if not line or line[0].isspace():
            continue
        for name, pattern in LAYER_ERROR_PATTERNS.items():
            if pattern.search(line):
                kinds[name] += 1
        if ASGI_EXCEPTION.search(line):
            exceptions += 1
    return kinds, exceptions


# --- clients -----------------------------------------------------------------------------


@dataclass
class Client:
    index: int
    ws: Any = None
    error: str | None = None
    latency_ms: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


async def connect_client(
    client: Client,
    uri: str,
    origin: str,
    cookie: str,
    group: str,
    start: asyncio.Event,
    timeout: float,
) -> None:
    """Open the socket, expect hello, subscribe, expect subscribed: all within ``timeout``."""
    from websockets.asyncio.client import connect

    await start.wait()
    try:
        async with asyncio.timeout(timeout):
            client.ws = await connect(
                uri,
                origin=origin,
                additional_headers={"Cookie": cookie},
                proxy=None,
                open_timeout=None,  # the enclosing timeout bounds the whole phase
                ping_interval=None,
                close_timeout=5,
            )
            hello = json.loads(await client.ws.recv())
            if hello.get("type") != "hello":
                raise RuntimeError(f"expected hello, got {hello!r}")
            await client.ws.send(json.dumps({"type": "subscribe", "group": group}))
            for _ in range(10):  # bounded: anything else before "subscribed" is unexpected
                message = json.loads(await client.ws.recv())
                if message.get("type") == "subscribed" and message.get("group") == group:
                    return
                if message.get("type") == "error":
                    raise RuntimeError(f"subscribe refused: {message!r}")
            raise RuntimeError("no 'subscribed' after 10 messages")
    except Exception as exc:
        client.error = describe(exc)
        if client.ws is not None:
            client.ws.transport.abort()
            client.ws = None


def describe(exc: BaseException) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is not None:
        return f"{type(exc).__name__} HTTP {status}"
    if isinstance(exc, OSError) and exc.errno:
        return f"{type(exc).__name__} errno {exc.errno}"
    text = str(exc).splitlines()[0][:80] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def await_event(client: Client, marker: str, timeout: float) -> None:
    """Wait (bounded) for the benchmark event; record its latency on arrival."""
    try:
        async with asyncio.timeout(timeout):
            for _ in range(100):
                raw = await client.ws.recv()
                received = time.time()
                message = json.loads(raw)
                event = message.get("event") or {}
                if message.get("type") == "event" and event.get("marker") == marker:
                    client.latency_ms = (received - event["sent_at"]) * 1000.0
                    return
                client.events.append(message)
    except TimeoutError:
        client.error = f"no event within {timeout:g} s"
    except Exception as exc:  # a drop is counted, never raised
        client.error = f"after subscribe: {describe(exc)}"


def push_event(group: str, marker: str) -> float:
    """Send the one event through channels-redis, as the app's services do (thread-safe)."""
    from labelhub.core.live import send_event_now

    # Warm-up to a group nobody is in: imports the layer backend, so the timed send pays
    # only what every later send_event_now pays (its own event loop and Redis connection).
    send_event_now({"type": "bench.warmup"}, ["bench.warmup"])
    sent_at = time.time()
    send_event_now({"type": "bench.ping", "marker": marker, "sent_at": sent_at}, [group])
    return (time.time() - sent_at) * 1000.0


async def close_all(clients: list[Client]) -> None:
    open_sockets = [c.ws for c in clients if c.ws is not None]
    if not open_sockets:
        return
    try:
        async with asyncio.timeout(30):
            await asyncio.gather(*(ws.close() for ws in open_sockets), return_exceptions=True)
    except TimeoutError:
        for ws in open_sockets:
            ws.transport.abort()


class Sampler(threading.Thread):
    """Samples Redis clients and PostgreSQL backends while the clients run (peaks)."""

    def __init__(self, max_seconds: float) -> None:
        super().__init__(daemon=True)
        self.max_seconds = max_seconds
        self.stopping = threading.Event()
        self.redis_first = self.redis_peak = -1
        self.pg_first = self.pg_peak = -1
        self.failure = ""

    def run(self) -> None:
        import psycopg
        import redis

        try:
            rds = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
            with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as pg:
                deadline = time.monotonic() + self.max_seconds
                while not self.stopping.is_set() and time.monotonic() < deadline:
                    clients = int(rds.info("clients")["connected_clients"])
                    backends = pg.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    ).fetchone()[0]
                    if self.redis_first < 0:
                        self.redis_first, self.pg_first = clients, backends
                    self.redis_peak = max(self.redis_peak, clients)
                    self.pg_peak = max(self.pg_peak, backends)
                    self.stopping.wait(0.05)
            rds.close()
        except Exception as exc:  # figures are optional; the benchmark goes on
            self.failure = describe(exc)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


@dataclass
class Result:
    clients: int
    connected: int
    connect_errors: collections.Counter
    connect_seconds: float
    connect_cpu: tuple[float, float]  # server, benchmark (clients)
    delivery_cpu: tuple[float, float]
    delivered: int
    latencies_ms: list[float]
    send_ms: float
    late_errors: collections.Counter
    sampler: Sampler


async def run_clients(
    args: argparse.Namespace, port: int, server_pid: int, fixture: Fixture
) -> Result:
    uri = f"ws://{HOST}:{port}/ws/live/"
    origin = f"http://{HOST}:{port}"
    group = f"workspace.{fixture.workspace_id}"
    cookies = [f"{fixture.cookie_name}={key}" for key in fixture.session_keys]
    clients = [Client(index=i) for i in range(args.clients)]
    start = asyncio.Event()
    sampler = Sampler(max_seconds=args.timeout + args.hold + args.delivery_timeout + 60)
    try:
        tasks = [
            asyncio.create_task(
                connect_client(
                    c, uri, origin, cookies[c.index % len(cookies)], group, start, args.timeout
                )
            )
            for c in clients
        ]
        sampler.start()
        await asyncio.sleep(0.3)  # every task is now parked on start.wait(); first sample
        t0 = time.perf_counter()
        server_cpu0, own_cpu0 = cpu_seconds(server_pid), time.process_time()
        start.set()
        await asyncio.gather(*tasks)  # each bounded by args.timeout
        connect_seconds = time.perf_counter() - t0
        connect_cpu = (cpu_seconds(server_pid) - server_cpu0, time.process_time() - own_cpu0)

        connected = [c for c in clients if c.ws is not None]
        connect_errors = collections.Counter(c.error for c in clients if c.ws is None)

        if args.hold > 0:  # idle, as real tabs are, across the layer's blocking reads
            await asyncio.sleep(args.hold)
        for c in connected:
            if c.ws.close_code is not None:  # the server dropped it while it sat idle
                c.error = f"closed while idle (code {c.ws.close_code})"
        marker = secrets.token_hex(8)
        waiters = [
            asyncio.create_task(await_event(c, marker, args.delivery_timeout))
            for c in connected
            if c.error is None
        ]
        await asyncio.sleep(0.2)  # let every waiter reach recv()
        # No collector pause in this process while the event travels: it would be the
        # harness's latency (it stalled the send thread by up to ~90 ms), not the server's.
        gc.collect()
        gc.disable()
        send_ms = 0.0
        server_cpu0, own_cpu0 = cpu_seconds(server_pid), time.process_time()
        if connected:
            send_ms = await asyncio.to_thread(push_event, group, marker)
        await asyncio.gather(*waiters)  # each bounded by args.delivery_timeout
        delivery_cpu = (cpu_seconds(server_pid) - server_cpu0, time.process_time() - own_cpu0)
        gc.enable()
        await asyncio.to_thread(sampler.stop)

        latencies = sorted(c.latency_ms for c in connected if c.latency_ms is not None)
        late_errors = collections.Counter(
            c.error for c in connected if c.error and c.latency_ms is None
        )
        return Result(
            clients=args.clients,
            connected=len(connected),
            connect_errors=connect_errors,
            connect_seconds=connect_seconds,
            connect_cpu=connect_cpu,
            delivery_cpu=delivery_cpu,
            delivered=len(latencies),
            latencies_ms=latencies,
            send_ms=send_ms,
            late_errors=late_errors,
            sampler=sampler,
        )
    finally:
        gc.enable()
        sampler.stopping.set()
        await close_all(clients)


# --- report ------------------------------------------------------------------------------


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(pct / 100.0 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def report(result: Result, layer_errors: collections.Counter, exceptions: int) -> bool:
    lat = result.latencies_ms
    out("--- websocket fan-out -------------------------------------------")
    out(f"clients requested     {result.clients}")
    out(f"clients connected     {result.connected}")
    out(f"connect errors        {sum(result.connect_errors.values())}")
    for kind, n in result.connect_errors.most_common(5):
        out(f"    {n:5d} x {kind}")
    out(f"connect phase         {result.connect_seconds:.2f} s (all connected + subscribed)")
    server_cpu, own_cpu = result.connect_cpu
    out(f"  CPU in connect phase  server {server_cpu:.2f} s, clients {own_cpu:.2f} s")
    out(f"send_event_now call   {result.send_ms:.1f} ms (included in the latencies)")
    out(f"deliveries received   {result.delivered} of {result.clients}")
    for kind, n in result.late_errors.most_common(5):
        out(f"    {n:5d} x {kind}")
    if lat:
        out(f"latency min           {lat[0]:.1f} ms")
        out(f"latency p50           {percentile(lat, 50):.1f} ms")
        out(f"latency p99           {percentile(lat, 99):.1f} ms")
        out(f"latency max           {lat[-1]:.1f} ms")
        out(f"latency mean          {statistics.fmean(lat):.1f} ms")
        out(f"spread (max - min)    {lat[-1] - lat[0]:.1f} ms")
    server_cpu, own_cpu = result.delivery_cpu
    out(f"  CPU send->last event  server {server_cpu:.2f} s, clients {own_cpu:.2f} s")
    smp = result.sampler
    if smp.failure:
        out(f"connection counts     not sampled ({smp.failure})")
    else:
        out(f"redis clients         peak {smp.redis_peak} (idle server: {smp.redis_first})")
        out(f"postgres backends     peak {smp.pg_peak} (idle server: {smp.pg_first})")
    out(f"server layer errors   {sum(layer_errors.values())}")
    for kind, n in layer_errors.most_common():
        out(f"    {n:5d} x {kind}")
    out(f"server exceptions     {exceptions} (unhandled in the ASGI app)")
    return (
        result.connected == result.clients
        and result.delivered == result.clients
        and not layer_errors
        and not exceptions
    )


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000, help="websockets (1000)")
    parser.add_argument("--users", type=int, default=10, help="users sharing them (10)")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="per-client connect+subscribe bound, s"
    )
    parser.add_argument(
        "--delivery-timeout", type=float, default=15.0, help="per-client event bound, s"
    )
    parser.add_argument(
        "--hold",
        type=float,
        default=12.0,
        help="idle seconds between subscribe and the event (12: spans two of the channel"
        " layer's 5 s blocking reads)",
    )
    parser.add_argument(
        "--keep-log", action="store_true", help="keep the server log, print its path"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.users <= args.clients <= 20000:
        parser.error("need 1 <= --users <= --clients <= 20000")
    if not (0 <= args.hold <= 600 and 0 < args.timeout <= 600 and 0 < args.delivery_timeout <= 600):
        parser.error("--hold, --timeout and --delivery-timeout: at most 600 s")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    soft, hard = raise_open_files_limit(4 * args.clients + 1024)
    out(f"open files limit      {soft} (hard {hard})")
    if soft != resource.RLIM_INFINITY and soft < 2 * args.clients + 256:
        out("WARNING: the open files limit is too low for this many clients")

    urls = service_urls()
    env = production_env(urls)
    # Same settings here as in the server: the session hash needs the same SECRET_KEY, and
    # send_event_now the same channel layer.
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    # A plain `kill` must still stop the server (it runs in its own process group).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    migrate(env)
    import django

    django.setup()

    port = free_port()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in finally
        prefix="bench-uvicorn-", suffix=".log", delete=False
    )
    fixture = None
    server = None
    try:
        fixture = create_fixture(args.users)
        server = start_server(env, port, log)
        out(f"server                uvicorn pid {server.pid} on {HOST}:{port} (production)")
        wait_until_listening(server, port)
        result = asyncio.run(run_clients(args, port, server.pid, fixture))
        time.sleep(0.5)  # let the server flush whatever it logs about the disconnects
    except BaseException:
        if server is not None:
            stop_server(server)
        log.close()
        sys.stderr.write(Path(log.name).read_text(errors="replace")[-5000:])
        sys.stderr.write(f"\nserver log kept at {log.name}\n")
        raise
    finally:
        if server is not None:
            stop_server(server)
        log.close()
        if fixture is not None:
            try:
                delete_fixture(fixture)
            except Exception as exc:  # cleanup must not hide the figures
                out(f"cleanup failed: {exc!r}")

    server_log = Path(log.name).read_text(errors="replace")
    layer_errors, exceptions = scan_server_log(server_log)
    ok = report(result, layer_errors, exceptions)
    if exceptions and not ok:
        out("--- server log (last 40 lines) ---")
        for line in server_log.splitlines()[-40:]:
            out(line)
    if args.keep_log:
        out(f"server log            {log.name}")
    else:
        Path(log.name).unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:  # setup failure: a distinct exit status
        traceback.print_exc()
        sys.exit(2)
