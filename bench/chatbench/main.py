"""`python bench/chat.py`: each back-end (and the floor) in turn, then the report."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
import warnings
from typing import TYPE_CHECKING

from .. import profiling
from ..machine import MachineRun
from ..report import Report
from .backend import BackendResult, run_backend
from .config import FLOOR, SHARED_MACHINE, Config, console, parse_args
from .output import draw, facts, floor_grids, grid, markdown

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


async def main_async(cfg: Config) -> list[BackendResult]:
    """Every back-end in turn, within the time limit; SIGTERM cancels."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    results: list[BackendResult] = []
    async with asyncio.timeout(cfg.max_minutes * 60):
        for backend in (*cfg.backends, *((FLOOR,) if cfg.floor else ())):
            results.append(await run_backend(backend, cfg))
    return results


@contextlib.contextmanager
def _runner() -> Iterator[asyncio.Runner]:
    """An asyncio runner on uvloop when it is installed."""
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
    """Runs the bench the command line asks for; 130/143/124 if interrupted or over time."""
    cfg = parse_args(argv)
    _cheap_httpcore()
    # A client task cancelled while reconnecting leaves an un-awaited coroutine: not an error.
    warnings.filterwarnings("ignore", message="coroutine .* was never awaited")
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    lines = facts()  # the code measured is the code at the start
    for fact in lines:
        console.print(fact)
    machine = MachineRun.begin()
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
    machine.end()
    report = Report("chat", cfg.out, console)
    report.show([grid(result, cfg) for result in results] + floor_grids(results, machine))
    for result in results:
        for note in result.notes:
            console.print(f"  {note}")
    console.print(f"[dim]Note: {SHARED_MACHINE}.[/]")
    console.print(machine.line())
    report.write(
        markdown(results, cfg, started, lines, machine),
        {"machine": machine.as_dict(), "backends": results},
        lambda: draw(results, cfg),
    )
    for result in results:
        if result.profile is not None and result.profile.samples:
            profiling.print_profile(result.profile, console.print)
    return 0
