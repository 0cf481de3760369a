"""How fast and how busy the machine was during a run: loop speed, CPU steal, facts."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .procs import CLK_TCK

ROOT = Path(__file__).resolve().parent.parent


def machine_cpu() -> tuple[float, float, float]:
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


def cpu_speed() -> float:
    """Million iterations/s of a fixed pure-Python loop (the median of five): the same code runs
    up to twice as fast in one hour as in another on this shared machine, with no steal time
    showing, so each table says how fast the machine was while it ran."""
    rates = []
    for _ in range(5):
        start = time.process_time()
        total = 0
        for i in range(400_000):
            total += i & 7
        rates.append(0.4 / max(time.process_time() - start, 1e-9))
    return sorted(rates)[2]


@dataclass
class MachineRun:
    """The machine's speed before and after a run, and the share of CPU time stolen during it."""

    speed_before: float = 0.0
    speed_after: float = 0.0
    steal_share: float = 0.0  # stolen ÷ all CPU time of all cores over the run
    _start: tuple[float, float, float] = field(default=(0.0, 0.0, 0.0), repr=False)

    @classmethod
    def begin(cls) -> MachineRun:
        """Reads the speed and the /proc/stat counters at the start of a run."""
        return cls(speed_before=cpu_speed(), _start=machine_cpu())

    def end(self) -> MachineRun:
        """Reads the speed again and the steal since `begin`."""
        _, total, steal = machine_cpu()
        spent = total - self._start[1]
        self.steal_share = (steal - self._start[2]) / spent if spent > 0 else 0.0
        self.speed_after = cpu_speed()
        return self

    def line(self) -> str:
        """One sentence for a report."""
        return (
            f"Machine speed (a fixed pure-Python loop, million it/s; higher is faster): "
            f"{self.speed_before:.1f} before, {self.speed_after:.1f} after; CPU steal over the "
            f"run: {self.steal_share:.1%} of all cores' time (/proc/stat)"
        )

    def as_dict(self) -> dict[str, float]:
        """The readings for the JSON file."""
        return {
            "speed_before_mits": self.speed_before,
            "speed_after_mits": self.speed_after,
            "steal_share": self.steal_share,
        }


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def commit() -> str:
    """This checkout's commit, and whether src/ has uncommitted changes."""
    found = "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found = subprocess.run(  # noqa: S603
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
            found += " + uncommitted changes in src/"
    return found


def machine_facts(libraries: tuple[str, ...] = ()) -> list[str]:
    """CPU, memory, OS, Python and the versions of `libraries`, one fact a line."""
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    try:
        loop = f"uvloop {version('uvloop')}"
    except PackageNotFoundError:
        loop = "asyncio"
    libs = ", ".join(f"{name} {_version(name)}" for name in libraries)
    return [
        f"CPU: {cpu_model()}, {os.cpu_count()} logical cores; RAM {memory}; "
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}; event loop {loop} (server and bench)"
        + (f"; {libs}" if libs else ""),
    ]
