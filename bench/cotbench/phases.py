"""Running one server: a fresh start per N, the warm-up, the rate steps and the churn phase."""

from __future__ import annotations

import asyncio
import math
import os
import random
import string
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..clients.cot import Load
from ..peers.base import Managed, ServerError
from ..peers.external import External
from ..peers.freetakserver import FreeTAKServer
from ..peers.kyodo import KyodoCot
from ..peers.null_relay import NullRelay
from ..peers.opentakserver import OpenTAKServer
from ..procs import Memory, tree_cpu_seconds, tree_memory
from .events import Unit
from .passthrough import PassThrough
from .profiling import profile_n, profile_step
from .steps import Row, Step, to_row

if TYPE_CHECKING:
    from rich.console import Console

    from ..profiling import Profile
    from .config import Config


@dataclass
class ServerResult:
    """Everything measured of one server."""

    name: str
    note: str = ""
    error: str = ""
    rows: list[Row] = field(default_factory=list)
    idle: Memory | None = None
    idle_cpu: float = math.nan
    loaded: Memory | None = None
    loaded_n: int = 0
    load_averages: list[float] = field(default_factory=list)  # the machine's, at phase starts
    passthrough: PassThrough = field(default_factory=PassThrough)
    skipped: list[str] = field(default_factory=list)
    connect_errors: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    profile: Profile | None = None
    floor: bool = False


Plan = list[tuple[float, float, bool]]  # (events/s, seconds, churn)


class NothingDelivered(Exception):
    """No client received anything after announcing itself: the server is started again."""


async def measure(
    server: Managed, cfg: Config, result: ServerResult, n: int, plan: Plan, run: str, retry: bool
) -> None:
    """The steps of one phase at N, on a server just started."""
    load = Load(server, cfg, run)
    # Servers that keep per-client state (OpenTAKServer's queues) get the names up front.
    units = [Unit.make(run, i, random.Random(0)) for i in range(n)]
    server.names_used(name for u in units for name in (u.uid, u.callsign))
    try:
        connected = await load.open_clients(n)
        ready = await load.warm_up(30.0)
        for _ in range(2):
            if ready >= len(load.clients) or not ready:
                break
            again = await load.reconnect_unready()
            result.notes.append(
                f"N={n}: {again} clients received nothing after announcing themselves; "
                "they connected again"
            )
            ready = await load.warm_up(30.0)
        if not ready and retry:
            raise NothingDelivered
        if connected < n:
            result.notes.append(f"N={n}: only {connected} of {n} clients connected")
        if ready < n:
            result.notes.append(f"N={n}: {ready} of {n} clients received events before the steps")
        load.working_first()
        waited = await load.settle(15.0)
        if waited > 5:
            result.notes.append(
                f"N={n}: the server took {waited:.0f} s to go quiet after the set-up"
            )
        senders = max(2, round(n * cfg.sender_share))
        churn_phase = any(churn for _, _, churn in plan)
        for rate, seconds, churn in plan if connected >= 2 else ():
            if time.monotonic() + seconds + 10 > cfg.deadline:
                result.skipped.append(f"N={n} {rate:g} ev/s: over the time budget")
                continue
            load.step_counter += 1
            label = ("churn" if churn else "no churn") if churn_phase else "steady"
            step = Step(load.step_counter, label, n, senders, rate, seconds, churn=churn)
            await load.run_step(step)
            row = to_row(step, ready)
            row.baseline = churn_phase and not churn
            result.rows.append(row)
            for key, sent in step.sent_samples.items():
                got = step.got_samples.get(key)
                if got is not None:
                    result.passthrough.add(sent, got)
            if not row.keeps_up and not churn_phase:
                higher = [r for r in cfg.rates[n] if r > rate]
                if higher:
                    result.skipped.append(
                        f"N={n}: {', '.join(f'{r:g}' for r in higher)} ev/s not run: "
                        f"did not keep up at {rate:g} ev/s"
                    )
                break
        if n == max(cfg.ns) and server.pids and not churn_phase:
            result.loaded = tree_memory(server.pids)
            result.loaded_n = connected
        if cfg.profile and not churn_phase and n == profile_n(cfg) and isinstance(server, KyodoCot):
            seconds = max(cfg.step_seconds, 10.0)
            if time.monotonic() + seconds + 20 > cfg.deadline:
                result.skipped.append("the profiled step: over the time budget")
            else:
                result.profile = await profile_step(
                    load, server, n, senders, seconds, ready, cfg.out
                )
        await load.close_clients()
    finally:
        for text, count in load.late_errors.most_common(4):
            result.notes.append(f"N={n}, outside the steps: {count}× {text}")
        for client in load.clients:
            client.close()
        result.connect_errors.update(load.connect_errors)
        server.names_used(load.churn_names)


