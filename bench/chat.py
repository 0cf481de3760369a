"""Chat benchmark: post→delivery latency and messages/s over WebSocket, SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import platform
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import websockets
from rich.console import Console
from rich.table import Table

import _profile
from _profile import Profile

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT_DIR = HERE / "out"
TARGET_RATE = 500.0  # messages/s, the chat-nets issue
TARGET_P99_MS = 50.0
POST_TIMEOUT = 10.0  # seconds for the server to answer a post
EXPLODED_P99_MS = 1000.0  # a step whose p99 passes this is no longer "sustained"
KEEP_UP = 0.95  # achieved/offered for a step to count as keeping up
OTHER_QUIET = 0.3  # cores used by other jobs on the machine below which it counts as quiet
OTHER_REPEAT = 0.5  # a step during which other jobs used more is measured once more
ADMIN_PASSWORD = "chat bench admin password"  # noqa: S105 - a throwaway local server
USER_PASSWORD = "chat bench user password"  # noqa: S105
NET_LABEL = "SECRET//REL TO USA, JPN"
SHARED_MACHINE = (
    "the server, PostgreSQL and the load generator (the WebSocket clients and HTTP posters, one "
    "process) share this machine's cores, as do other jobs running on it (column 'other'): "
    "figures are a lower bound for a dedicated server"
)
# Ordinary staff traffic (nothing the spillage guard should flag at SECRET//REL TO USA, JPN).
TEXTS = (
    "Logistics sync at the usual place",
    "Movement table for the next serial is posted on the shared drive",
    "Liaison officers meet at the J4 office after lunch",
    "Fuel report received, no change to the plan",
    "Weather brief moved to the afternoon slot",
    "Interpreter support confirmed for the planning conference",
    "Vehicle maintenance window starts tomorrow morning",
    "Please review the draft agenda before the coordination meeting",
    "日米調整会議の資料を共有フォルダに置きました",
    "補給状況の報告を受領、計画に変更なし",
)
console = Console(width=None if sys.stdout.isatty() else 200)


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    backends: tuple[str, ...]
    clients: int
    nets: int
    posters: int
    rates: tuple[float, ...]
    search: tuple[float, ...]
    refine: int
    step_seconds: float
    drain_seconds: float
    connections: int
    pg_url: str
    profile: str  # auto | always | never
    deflate: bool
    max_minutes: float
    quiet_wait: float
    quick: bool


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke run (40 clients)")
    parser.add_argument(
        "--backends", default="sqlite,postgres", help="comma list: sqlite, postgres"
    )
    parser.add_argument("--clients", type=int, help="WebSocket clients (200)")
    parser.add_argument("--nets", type=int, help="nets, clients spread evenly (20)")
    parser.add_argument("--posters", type=int, help="posting accounts, members of every net (8)")
    parser.add_argument("--rates", help="fixed offered rates, messages/s (100,250,500)")
    parser.add_argument(
        "--search", help="rates tried above the fixed ones while sustained (750,1000,1500,...)"
    )
    parser.add_argument("--step-seconds", type=float, help="seconds per rate step (15)")
    parser.add_argument(
        "--connections",
        type=int,
        default=64,
        help="HTTP keep-alive connections for the posts (64: with 16, a post could go only when "
        "one of 16 earlier ones had been answered, which capped the posts in flight, and so the "
        "server's group-commit batches, at 16 - a limit of the load generator, not of many "
        "people posting from their own browsers)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("KYODO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="maintenance URL: the bench creates (and drops) its own database there",
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="py-spy the server during an extra step at the target rate (auto: if missed)",
    )
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="clients do not offer permessage-deflate (browsers do; default offers it)",
    )
    parser.add_argument("--max-minutes", type=float, help="hard limit for the whole run")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=300.0,
        help="seconds per backend the bench may wait for other jobs on the machine to calm down "
        "before a step (0: never wait)",
    )
    args = parser.parse_args(argv)

    def floats(text: str | None, default: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(float(x) for x in text.split(",") if x.strip()) if text else default

    quick = bool(args.quick)
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    for backend in backends:
        if backend not in ("sqlite", "postgres"):
            parser.error(f"unknown backend {backend!r}")
    clients = args.clients or (40 if quick else 200)
    nets = args.nets or (4 if quick else 20)
    if clients % nets:
        parser.error("--clients must be a multiple of --nets")
    return Config(
        backends=backends,
        clients=clients,
        nets=nets,
        posters=args.posters or (2 if quick else 8),
        rates=floats(args.rates, (50.0, 100.0) if quick else (100.0, 250.0, 500.0)),
        search=floats(args.search, () if quick else (750.0, 1000.0, 1500.0, 2000.0, 3000.0)),
        refine=0 if quick else 2,
        step_seconds=args.step_seconds or (4.0 if quick else 15.0),
        drain_seconds=3.0 if quick else 5.0,
        connections=args.connections,
        pg_url=args.pg_url,
        profile="never" if quick and args.profile == "auto" else args.profile,
        deflate=not args.no_deflate,
        max_minutes=args.max_minutes or (6.0 if quick else 50.0),
        quiet_wait=args.quiet_wait,
        quick=quick,
    )


# ---------------------------------------------------------------------------------------------
# The server process and its database
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the server gets SIGTERM if the bench dies without cleaning up (e.g. SIGKILL)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}
    # Only failed logins count against an address; set high so the set-up is never throttled.
    env["KYODO_LOGIN_MAX_FAILURES_PER_ADDRESS"] = "1000000"
    return env


class Server:
    """`kyodo init` then `kyodo serve` on a free loopback port; `stop` waits for it to exit."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[str] | None = None

    def start(self) -> None:
        init = subprocess.run(  # noqa: S603 - our own interpreter and CLI
            [
                sys.executable,
                "-m",
                "kyodo",
                "init",
                "--no-input",
                "--admin-password",
                ADMIN_PASSWORD,
                "--database-url",
                self.database_url,
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            env=_server_env(),
            stdin=subprocess.DEVNULL,
        )
        if init.returncode != 0:
            raise RuntimeError(f"kyodo init failed: {init.stderr[-2000:]}")
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "kyodo",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
            ],
            stdout=self._log,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            env=_server_env(),
            start_new_session=True,  # Ctrl-C reaches the bench only; the bench stops the server
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.log_tail()}")
            time.sleep(0.2)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_tail(self, chars: int = 3000) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()[-chars:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.asynccontextmanager
async def database(backend: str, cfg: Config) -> AsyncIterator[str]:
    """A fresh database for one run: a SQLite file in a temp dir, or a new PostgreSQL database."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="kyodo-chat-bench-") as folder:
            yield f"sqlite+aiosqlite:///{folder}/kyodo.db"
        return
    import asyncpg

    name = f"kyodo_bench_{secrets.token_hex(5)}"
    conn = await asyncpg.connect(cfg.pg_url, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    parts = urlsplit(cfg.pg_url)
    try:
        yield f"postgresql+asyncpg://{parts.netloc}/{name}"
    finally:
        conn = await asyncpg.connect(cfg.pg_url, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


# ---------------------------------------------------------------------------------------------
# CPU accounting from /proc (Linux; zeros elsewhere)
# ---------------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process (backends come and go: compare per pid)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if "(postgres)" in stat:
            found[int(entry.name)] = _proc_cpu(int(entry.name))
    return found


def _machine_cpu() -> tuple[float, float, float]:
    """(busy, total, steal) seconds of all cores since boot; steal is time the host gave this
    machine's cores to someone else while they had work (a slow period shows there)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    steal = values[7] if len(values) > 7 else 0
    return (total - idle) / CLK_TCK, total / CLK_TCK, steal / CLK_TCK


@dataclass
class CpuSnapshot:
    wall: float
    server: float
    bench: float
    db: dict[int, float]
    busy: float
    steal: float

    @classmethod
    def take(cls, server_pid: int, postgres: bool) -> CpuSnapshot:
        busy, _, steal = _machine_cpu()
        return cls(
            time.perf_counter(),
            _proc_cpu(server_pid),
            time.process_time(),
            _postgres_cpu() if postgres else {},
            busy,
            steal,
        )

    def cores_since(self, before: CpuSnapshot) -> dict[str, float]:
        wall = max(self.wall - before.wall, 1e-9)
        cores = {
            "server": (self.server - before.server) / wall,
            "bench": (self.bench - before.bench) / wall,
            "db": sum(max(0.0, t - before.db.get(pid, 0.0)) for pid, t in self.db.items()) / wall,
            "machine": (self.busy - before.busy) / wall,
        }
        cores["steal"] = (self.steal - before.steal) / wall
        cores["other"] = max(
            0.0,
            cores["machine"] - cores["steal"] - cores["server"] - cores["db"] - cores["bench"],
        )
        cores["server_seconds"] = self.server - before.server
        return cores


# ---------------------------------------------------------------------------------------------
# Set-up through the HTTP API
# ---------------------------------------------------------------------------------------------


@dataclass
class Person:
    username: str
    nation: str
    clearance: str
    id: str = ""
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    clients: list[Person]
    posters: list[Person]
    nets: list[str]
    client_nets: dict[str, str]  # username -> net id
    setup_seconds: dict[str, float] = field(default_factory=dict)


async def _login_token(url: str, username: str, password: str) -> str:
    """Log in (a session cookie), then mint an API token with the CSRF header."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        login.raise_for_status()
        token = await http.post(
            "/api/v1/auth/tokens",
            json={"name": "chat-bench", "scopes": ["read", "write"]},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        token.raise_for_status()
        value: str = token.json()["token"]
        return value


async def _bounded(limit: int, jobs: list[Awaitable[Any]]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


async def build_world(url: str, cfg: Config) -> World:
    """People, nets and memberships over the real API with an admin bearer token."""
    marks: dict[str, float] = {}
    t = time.perf_counter()
    admin = Person("admin", "USA", "TOP SECRET")
    admin.token = await _login_token(url, "admin", ADMIN_PASSWORD)

    def person(kind: str, i: int) -> Person:
        usa = i % 2 == 0
        return Person(
            f"{kind}-{'usa' if usa else 'jpn'}-{i:03d}",
            "USA" if usa else "JPN",
            "SECRET" if usa else "GOKUHI",
        )

    clients = [person("ws", i) for i in range(cfg.clients)]
    posters = [person("poster", i) for i in range(cfg.posters)]
    async with httpx.AsyncClient(base_url=url, timeout=120, headers=admin.headers) as http:

        async def create(p: Person) -> None:
            made = await http.post(
                "/api/v1/people",
                json={
                    "username": p.username,
                    "name": p.username.replace("-", " ").title(),
                    "nation": p.nation,
                    "clearance": p.clearance,
                    "password": USER_PASSWORD,
                },
            )
            if made.status_code != 201:
                raise RuntimeError(f"creating {p.username}: {made.status_code} {made.text}")
            p.id = made.json()["id"]

        # The server hashes passwords with argon2 (slow by design): a few at a time.
        await _bounded(4, [create(p) for p in clients + posters])
        marks["people"] = time.perf_counter() - t
        t = time.perf_counter()
        nets: list[str] = []
        for n in range(cfg.nets):
            made = await http.post(
                "/api/v1/nets",
                json={
                    "name": f"bench-net-{n:02d}",
                    "purpose": "chat benchmark",
                    "ceiling": NET_LABEL,
                    "default_label": NET_LABEL,
                },
            )
            if made.status_code != 201:
                raise RuntimeError(f"creating a net: {made.status_code} {made.text}")
            nets.append(made.json()["id"])
        client_nets = {p.username: nets[i % cfg.nets] for i, p in enumerate(clients)}

        async def add(net_id: str, p: Person) -> None:
            added = await http.post(f"/api/v1/nets/{net_id}/members", json={"person_id": p.id})
            if added.status_code != 201:
                raise RuntimeError(f"adding {p.username}: {added.status_code} {added.text}")

        memberships = [add(client_nets[p.username], p) for p in clients]
        memberships += [add(net_id, p) for net_id in nets for p in posters]
        await _bounded(8, memberships)
        marks["nets"] = time.perf_counter() - t
    t = time.perf_counter()

    async def token(p: Person) -> None:
        p.token = await _login_token(url, p.username, USER_PASSWORD)

    await _bounded(4, [token(p) for p in clients + posters])
    marks["logins"] = time.perf_counter() - t
    return World(clients, posters, nets, client_nets, marks)


# ---------------------------------------------------------------------------------------------
# WebSocket clients
# ---------------------------------------------------------------------------------------------


def message_text(mid: int) -> str:
    return f"{TEXTS[mid % len(TEXTS)]} (ref {mid})"


def message_id(text: str) -> int:
    return int(text.rsplit("(ref ", 1)[1].rstrip(")"))


class Fleet:
    """The WebSocket clients: each records (message id, receive time) for every delivery."""

    def __init__(self, url: str, world: World, deflate: bool) -> None:
        self.ws_url = url.replace("http://", "ws://") + "/api/v1/stream"
        self.world = world
        self.deflate = deflate
        self.deliveries: list[tuple[int, float]] = []
        self.closes: Counter[str] = Counter()
        self.subscribed = 0
        self.stopping = False
        self.failure = ""
        self._tasks: list[asyncio.Task[None]] = []
        self._all_subscribed = asyncio.Event()

    async def start(self) -> None:
        gate = asyncio.Semaphore(20)  # connect in waves; each connect is authenticated
        for person in self.world.clients:
            self._tasks.append(asyncio.create_task(self._client(person, gate)))
        await asyncio.wait_for(self._all_subscribed.wait(), 180)
        if self.failure:
            raise RuntimeError(self.failure)

    async def stop(self) -> None:
        self.stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _client(self, person: Person, gate: asyncio.Semaphore) -> None:
        after = 0
        expected_net = self.world.client_nets[person.username]
        await gate.acquire()  # the first connect only: reconnects are not gated
        holding = True
        try:
            while not self.stopping:
                try:
                    ws = await websockets.connect(
                        self.ws_url,
                        # The token goes in a subprotocol, never in the URL (which gets logged).
                        subprotocols=[
                            websockets.Subprotocol("kyodo.v1"),
                            websockets.Subprotocol(f"kyodo.token.{person.token}"),
                        ],
                        compression="deflate" if self.deflate else None,
                        open_timeout=60,
                        max_size=2**20,
                    )
                    try:
                        await ws.send(json.dumps({"op": "subscribe", "nets": None, "after": after}))
                        async for raw in ws:
                            now = time.perf_counter()
                            event = json.loads(raw)
                            kind = event.get("type")
                            if kind == "message":
                                after = max(after, event["rev"])
                                if event["kind"] == "posted":
                                    mid = message_id(event["message"]["text"])
                                    self.deliveries.append((mid, now))
                            elif kind == "subscribed":
                                after = max(after, event["rev"])
                                if event["nets"] != [expected_net]:
                                    self.failure = f"{person.username} got nets {event['nets']}"
                                    self._all_subscribed.set()
                                    return
                                if holding:
                                    holding = False
                                    gate.release()
                                    self.subscribed += 1
                                    if self.subscribed == len(self.world.clients):
                                        self._all_subscribed.set()
                    finally:
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(ws.close(), 5)
                except websockets.ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd is not None else "no close frame"
                    self.closes[f"ws {code}"] += 1
                except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
                    self.closes[type(exc).__name__] += 1
                if not self.stopping:
                    await asyncio.sleep(0.2)  # reconnect with the last rev seen: misses nothing
        finally:
            if holding:
                gate.release()


# ---------------------------------------------------------------------------------------------
# One step of open-loop load
# ---------------------------------------------------------------------------------------------


def pct(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass
class Step:
    backend: str
    offered: float
    seconds: float
    posts_ok: int = 0
    post_errors: Counter[str] = field(default_factory=Counter)
    first_error: str = ""
    dropped: int = 0
    achieved: float = 0.0
    delivered: int = 0
    expected: int = 0
    deliveries_per_s: float = 0.0
    lat: dict[str, float] = field(default_factory=dict)  # ms: p50 p95 p99 max
    http: dict[str, float] = field(default_factory=dict)  # ms: p50 p99
    gen_lag_p99: float = 0.0  # ms the generator started a post after its scheduled time
    ws_closes: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    server_ms_per_post: float = float("nan")  # server CPU time per accepted post
    pg_waits: dict[str, float] = field(default_factory=dict)  # mean backends active / on a lock
    quiet_wait: float = 0.0  # seconds spent waiting for other jobs on the machine to calm down
    repeated: bool = False  # measured twice (other jobs were busy the first time); the calmer kept

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.delivered)

    @property
    def errors(self) -> int:
        return (
            sum(self.post_errors.values()) + self.dropped + self.lost + sum(self.ws_closes.values())
        )

    @property
    def keeps_up(self) -> bool:
        return (
            self.achieved >= KEEP_UP * self.offered
            and not self.post_errors
            and not self.dropped
            and self.lost <= 0.001 * max(self.expected, 1)
            and not self.ws_closes
        )

    @property
    def sustained(self) -> bool:
        return self.keeps_up and self.lat.get("p99", float("inf")) < EXPLODED_P99_MS

    @property
    def meets_target(self) -> bool:
        return self.keeps_up and self.lat.get("p99", float("inf")) < TARGET_P99_MS

    def error_text(self) -> str:
        parts = [f"{k}×{v}" for k, v in self.post_errors.most_common()]
        if self.dropped:
            parts.append(f"backlog×{self.dropped}")
        if self.lost:
            parts.append(f"lost×{self.lost}")
        parts += [f"{k}×{v}" for k, v in self.ws_closes.most_common()]
        return ", ".join(parts) if parts else "0"


class PgMonitor:
    """Samples pg_stat_activity of the bench database: backends active, and waiting on a lock
    (the audit chain's pg_advisory_xact_lock serialises every write transaction)."""

    def __init__(self, conn: Any, database: str) -> None:
        self.conn = conn
        self.database = database
        self.result: dict[str, float] = {}

    async def _xacts(self) -> tuple[int, int]:
        row = await self.conn.fetchrow(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1",
            self.database,
        )
        return int(row["xact_commit"]), int(row["xact_rollback"])

    async def sample(self) -> dict[str, float]:
        active = locked = 0
        count = 0
        commits, rollbacks = await self._xacts()
        try:
            while True:
                row = await self.conn.fetchrow(
                    "SELECT count(*) FILTER (WHERE state = 'active') AS active, "
                    "count(*) FILTER (WHERE wait_event_type = 'Lock') AS locked "
                    "FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                    self.database,
                )
                active += row["active"]
                locked += row["locked"]
                count += 1
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            pass
        await asyncio.sleep(1.2)  # backends report their counters at most once a second
        commits_after, rollbacks_after = await self._xacts()
        return {
            "active": active / max(count, 1),
            "lock": locked / max(count, 1),
            "commits": commits_after - commits,
            "rollbacks": rollbacks_after - rollbacks,
        }


class KeepAlivePool:
    """A minimal HTTP/1.1 client for the posts: a fixed set of keep-alive connections, one
    request at a time on each. httpx cost about 0.3 ms of CPU per request, on the cores the
    server under test shares; this sends pre-built requests and reads the answer's length."""

    # uvicorn closes a keep-alive connection idle for 5 s; one idle nearly that long is
    # replaced before use, so a request never races the server's close (as browsers do).
    MAX_IDLE = 4.0

    def __init__(self, url: str, size: int) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.size = size
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = (
            asyncio.Queue()
        )
        self.opened: list[asyncio.StreamWriter] = []

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, float]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.opened.append(writer)
        return reader, writer, time.monotonic()

    async def start(self) -> None:
        for _ in range(self.size):
            self.free.put_nowait(await self._open())

    async def post_json(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, float]:
        """(status, body, when it was sent: once a connection was free); OSError or
        TimeoutError if the connection failed (it is replaced)."""
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter, float] | None
        conn = await self.free.get()
        if time.monotonic() - conn[2] > self.MAX_IDLE:
            conn[1].close()
            conn = await self._open()  # OSError: the pool shrinks by one and the post fails
        sent = time.perf_counter()
        try:
            reader, writer, _ = conn
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                + "\r\n"
            )
            writer.write(head.encode() + body)
            async with asyncio.timeout(POST_TIMEOUT):
                raw = await reader.readuntil(b"\r\n\r\n")
                lines = raw.decode("latin-1").split("\r\n")
                status = int(lines[0].split(" ", 2)[1])
                fields = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                if "content-length" not in fields:
                    raise OSError(f"answer without Content-Length: {lines[0]}")
                answer = await reader.readexactly(int(fields["content-length"]))
            if fields.get("connection", "").lower() == "close":
                writer.close()
                conn = await self._open()
            else:
                conn = (reader, writer, time.monotonic())
            return status, answer, sent
        except BaseException as error:
            # Whatever failed or was cancelled, the answer may still be on its way: a
            # connection is never reused with an unread answer in it.
            conn[1].close()
            conn = None
            if isinstance(error, (OSError, asyncio.IncompleteReadError, TimeoutError)):
                with contextlib.suppress(OSError):
                    conn = await self._open()
            raise
        finally:
            if conn is not None:  # a connection that could not be reopened leaves the pool
                self.free.put_nowait(conn)

    async def close(self) -> None:
        for writer in self.opened:
            writer.close()


