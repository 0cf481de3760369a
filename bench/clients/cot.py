"""The CoT load client: N TCP clients that announce, send marked events and time deliveries."""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
from collections import Counter
from typing import TYPE_CHECKING

from ..cotbench.events import Unit
from ..cotbench.steps import Step
from ..procs import tree_cpu_seconds

if TYPE_CHECKING:
    from ..cotbench.config import Config
    from ..peers.base import Managed

MAX_EVENT = 1 << 20  # a receiver drops a buffer that grows past this without </event>
WRITE_BUFFER_LIMIT = 4 << 20  # a sender skips an event while the server does not read
END = b"</event>"
# The measurement marker in <remarks>: step, sender index, sequence, send time (perf_counter ns).
MARK = re.compile(rb"kb:(\d+):(\d+):(\d+):(\d+)")
HELLO_DELAY = 3.0  # seconds between a client's connection and its first event
WARM_STEP = 1
SAMPLE_SENDERS = 3  # senders whose first events are compared with what a receiver got
SAMPLE_EVENTS = 5


class Client(asyncio.Protocol):
    """One TAK client's connection: it sends its own unit's events and receives everyone's."""

    def __init__(self, bench: Load, unit: Unit, role: str) -> None:
        self.bench = bench
        self.unit = unit
        self.role = role  # "steady" or "churn"
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.alive = False
        self.closing = False
        self.ready = False
        self.connected_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.alive = True
        self.connected_at = time.monotonic()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        buf = self.buf
        buf += data
        end = buf.rfind(END)
        if end < 0:
            if len(buf) > MAX_EVENT:
                self.bench.error("receive buffer over 1 MiB without </event>")
                buf.clear()
            return
        end += len(END)
        region = bytes(buf[:end])
        del buf[:end]
        if self.role == "steady":
            self.bench.on_events(self, region, now)

    def eof_received(self) -> bool | None:
        # The transport closes; with unsent data queued, connection_lost may come much later.
        if not self.closing and self.role == "steady":
            self.bench.error("server closed a connection (EOF)")
        self.closing = True
        self.alive = False
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        if not self.closing and self.role == "steady":
            self.bench.error(f"connection lost ({exc or 'closed'})")

    def send(self, data: bytes) -> str | None:
        """None once written to the socket, else why not."""
        if self.transport is None or not self.alive or self.transport.is_closing():
            return "send skipped: the sender's connection is closed"
        if self.transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
            return "send skipped: server not reading (4 MiB unsent)"
        self.transport.write(data)
        return None

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()