def run_server(server: Managed, cfg: Config, console: Console) -> ServerResult:
    """Each N on a freshly started server, so that a backlog left at one N (a peer that did
    not keep up) does not weigh on the next."""
    result = ServerResult(server.name, floor=server.floor)
    console.rule(f"[bold]{server.name}")
    run = "".join(random.choices(string.ascii_lowercase, k=4))
    phases: list[tuple[int, Plan]] = [
        (n, [(r, cfg.step_seconds, False) for r in cfg.rates[n]]) for n in cfg.ns
    ]
    # Churn on a fresh server too: the same light load without, then with, churn.
    phases.append((cfg.churn_n, [(cfg.churn_rate, cfg.churn_seconds, c) for c in (False, True)]))
    for n, plan in phases:
        what = f"N={n}" + (" churn" if any(c for _, _, c in plan) else "")
        if time.monotonic() + 30 > cfg.deadline:
            result.skipped.append(f"{what}: not run, over the time budget")
            continue
        for attempt in (1, 2):
            result.load_averages.append(os.getloadavg()[0])
            try:
                started = time.monotonic()
                server.start()
                result.name = server.name
                result.note = server.processes_note
                console.print(
                    f"{what}: started in {time.monotonic() - started:.1f} s on "
                    f"{server.host}:{server.port}",
                    end="; ",
                )
                if not isinstance(server, External):
                    server.check_loopback_only()
                if server.pids and result.idle is None:
                    before = tree_cpu_seconds(server.pids)
                    time.sleep(3)
                    server.idle_cpu = (tree_cpu_seconds(server.pids) - before) / 3
                    result.idle = tree_memory(server.pids)
                    result.idle_cpu = server.idle_cpu
                measured = time.monotonic()
                asyncio.run(measure(server, cfg, result, n, plan, run, retry=attempt == 1))
                console.print(f"measured in {time.monotonic() - measured:.0f} s")
                if not server.alive():
                    result.notes.append(f"N={n}: {server.exited()}:\n{server.log_tail(1500)}")
            except NothingDelivered:
                console.print("no client received anything: starting it again")
                result.notes.append(
                    f"{what}: no client received anything after announcing itself; the "
                    "server was started again"
                )
                continue
            except ServerError as exc:
                result.error = str(exc)
                console.print(f"[red]{server.name}: {exc}")
            except Exception as exc:  # the other servers still run; the report says what failed
                result.error = f"{type(exc).__name__}: {exc}\n{server.log_tail(1500)}"
                console.print(f"[red]{server.name}: {result.error}")
            finally:
                server.stop()
            break
        if result.error:
            break
    result.notes.extend(dict.fromkeys(server.notes))
    return result


def build_server(name: str) -> Managed:
    """The managed server a --servers name stands for."""
    kinds: dict[str, type[Managed]] = {
        "kyodo": KyodoCot,
        "floor": NullRelay,
        "freetakserver": FreeTAKServer,
        "opentakserver": OpenTAKServer,
    }
    return kinds[name]()
