"""`python bench/cot.py`: start each server in turn, load it, report."""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING

from rich.console import Console

from .. import profiling
from ..machine import MachineRun
from ..peers.external import External
from ..report import Report
from .config import parse_args
from .output import data, draw, markdown, print_report
from .phases import ServerResult, build_server, run_server

if TYPE_CHECKING:
    from ..peers.base import Managed


def main(argv: list[str] | None = None) -> int:
    """Runs the bench the command line asks for; 0 if every server was measured."""
    cfg = parse_args(argv)
    console = Console(width=200)
    cfg.deadline = time.monotonic() + cfg.max_minutes * 60
    servers: list[Managed]
    if cfg.target is not None:
        servers = [External(cfg.target_name, cfg.target[0], cfg.target[1], cfg.target_pids)]
    else:
        servers = [build_server(name) for name in cfg.servers]

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    results: list[ServerResult] = []
    machine = MachineRun.begin()
    try:
        for server in servers:
            if time.monotonic() > cfg.deadline:
                results.append(ServerResult(server.name, error="not run: over the time budget"))
                continue
            results.append(run_server(server, cfg, console))
    finally:
        for server in servers:
            server.stop()
    machine.end()
    report = Report("cot", cfg.out, console)
    print_report(results, cfg, machine, report)
    report.write(
        markdown(results, cfg, machine),
        data(results, machine),
        lambda: draw(results, cfg),
    )
    for res in results:
        if res.profile is not None:
            profiling.print_profile(res.profile, lambda text: console.print(text, markup=False))
    return 0 if all(r.rows for r in results) else 1
