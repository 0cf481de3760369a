"""Open-loop chat load: posts at a target rate, deliveries timed, one Step per rate."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from typing import TYPE_CHECKING, Protocol

from ..clients.chat import KeepAlivePool, message_text
from .config import OTHER_QUIET
from .cpu import CpuSnapshot
from .steps import Step, pct

if TYPE_CHECKING:
    from ..clients.chat import Fleet
    from .config import Config
    from .pgmonitor import PgMonitor
    from .world import World


class ChatServer(Protocol):
    """What the load needs of a server: its URL and its process (for its CPU time)."""

    url: str

    @property
    def pid(self) -> int:
        """The server's process id."""
        ...


class Load:
    """Posters over HTTP keep-alive connections, open loop at a target rate."""

    def __init__(
        self, url: str, world: World, fleet: Fleet, server: ChatServer, cfg: Config
    ) -> None:
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
