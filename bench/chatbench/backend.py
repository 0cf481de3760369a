"""One back-end end to end: database, server, set-up, the rate ladder and the profile."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import profiling
from ..clients.chat import Fleet
from ..machine import cpu_speed
from ..peers.kyodo import KyodoChat, database
from ..peers.ws_fanout import WsFanout
from ..profiling import Profile
from .config import FLOOR, OTHER_REPEAT, TARGET_RATE, console
from .load import Load
from .pgmonitor import PgMonitor
from .world import build_world

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from .config import Config
    from .load import ChatServer
    from .steps import Step


async def profile_step(
    load: Load, backend: str, server: KyodoChat, seconds: float, out: Path
) -> Profile | None:
    """An extra step at the target rate while py-spy samples the server."""
    if profiling.py_spy() is None:
        console.print("[yellow]py-spy not found: no profile[/]")
        return None
    profile = Profile(
        backend,
        out / f"chat-profile-{backend}.svg",
        out / f"chat-profile-{backend}.txt",
        native=out / f"chat-profile-{backend}-native.txt",
    )
    waited = await load.wait_quiet(backend == "postgres")
    profile.step = await profiling.record(
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
    """Everything measured on one back-end."""

    backend: str
    database_version: str
    steps: list[Step]
    setup: dict[str, float]
    sustained_max: float | None
    target_met: bool
    profile: Profile | None = None
    speed: tuple[float, float] = (0.0, 0.0)  # cpu_speed() before and after the steps
    notes: list[str] = field(default_factory=list)
    floor: bool = False


async def _database_version(backend: str, cfg: Config) -> str:
    """The database's name and version, for the table's title."""
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
    """A fresh database and server for `backend` (or the floor), set up, then loaded."""
    console.rule(f"[bold]{backend}")
    if backend == FLOOR:
        with WsFanout() as floor:
            return await _measure(backend, "no storage, policy or labels", floor, cfg, "")
    db_version = await _database_version(backend, cfg)
    async with database(backend, cfg.pg_url) as url:
        with KyodoChat(url) as server:
            return await _measure(backend, db_version, server, cfg, url)


async def _measure(
    backend: str, db_version: str, server: ChatServer, cfg: Config, url: str
) -> BackendResult:
    """Set-up through the API, the WebSocket clients, a warm-up, the ladder, the profile."""
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
            raise RuntimeError(f"warm-up posts failed: {warm.error_text()} {warm.first_error}")

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
            floor=backend == FLOOR,
        )
        wanted = cfg.profile == "always" or (cfg.profile == "auto" and not target_met)
        if wanted and isinstance(server, KyodoChat):
            console.print(f"profiling the server with py-spy at {TARGET_RATE:.0f}/s …")
            result.profile = await profile_step(
                load, backend, server, min(cfg.step_seconds, 15.0), cfg.out
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
