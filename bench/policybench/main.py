"""`python bench/policy.py` (`make bench`): every engine on the same pairs, then the report."""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from kyodo.scheme_files import default_registry

from ..machine import MachineRun, cpu_model
from ..report import Report, markdown_table
from .casbin_peer import bench_casbin
from .cedar_peer import bench_cedar
from .floor import bench_floor
from .kyodo import CACHED, CACHED_COPIES, DECIDE, MAY_READ, bench_kyodo
from .mix import SEED, realistic_labels, realistic_subjects
from .output import CACHED_TARGET, UNCACHED_TARGET, draw, engines_grid, floor_grid

if TYPE_CHECKING:
    from collections.abc import Sequence

OUT_DIR = Path(__file__).resolve().parent.parent / "out"


def pin_one_core() -> str:
    """Pin this process to one core (the highest-numbered one it may use)."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    allowed = os.sched_getaffinity(0)
    core = max(allowed)
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core} of {os.cpu_count()}"


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the bench; 0 if every target was met."""
    parser = argparse.ArgumentParser(
        description="Policy read check on one core: Kyodo vs Cedar, Casbin and the floor."
    )
    parser.add_argument("--quick", action="store_true", help="smaller run (~15 s)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--pairs", type=int, help="Kyodo pairs (default 1,000,000; quick 200,000)")
    parser.add_argument("--peer-pairs", type=int, help="Cedar/Casbin pairs (default 20,000)")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    n_pairs = args.pairs or (200_000 if args.quick else 1_000_000)
    n_peer = min(args.peer_pairs or (4_000 if args.quick else 20_000), n_pairs)
    repeats, peer_repeats = (3, 1) if args.quick else (7, 3)

    # A wide table: when the output is not a terminal Rich would otherwise fold it at 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=200)
    pinned = pin_one_core()
    registry = default_registry()
    rng = random.Random(args.seed)
    subjects = realistic_subjects(registry, rng)
    labels, weights = realistic_labels(registry)
    pair_s = [rng.randrange(len(subjects)) for _ in range(n_pairs)]
    pair_l = rng.choices(range(len(labels)), weights=weights, k=n_pairs)

    facts = [
        f"CPU: {cpu_model()}, {os.cpu_count()} logical cores, {pinned}",
        f"Python {platform.python_version()} ({sys.implementation.name}), "
        f"cedarpy {version('cedarpy')}, casbin {version('casbin')}",
        f"Mix: {len(subjects)} subjects, {len(labels)} distinct labels, seed {args.seed}; "
        f"Kyodo over {n_pairs:,} pairs × {repeats} runs, peers over the first "
        f"{n_peer:,} of them × {peer_repeats} runs (bounded: a peer call costs tens of µs)",
    ]
    if hasattr(os, "getloadavg"):
        facts[0] += ", load average at start {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    for line in facts:
        console.print(line)
    machine = MachineRun.begin()

    with console.status("Kyodo…"):
        rows, expected = bench_kyodo(subjects, labels, pair_s, pair_l, repeats)
    allowed = sum(expected)
    console.print(f"Allowed: {allowed:,} of {n_pairs:,} ({allowed / n_pairs:.1%})")
    peer_expected = expected[:n_peer]
    with console.status("Cedar…"):
        rows += bench_cedar(
            subjects, labels, pair_s[:n_peer], pair_l[:n_peer], peer_expected, peer_repeats
        )
    with console.status("Casbin…"):
        rows += bench_casbin(
            subjects, labels, pair_s[:n_peer], pair_l[:n_peer], peer_expected, peer_repeats
        )
    with console.status("Floor…"):
        rows.append(bench_floor(subjects, labels, pair_s, pair_l, expected, repeats))
    machine.end()
    console.print(
        f"Cross-check: Cedar and Casbin agreed with Kyodo on all {n_peer:,} pairs they measured; "
        f"decide, DecisionCache and the floor agreed with may_read on all {n_pairs:,}."
    )

    by_mode = {r.mode: r for r in rows if r.kyodo}
    reference = by_mode[MAY_READ].best
    grids = [engines_grid(rows, reference), floor_grid(rows, machine)]
    report = Report("policy", args.out, console)
    report.show(grids)

    cached = by_mode[CACHED].best
    cached_copies = by_mode[CACHED_COPIES].best
    slowest_uncached = min(by_mode[MAY_READ].best, by_mode[DECIDE].best)
    fastest_cedar = max(r.best for r in rows if r.engine == "Cedar")
    fastest_casbin = max(r.best for r in rows if r.engine == "Casbin")
    verdicts = [
        (
            f"cached ≥ {CACHED_TARGET:,}/s (can_read, warm)",
            cached >= CACHED_TARGET,
            f"{cached:,.0f}/s",
        ),
        (
            f"cached ≥ {CACHED_TARGET:,}/s with equal copies (as in the service)",
            cached_copies >= CACHED_TARGET,
            f"{cached_copies:,.0f}/s",
        ),
        (
            f"uncached ≥ {UNCACHED_TARGET:,}/s (slower of may_read, decide)",
            slowest_uncached >= UNCACHED_TARGET,
            f"{slowest_uncached:,.0f}/s",
        ),
        (
            "faster than Cedar (Kyodo's slowest uncached vs Cedar's fastest mode)",
            slowest_uncached > fastest_cedar,
            f"{slowest_uncached / fastest_cedar:,.0f}×",
        ),
        (
            "faster than Casbin (Kyodo's slowest uncached vs Casbin)",
            slowest_uncached > fastest_casbin,
            f"{slowest_uncached / fastest_casbin:,.0f}×",
        ),
    ]
    verdict_lines = [
        f"- {'MET' if ok else 'NOT MET'}: {what} — {value}" for what, ok, value in verdicts
    ]
    verdict_lines.append(
        f"- (not a target) the warm cache runs at {cached / reference:.2f}× the uncached "
        f"may_read it caches; with equal copies {cached_copies / reference:.2f}×"
    )
    for line in verdict_lines:
        console.print(
            line, style="red" if "NOT MET" in line else "green" if "MET" in line else None
        )

    md = "\n".join(
        [
            "# Policy read check benchmark",
            "",
            *(f"- {line}" for line in facts),
            f"- Allowed: {allowed:,} of {n_pairs:,} pairs ({allowed / n_pairs:.1%})",
            f"- {machine.line()}",
            "",
            *(line for grid in grids for line in markdown_table(grid, heading="")),
            "Targets (issue 2):",
            "",
            *verdict_lines,
            "",
        ]
    )
    data = {"machine": machine.as_dict(), "facts": facts, "rows": rows, "verdicts": verdict_lines}
    report.write(md, data, lambda: draw(rows))
    return 0 if all(ok for _, ok, _ in verdicts) else 1