class Load:
    """Posters over HTTP keep-alive connections, open loop at a target rate."""

    def __init__(self, url: str, world: World, fleet: Fleet, server: Server, cfg: Config) -> None:
        self.world = world
        self.fleet = fleet
        self.server = server
        self.cfg = cfg
        self.next_id = 1
        self.http = KeepAlivePool(url, cfg.connections)
        self.per_net = cfg.clients // cfg.nets
        self.pg_monitor: PgMonitor | None = None
        self.quiet_budget = cfg.quiet_wait  # seconds per backend spent waiting for quiet

    async def close(self) -> None:
        await self.http.close()

    async def wait_quiet(self, postgres: bool) -> float:
        """Wait (bounded) until other jobs on this shared machine use < 0.3 cores for 2 s."""
        waited = 0.0
        calm = 0
        while calm < 2:
            before = CpuSnapshot.take(self.server.pid, postgres)
            await asyncio.sleep(1.0)
            other = CpuSnapshot.take(self.server.pid, postgres).cores_since(before)["other"]
            calm = calm + 1 if other < OTHER_QUIET else 0
            if calm == 0:
                waited += 1.0
                self.quiet_budget -= 1.0
                if self.quiet_budget <= 0:
                    break
        return waited

    async def step(self, backend: str, rate: float, seconds: float, *, quiet: bool = True) -> Step:
        n = max(1, round(rate * seconds))
        base = self.next_id
        self.next_id += n
        step = Step(backend, rate, seconds)
        inflight: set[asyncio.Task[None]] = set()
        self.fleet.deliveries = []
        postgres = backend == "postgres"
        step.quiet_wait = await self.wait_quiet(postgres) if quiet else 0.0
        cpu0 = CpuSnapshot.take(self.server.pid, postgres)
        monitor = (
            asyncio.create_task(self.pg_monitor.sample()) if self.pg_monitor is not None else None
        )

        try:
            return await self._run(step, base, n, rate, seconds, inflight, monitor, cpu0)
        finally:
            for task in (*inflight, *([monitor] if monitor is not None else [])):
                task.cancel()

    async def _run(
        self,
        step: Step,
        base: int,
        n: int,
        rate: float,
        seconds: float,
        inflight: set[asyncio.Task[None]],
        monitor: asyncio.Task[dict[str, float]] | None,
        cpu0: CpuSnapshot,
    ) -> Step:
        sched = [0.0] * n
        http_ms: list[float] = []
        lag_ms: list[float] = []
        ok = [False] * n
        last_end = 0.0
        posters = self.world.posters
        nets = self.world.nets
        postgres = step.backend == "postgres"
        closes_before = Counter(self.fleet.closes)
        # Beyond this backlog the server is far behind the target: drop posts (counted) rather
        # than queue thousands of requests in the client pool, which costs the shared CPU.
        max_inflight = max(4 * self.cfg.connections, int(rate * 0.1))

        async def post(i: int) -> None:
            nonlocal last_end
            mid = base + i
            net_id = nets[mid % len(nets)]
            poster = posters[(mid // len(nets)) % len(posters)]
            lag_ms.append((time.perf_counter() - sched[i]) * 1000)
            body = json.dumps({"text": message_text(mid)}).encode()
            try:
                status, answer, start = await self.http.post_json(
                    f"/api/v1/nets/{net_id}/messages", body, poster.headers
                )
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                step.post_errors[type(exc).__name__] += 1
                return
            end = time.perf_counter()
            last_end = max(last_end, end)
            if status == 201:
                ok[i] = True
                http_ms.append((end - start) * 1000)
            else:
                step.post_errors[f"HTTP {status}"] += 1
                step.first_error = step.first_error or answer[:300].decode(errors="replace")

        t0 = time.perf_counter() + 0.05
        for i in range(n):
            sched[i] = t0 + i / rate
            delay = sched[i] - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(inflight) >= max_inflight:
                step.dropped += 1  # the server is far behind; keep the generator bounded
                continue
            task = asyncio.create_task(post(i))
            inflight.add(task)
            task.add_done_callback(inflight.discard)
        if inflight:
            await asyncio.wait(inflight, timeout=30)
        for task in list(inflight):  # still unanswered after 30 s: given up
            task.cancel()
            inflight.discard(task)
            step.post_errors["unanswered"] += 1
        step.posts_ok = sum(ok)
        step.expected = step.posts_ok * self.per_net
        # Drain: wait for the deliveries of every accepted post (bounded).
        deadline = max(last_end, time.perf_counter()) + self.cfg.drain_seconds
        while time.perf_counter() < deadline:
            if sum(1 for mid, _ in self.fleet.deliveries if base <= mid < base + n) >= (
                step.expected
            ):
                break
            await asyncio.sleep(0.05)
        cpu1 = CpuSnapshot.take(self.server.pid, postgres)
        step.cpu = cpu1.cores_since(cpu0)
        if monitor is not None:
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                step.pg_waits = await monitor
        if step.posts_ok:
            step.server_ms_per_post = step.cpu["server_seconds"] * 1000 / step.posts_ok
        latencies: list[float] = []
        last_delivery = 0.0
        for mid, received in self.fleet.deliveries:
            i = mid - base
            if 0 <= i < n and ok[i]:
                latencies.append((received - sched[i]) * 1000)
                last_delivery = max(last_delivery, received)
        latencies.sort()
        http_ms.sort()
        lag_ms.sort()
        step.delivered = len(latencies)
        step.achieved = step.posts_ok / max(seconds, last_end - t0)
        step.deliveries_per_s = step.delivered / max(seconds, last_delivery - t0)
        step.lat = {q: pct(latencies, v) for q, v in (("p50", 50), ("p95", 95), ("p99", 99))}
        step.lat["max"] = latencies[-1] if latencies else float("nan")
        step.http = {"p50": pct(http_ms, 50), "p99": pct(http_ms, 99)}
        step.gen_lag_p99 = pct(lag_ms, 99)
        step.ws_closes = self.fleet.closes - closes_before
        self.fleet.deliveries = []
        return step


# ---------------------------------------------------------------------------------------------
# Profiling with py-spy
# ---------------------------------------------------------------------------------------------


async def profile_step(load: Load, backend: str, server: Server, seconds: float) -> Profile | None:
    if _profile.py_spy() is None:
        console.print("[yellow]py-spy not found: no profile[/]")
        return None
    profile = Profile(
        backend,
        OUT_DIR / f"chat-profile-{backend}.svg",
        OUT_DIR / f"chat-profile-{backend}.txt",
        native=OUT_DIR / f"chat-profile-{backend}-native.txt",
    )
    waited = await load.wait_quiet(backend == "postgres")
    profile.step = await _profile.record(
        profile,
        server.pid,
        seconds,
        lambda: load.step(backend, TARGET_RATE, seconds, quiet=False),
    )
    profile.step.quiet_wait = waited
    for text in profile.errors:
        console.print(f"[yellow]{text}[/]")
    return profile


# ---------------------------------------------------------------------------------------------
# One backend
# ---------------------------------------------------------------------------------------------


@dataclass
class BackendResult:
    backend: str
    database_version: str
    steps: list[Step]
    setup: dict[str, float]
    sustained_max: float | None
    target_met: bool
    profile: Profile | None = None
    speed: tuple[float, float] = (0.0, 0.0)  # cpu_speed() before and after the steps
    notes: list[str] = field(default_factory=list)


def cpu_speed() -> float:
    """Million iterations/s of a fixed pure-Python loop (the median of five): the same code runs
    up to twice as fast in one hour as in another on this shared machine, with no steal time
    showing, so each backend's table says how fast the machine was while it ran."""
    rates = []
    for _ in range(5):
        start = time.process_time()
        total = 0
        for i in range(400_000):
            total += i & 7
        rates.append(0.4 / max(time.process_time() - start, 1e-9))
    return sorted(rates)[2]


async def _database_version(backend: str, cfg: Config) -> str:
    if backend == "sqlite":
        return f"SQLite {sqlite3.sqlite_version} (file, WAL)"
    import asyncpg

    conn = await asyncpg.connect(cfg.pg_url, timeout=10)
    try:
        text: str = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return f"PostgreSQL {text}"


async def ladder(run: Callable[[float], Awaitable[Step]], cfg: Config) -> list[Step]:
    """The fixed rates, then higher ones while sustained, then a bisection of the edge."""
    steps = [await run(rate) for rate in cfg.rates]
    good = [s.offered for s in steps if s.sustained]
    bad = [s.offered for s in steps if not s.sustained]
    last_good = max(good, default=0.0)
    first_bad = min(bad, default=None)
    if first_bad is None:
        for rate in cfg.search:
            step = await run(rate)
            steps.append(step)
            if not step.sustained:
                first_bad = rate
                break
            last_good = rate
    for _ in range(cfg.refine):
        if first_bad is None or first_bad - last_good <= max(25.0, 0.1 * first_bad):
            break
        mid = max(25.0, round((last_good + first_bad) / 2 / 25) * 25)
        if mid in (last_good, first_bad):
            break
        step = await run(mid)
        steps.append(step)
        if step.sustained:
            last_good = mid
        else:
            first_bad = mid
    return sorted(steps, key=lambda s: s.offered)


async def run_backend(backend: str, cfg: Config) -> BackendResult:
    console.rule(f"[bold]{backend}")
    db_version = await _database_version(backend, cfg)
    async with database(backend, cfg) as url:
        with Server(url) as server:
            console.print(f"server pid {server.pid} on {server.url} ({db_version})")
            world = await build_world(server.url, cfg)
            console.print(
                f"set-up: {len(world.clients)} clients + {len(world.posters)} posters, "
                f"{len(world.nets)} nets; "
                + ", ".join(f"{k} {v:.1f} s" for k, v in world.setup_seconds.items())
            )
            fleet = Fleet(server.url, world, cfg.deflate)
            load = Load(server.url, world, fleet, server, cfg)
            monitor_conn = None
            try:
                if backend == "postgres":
                    import asyncpg

                    monitor_conn = await asyncpg.connect(cfg.pg_url, timeout=10)
                    load.pg_monitor = PgMonitor(monitor_conn, url.rsplit("/", 1)[1])
                await load.http.start()
                t = time.perf_counter()
                await fleet.start()
                world.setup_seconds["ws connect+subscribe"] = time.perf_counter() - t
                console.print(
                    f"{fleet.subscribed} WebSocket clients subscribed in "
                    f"{world.setup_seconds['ws connect+subscribe']:.1f} s"
                )
                warm = await load.step(backend, 50.0, 2.0 if cfg.quick else 4.0)
                if warm.post_errors:
                    raise RuntimeError(
                        f"warm-up posts failed: {warm.error_text()} {warm.first_error}"
                    )

                async def run(rate: float) -> Step:
                    step = await load.step(backend, rate, cfg.step_seconds)
                    for _ in range(2):  # at most twice more, while the quiet budget lasts
                        if step.cpu["other"] <= OTHER_REPEAT or load.quiet_budget <= 0:
                            break
                        console.print(
                            f"  {rate:>6.0f}/s: other jobs used {step.cpu['other']:.2f} cores "
                            "during the step; measuring it again"
                        )
                        await asyncio.sleep(1.5)
                        again = await load.step(backend, rate, cfg.step_seconds)
                        if again.cpu["other"] < step.cpu["other"]:
                            step = again
                        step.repeated = True
                    console.print(
                        f"  {rate:>6.0f}/s offered: {step.achieved:7.1f} posts/s, "
                        f"p50 {step.lat['p50']:.1f} ms, p99 {step.lat['p99']:.1f} ms, "
                        f"errors {step.error_text()}; cores: server {step.cpu['server']:.2f}, "
                        f"db {step.cpu['db']:.2f}, bench {step.cpu['bench']:.2f}, "
                        f"other {step.cpu['other']:.2f}; server CPU "
                        f"{step.server_ms_per_post:.1f} ms/post"
                        + (
                            f"; PG backends active {step.pg_waits['active']:.1f}, on a lock "
                            f"{step.pg_waits['lock']:.1f}, transactions/post "
                            f"{step.pg_waits['commits'] / max(step.posts_ok, 1):.1f} commit + "
                            f"{step.pg_waits['rollbacks'] / max(step.posts_ok, 1):.1f} rollback"
                            if step.pg_waits
                            else ""
                        )
                        + (f"; waited {step.quiet_wait:.0f} s for quiet" if step.quiet_wait else "")
                    )
                    if step.first_error:
                        console.print(f"    first error: {step.first_error}")
                    await asyncio.sleep(1.5)  # settle between steps
                    return step

                speed_before = cpu_speed()
                steps = await ladder(run, cfg)
                speed = (speed_before, cpu_speed())
                console.print(
                    f"machine speed (cpu_speed): {speed[0]:.1f} before, {speed[1]:.1f} after "
                    "(million loop iterations/s)"
                )
                at_target = [s for s in steps if s.offered == TARGET_RATE]
                target_met = bool(at_target) and all(s.meets_target for s in at_target)
                sustained = [s.offered for s in steps if s.sustained]
                result = BackendResult(
                    backend,
                    db_version,
                    steps,
                    world.setup_seconds,
                    max(sustained) if sustained else None,
                    target_met,
                    speed=speed,
                )
                if cfg.profile == "always" or (cfg.profile == "auto" and not target_met):
                    console.print(f"profiling the server with py-spy at {TARGET_RATE:.0f}/s …")
                    result.profile = await profile_step(
                        load, backend, server, min(cfg.step_seconds, 15.0)
                    )
                if fleet.closes:
                    result.notes.append(f"WebSocket reconnects: {dict(fleet.closes)}")
                return result
            finally:
                await fleet.stop()
                await load.close()
                if monitor_conn is not None:
                    await monitor_conn.close()


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

COLUMNS = (
    "offered/s",
    "posts/s",
    "deliveries/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "HTTP p50",
    "HTTP p99",
    "errors",
    "CPU cores srv/db/bench/other/steal",
    "srv CPU ms/post",
    "p99<50ms",
)


def _ms(value: float) -> str:
    if value != value:  # nan
        return "–"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def step_row(step: Step) -> list[str]:
    cpu = step.cpu
    db = f"{cpu['db']:.2f}" if step.backend == "postgres" else "–"
    return [
        f"{step.offered:.0f}",
        f"{step.achieved:.1f}",
        f"{step.deliveries_per_s:.0f}",
        _ms(step.lat["p50"]),
        _ms(step.lat["p95"]),
        _ms(step.lat["p99"]),
        _ms(step.lat["max"]),
        _ms(step.http["p50"]),
        _ms(step.http["p99"]),
        step.error_text(),
        f"{cpu['server']:.2f}/{db}/{cpu['bench']:.2f}/{cpu['other']:.2f}/{cpu['steal']:.2f}",
        _ms(step.server_ms_per_post),
        "yes" if step.meets_target else "no",
    ]


def verdict(result: BackendResult) -> str:
    at = [s for s in result.steps if s.offered == TARGET_RATE]
    sustained = f"{result.sustained_max:.0f}/s" if result.sustained_max else "below the lowest"
    within = [s.offered for s in result.steps if s.meets_target]
    within_text = f"{max(within):.0f}/s" if within else "none of the rates"
    if not at:
        target = f"target rate {TARGET_RATE:.0f}/s not measured"
    else:
        s = at[0]
        target = (
            f"target p99 < {TARGET_P99_MS:.0f} ms at {TARGET_RATE:.0f} msg/s: "
            f"{'MET' if result.target_met else 'NOT MET'} "
            f"(achieved {s.achieved:.0f}/s, p99 {_ms(s.lat['p99'])} ms, errors {s.error_text()})"
        )
    return (
        f"{target}; sustained maximum (keeps up, no loss, p99 < {EXPLODED_P99_MS:.0f} ms): "
        f"{sustained}; highest rate with p99 < {TARGET_P99_MS:.0f} ms: {within_text}"
    )


def rich_table(result: BackendResult, cfg: Config) -> Table:
    table = Table(
        title=(
            f"Kyodo chat, {result.backend} — {result.database_version}: {cfg.clients} WebSocket "
            f"clients, {cfg.nets} nets, {cfg.clients // cfg.nets} per net, "
            f"{cfg.step_seconds:.0f} s per step"
        ),
        caption=verdict(result),
        caption_justify="left",
    )
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "errors" else "right")
    for step in result.steps:
        row = step_row(step)
        style = None if step.meets_target else ("yellow" if step.sustained else "red")
        table.add_row(*row, style=style)
    return table


def machine_facts() -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    commit = "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(  # noqa: S603
            ["/usr/bin/git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            ["/usr/bin/git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        if dirty:
            commit += " + uncommitted changes in src/"
    try:
        import uvloop

        loop = f"uvloop {uvloop.__version__}"
    except ImportError:
        loop = "asyncio"
    libs = ", ".join(
        f"{name} {version(name)}"
        for name in ("uvicorn", "fastapi", "sqlalchemy", "aiosqlite", "asyncpg", "websockets")
    )
    return [
        f"CPU: {cpu}, {os.cpu_count()} logical cores; RAM {memory}; "
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}; event loop {loop} (server and bench); {libs}; "
        f"httpx {version('httpx')}",
        f"Kyodo at {commit}; one `kyodo serve` process (uvicorn, one worker, access log on)",
        f"Shared machine: {SHARED_MACHINE}.",
    ]


def method_lines(cfg: Config) -> list[str]:
    return [
        f"{cfg.clients} WebSocket clients (half USA cleared SECRET, half JPN cleared GOKUHI), each "
        f"a member of one of {cfg.nets} nets (ceiling and default label `{NET_LABEL}`); each "
        f"subscribes to all its nets (token in the `kyodo.token.` subprotocol); permessage-deflate "
        f"{'offered (as browsers do)' if cfg.deflate else 'off'}.",
        f"{cfg.posters} posters (members of every net) post over HTTP/1.1 keep-alive "
        f"({cfg.connections} connections of a minimal client in the bench, one request at a time "
        "on each, replaced after 4 s idle; bearer tokens; httpx cost ~0.3 ms of CPU per request "
        "on the shared cores), open loop at the offered rate, round-robin over the nets; texts "
        "are ordinary staff traffic with an id.",
        "Post→delivery latency: from the post's scheduled send time to its arrival at each "
        f"member's WebSocket ({cfg.clients // cfg.nets} deliveries per message), "
        "`time.perf_counter` in the bench process; HTTP p50/p99 is the POST round trip.",
        f"posts/s = accepted posts / max(step, last response); a step keeps up when "
        f"posts/s ≥ {KEEP_UP:.0%} of offered with no error or lost delivery; sustained maximum "
        f"= highest rate that keeps up with p99 < {EXPLODED_P99_MS:.0f} ms. Target: p99 < "
        f"{TARGET_P99_MS:.0f} ms at {TARGET_RATE:.0f} msg/s.",
        "CPU columns: cores used during the step by the server process, PostgreSQL processes, "
        "the bench process, and everything else on the machine (other = machine busy minus "
        "those three and steal; other people's jobs on this shared machine show up there); "
        "steal = time the host ran something else while this machine's cores had work "
        "(`/proc/stat`), which slows every figure of the step.",
    ]


def markdown(results: list[BackendResult], cfg: Config, started: str, facts: list[str]) -> str:
    lines = [
        "# Chat benchmark: post→delivery latency and messages/s",
        "",
        f"Run {started} with `python bench/chat.py{' --quick' if cfg.quick else ''}`.",
        "",
        "## Machine",
        "",
        *[f"- {fact}" for fact in facts],
        "",
        "## Method",
        "",
        *[f"- {line}" for line in method_lines(cfg)],
    ]
    for result in results:
        lines += [
            "",
            f"## {result.backend} — {result.database_version}",
            "",
            "| " + " | ".join(COLUMNS) + " |",
            "|" + "|".join("---:" if c != "errors" else "---" for c in COLUMNS) + "|",
        ]
        lines += ["| " + " | ".join(step_row(s)) + " |" for s in result.steps]
        lines += [
            "",
            f"**{verdict(result)}**",
            "",
            f"Machine speed (`cpu_speed`, a fixed pure-Python loop, million iterations/s; higher "
            f"is faster): {result.speed[0]:.1f} before the steps, {result.speed[1]:.1f} after.",
            "",
            "Set-up: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in result.setup.items())
            + ". Generator lag p99 per step (ms): "
            + ", ".join(f"{s.offered:.0f}/s {s.gen_lag_p99:.1f}" for s in result.steps)
            + ".",
        ]
        if any(s.pg_waits for s in result.steps):
            lines += [
                "",
                "PostgreSQL backends of the bench database, mean over the step (active / waiting "
                "on a lock), and transactions per accepted post (commits + rollbacks, from "
                "pg_stat_database; a rollback is a failed write or a ping of an idle connection): "
                + ", ".join(
                    f"{s.offered:.0f}/s {s.pg_waits['active']:.1f}/{s.pg_waits['lock']:.1f}, "
                    f"{s.pg_waits['commits'] / max(s.posts_ok, 1):.1f} + "
                    f"{s.pg_waits['rollbacks'] / max(s.posts_ok, 1):.1f}"
                    for s in result.steps
                    if s.pg_waits
                )
                + ".",
            ]
        if any(s.repeated for s in result.steps):
            lines += [
                "",
                "Steps measured again because other jobs used more than "
                f"{OTHER_REPEAT} cores during them (the calmest is shown): "
                + ", ".join(f"{s.offered:.0f}/s" for s in result.steps if s.repeated)
                + ".",
            ]
        if any(s.quiet_wait for s in result.steps):
            lines += [
                "",
                "Waited for other jobs on the machine to calm down before steps (s): "
                + ", ".join(f"{s.offered:.0f}/s {s.quiet_wait:.0f}" for s in result.steps)
                + ".",
            ]
        lines += [f"- {note}" for note in result.notes]
        if result.profile is not None:
            lines += profile_markdown(result.profile)
    return "\n".join(lines) + "\n"


def profile_markdown(profile: Profile) -> list[str]:
    intro: list[str] = []
    if profile.step is not None:
        s = profile.step
        intro += [
            f"Extra step at {s.offered:.0f}/s while sampling (not in the table): "
            f"{s.achieved:.0f} posts/s, p50 {_ms(s.lat['p50'])} ms, p99 {_ms(s.lat['p99'])} ms, "
            f"server {s.cpu['server']:.2f} cores, {_ms(s.server_ms_per_post)} ms CPU/post"
            + (
                f", PostgreSQL backends active {s.pg_waits['active']:.1f} / waiting on a lock "
                f"{s.pg_waits['lock']:.1f}"
                if s.pg_waits
                else ""
            )
            + f". Flame graph: `{profile.svg.name}`; collapsed "
            f"stacks: `{profile.raw.name}`.",
            "",
        ]
    return _profile.profile_markdown(profile, intro)


def plot(results: list[BackendResult], cfg: Config, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    colours = {"sqlite": "tab:blue", "postgres": "tab:orange"}
    for result in results:
        xs = [s.offered for s in result.steps]
        colour = colours.get(result.backend)
        for q, style in (("p50", ":"), ("p95", "--"), ("p99", "-")):
            left.plot(
                xs,
                [s.lat[q] for s in result.steps],
                style,
                marker="o",
                color=colour,
                label=f"{result.backend} {q}",
            )
        right.plot(
            xs,
            [s.achieved for s in result.steps],
            "-",
            marker="o",
            color=colour,
            label=f"{result.backend} posts/s",
        )
    left.axhline(TARGET_P99_MS, color="red", linewidth=0.8, label="p99 target 50 ms")
    left.axvline(TARGET_RATE, color="grey", linewidth=0.8)
    left.set_yscale("log")
    left.set_xlabel("offered messages/s")
    left.set_ylabel("post→delivery latency, ms (log)")
    left.set_title("Latency percentiles vs offered rate")
    left.legend(fontsize=7)
    top = max((s.offered for r in results for s in r.steps), default=1)
    right.plot([0, top], [0, top], color="grey", linewidth=0.8, label="offered")
    right.axvline(TARGET_RATE, color="grey", linewidth=0.8)
    right.set_xlabel("offered messages/s")
    right.set_ylabel("accepted posts/s")
    right.set_title("Throughput")
    right.legend(fontsize=7)
    fig.suptitle(
        f"Kyodo chat: {cfg.clients} WebSocket clients, {cfg.nets} nets — server and load "
        f"generator share {os.cpu_count()} cores",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


async def main_async(cfg: Config) -> list[BackendResult]:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    results: list[BackendResult] = []
    async with asyncio.timeout(cfg.max_minutes * 60):
        for backend in cfg.backends:
            results.append(await run_backend(backend, cfg))
    return results


@contextlib.contextmanager
def _runner() -> Iterator[asyncio.Runner]:
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        yield runner


def _cheap_httpcore() -> None:
    """httpcore tries `import sniffio` for every request; without sniffio installed each failed
    import searches sys.path (a third of the generator's CPU). Remember the failure instead."""
    import importlib.util

    if importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    _cheap_httpcore()
    # A client task cancelled while reconnecting leaves an un-awaited coroutine: not an error.
    warnings.filterwarnings("ignore", message="coroutine .* was never awaited")
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    facts = machine_facts()  # the code measured is the code at the start
    for fact in facts:
        console.print(fact)
    try:
        with _runner() as runner:
            results = runner.run(main_async(cfg))
    except KeyboardInterrupt:
        console.print("[red]interrupted: servers stopped, databases dropped[/]")
        return 130
    except asyncio.CancelledError:
        console.print("[red]terminated: servers stopped, databases dropped[/]")
        return 143
    except TimeoutError:
        console.print(f"[red]over the time limit ({cfg.max_minutes:.0f} min): stopped[/]")
        return 124
    for result in results:
        console.print(rich_table(result, cfg))
        for note in result.notes:
            console.print(f"  {note}")
    console.print(f"[dim]Note: {SHARED_MACHINE}.[/]")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    md = OUT_DIR / "chat.md"
    md.write_text(markdown(results, cfg, started, facts), encoding="utf-8")
    png = OUT_DIR / "chat.png"
    plot(results, cfg, png)
    console.print(f"wrote {md.relative_to(ROOT)} and {png.relative_to(ROOT)}")
    for result in results:
        if result.profile is not None and result.profile.samples:
            _profile.print_profile(result.profile, console.print)
    return 0


if __name__ == "__main__":
    sys.exit(main())