class Load:
    """N clients on one server; runs steps and turns them into rows."""

    def __init__(self, server: Managed, cfg: Config, run: str) -> None:
        self.server = server
        self.cfg = cfg
        self.run = run
        self.rng = random.Random(7)
        self.clients: list[Client] = []
        self.step: Step | None = None
        self.step_counter = WARM_STEP
        self.connect_errors: Counter[str] = Counter()
        self.checker: Client | None = None
        self.churn_count = 0
        self.late_errors: Counter[str] = Counter()
        self.done_steps: list[Step] = []
        self.churn_names: list[str] = []

    # --- receiving ---

    def error(self, text: str) -> None:
        if self.step is not None:
            self.step.errors[text] += 1
        else:
            self.late_errors[text] += 1

    def on_events(self, client: Client, region: bytes, now: int) -> None:
        step = self.step
        if step is None:
            return
        total = region.count(END)
        marked = 0
        me = client.unit.index
        current = step.step_id
        for m in MARK.finditer(region):
            marked += 1
            sid = int(m[1])
            if sid == WARM_STEP:
                client.ready = True
            if sid != current:
                step.stale += 1
                continue
            sender = int(m[2])
            if sender == me:
                step.echoes += 1
                continue
            step.delivered += 1
            step.latencies.append(now - int(m[4]))
            step.accepted.add(sender << 32 | int(m[3]))
        step.other += total - marked
        if (
            client is self.checker
            and step.sent_samples
            and len(step.got_samples) < len(step.sent_samples)
        ):
            for chunk in region.split(END)[:-1]:
                found = MARK.search(chunk)
                if found is not None and int(found[1]) == current:
                    key = (int(found[2]), int(found[3]))
                    if key in step.sent_samples and key not in step.got_samples:
                        step.got_samples[key] = chunk + END

    # --- connecting ---

    async def connect(self, unit: Unit, role: str) -> Client | None:
        loop = asyncio.get_running_loop()
        for attempt in range(3):
            try:
                _, client = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: Client(self, unit, role), self.server.host, self.server.port
                    ),
                    timeout=10,
                )
                return client
            except (TimeoutError, OSError) as exc:
                if attempt == 2:
                    self.connect_errors[f"connect: {type(exc).__name__}: {exc}"[:90]] += 1
                await asyncio.sleep(0.5)
        return None

    async def _connect_all(self, units: list[Unit]) -> list[Client | None]:
        gate = asyncio.Semaphore(4)  # OpenTAKServer's listen backlog is 5

        async def one(unit: Unit) -> Client | None:
            async with gate:
                return await self.connect(unit, "steady")

        clients = await asyncio.gather(*(one(u) for u in units))
        # OpenTAKServer binds a client's queues only if its first event arrives after that
        # client's RabbitMQ channel opened (else it never receives anything): each client
        # announces itself, like ATAK does, 3 s after it connected.
        for client in sorted((c for c in clients if c), key=lambda c: c.connected_at):
            await asyncio.sleep(max(0.0, client.connected_at + HELLO_DELAY - time.monotonic()))
            client.send(client.unit.event("hello"))
        return clients

    async def open_clients(self, n: int) -> int:
        units = [Unit.make(self.run, i, self.rng) for i in range(n)]
        self.clients = [c for c in await self._connect_all(units) if c is not None]
        # The last client never sends: it keeps what it gets for the pass-through check.
        self.checker = self.clients[-1] if len(self.clients) > SAMPLE_SENDERS else None
        return len(self.clients)

    async def reconnect_unready(self) -> int:
        """Clients that received nothing connect again (same uid); returns how many."""
        unready = [i for i, c in enumerate(self.clients) if not c.ready]
        for i in unready:
            self.clients[i].close()
        await asyncio.sleep(1.0)
        fresh = await self._connect_all([self.clients[i].unit for i in unready])
        for i, client in zip(unready, fresh, strict=True):
            if client is not None:
                self.clients[i] = client
        self.clients = [c for c in self.clients if c.alive]
        self.checker = self.clients[-1] if len(self.clients) > SAMPLE_SENDERS else None
        return len(unready)

    def working_first(self) -> None:
        """Clients that receive go first: the senders are picked among them, and the
        pass-through checker is the last of them."""
        self.clients.sort(key=lambda c: not (c.alive and c.ready))
        working = [c for c in self.clients if c.alive and c.ready]
        self.checker = working[-1] if len(working) > SAMPLE_SENDERS else None

    async def warm_up(self, seconds: float) -> int:
        """The first clients send marked events until every client has received one (or
        none more did for 5 s); returns how many have."""
        if len(self.clients) < 2:
            return 0
        self.step = Step(WARM_STEP, "warm-up", len(self.clients), 1, 0.0, 0.0)
        started = progress_at = time.monotonic()
        # Round robin over the first clients, so that one the server mishandles blocks nothing.
        senders = self.clients[: max(2, round(len(self.clients) * self.cfg.sender_share))]
        seq = ready = 0
        while time.monotonic() < started + seconds:
            now_ready = sum(1 for c in self.clients if c.ready)
            if now_ready == sum(1 for c in self.clients if c.alive):
                break
            if now_ready > ready:
                ready, progress_at = now_ready, time.monotonic()
            elif ready and time.monotonic() - progress_at > 5.0:
                break
            client = senders[seq % len(senders)]
            mark = f"kb:{WARM_STEP}:{client.unit.index}:{seq}:{time.perf_counter_ns()}"
            client.send(client.unit.event(mark))
            seq += 1
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        self.step = None
        return sum(1 for c in self.clients if c.ready)

    async def settle(self, limit: float) -> float:
        """Waits (at most `limit` s) until the server's CPU is back near idle, so that what
        it does for new clients (OpenTAKServer stores each announced device) is not measured."""
        started = time.monotonic()
        if not self.server.pids:
            await asyncio.sleep(1.0)
            return 0.0
        threshold = max(0.15, 2 * self.server.idle_cpu + 0.05)
        while time.monotonic() - started < limit:
            before = tree_cpu_seconds(self.server.pids)
            await asyncio.sleep(1.0)
            if tree_cpu_seconds(self.server.pids) - before < threshold:
                break
        return time.monotonic() - started

    async def close_clients(self) -> None:
        for client in self.clients:
            client.close()
        self.clients = []
        await asyncio.sleep(1.0)

    # --- a step ---

    async def churn(self, stop_at: float, step: Step) -> None:
        """Every second a client connects, announces itself and leaves."""
        while time.monotonic() < stop_at - 1.0:
            started = time.monotonic()
            self.churn_count += 1
            unit = Unit.make(self.run, 5000 + self.churn_count, self.rng)
            unit.uid = f"kb{self.run}-churn-{self.churn_count:04d}"
            unit.callsign = f"CHURN-{self.run}-{self.churn_count:03d}"
            self.churn_names.extend((unit.uid, unit.callsign))
            client = await self.connect(unit, "churn")
            if client is None:
                step.errors["churn client could not connect"] += 1
            else:
                step.churn_connections += 1
                await asyncio.sleep(0.3)
                client.send(unit.event("hello"))
                await asyncio.sleep(0.5)
                client.close()
            await asyncio.sleep(max(0.0, started + 1.0 - time.monotonic()))

    async def run_step(self, step: Step) -> None:
        senders = self.clients[: step.senders]
        alive_receivers = sum(1 for c in self.clients if c.alive)
        sample = not step.churn and not any(
            s.sent_samples for s in self.done_steps if s.n == step.n
        )
        self.step = step
        cpu0 = time.process_time()
        srv0 = tree_cpu_seconds(self.server.pids) if self.server.pids else math.nan
        t0 = time.monotonic()
        stop_at = t0 + step.seconds
        churn_task = asyncio.create_task(self.churn(stop_at, step)) if step.churn else None
        seqs = [0] * len(senders)
        sent = 0
        tick = 0.005
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            others = sum(1 for c in self.clients if c.alive) - 1
            due = int(step.rate * (now - t0)) - sent - step.skipped
            if due > step.rate * 0.1 + 1:  # the generator fell behind: do not burst
                step.skipped += due - int(step.rate * 0.1 + 1)
                step.errors["generator behind schedule (events not sent)"] += 1
                due = int(step.rate * 0.1 + 1)
            for _ in range(due):
                k = (sent + step.skipped) % len(senders)
                client = senders[k]
                seq = seqs[k]
                seqs[k] += 1
                mark = f"kb:{step.step_id}:{client.unit.index}:{seq}:{time.perf_counter_ns()}"
                data = client.unit.event(mark)
                why = client.send(data)
                if why is None:
                    sent += 1
                    step.expected += others
                    if sample and k < SAMPLE_SENDERS and seq < SAMPLE_EVENTS:
                        step.sent_samples[(client.unit.index, seq)] = data
                else:
                    step.skipped += 1
                    step.errors[why] += 1
            await asyncio.sleep(tick)
        step.sent = sent
        if churn_task is not None:
            await churn_task
        # Drain: wait until everything expected arrived, or nothing more arrives, or time out.
        drain_end = time.monotonic() + self.cfg.drain_seconds
        last = -1
        quiet_since = time.monotonic()
        while time.monotonic() < drain_end and step.delivered < step.expected:
            if step.delivered != last:
                last = step.delivered
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 1.5:
                break
            await asyncio.sleep(0.05)
        wall = time.monotonic() - t0
        step.gen_cpu = (time.process_time() - cpu0) / wall
        if self.server.pids:
            step.server_cpu = (tree_cpu_seconds(self.server.pids) - srv0) / wall
        self.step = None
        lost_clients = alive_receivers - sum(1 for c in self.clients if c.alive)
        if lost_clients:
            step.errors["clients disconnected during the step"] += lost_clients
        self.done_steps.append(step)
