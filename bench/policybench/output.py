"""The policy bench's report: the engines table, Kyodo vs the floor, verdicts and the plot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..report import Grid, Versus, ratio, versus_grid
from .floor import FLOOR_MODE
from .kyodo import CACHED, CACHED_DECIDE, DECIDE, MAY_READ

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..machine import MachineRun
    from .timing import Row

CACHED_TARGET = 1_000_000  # decisions/s, issue 2
UNCACHED_TARGET = 250_000


def engines_grid(rows: list[Row], reference: float) -> Grid:
    """Every engine and mode measured, with its rate against Kyodo's may_read."""
    headers = [
        "engine",
        "mode",
        "decisions measured",
        "runs",
        "decisions/s (best)",
        "decisions/s (median)",
        "µs/decision (best)",
        "vs Kyodo may_read",
        "note",
    ]
    cells = [
        [
            row.engine,
            row.mode,
            f"{row.measured:,}",
            str(len(row.seconds)),
            f"{row.best:,.0f}",
            f"{row.median:,.0f}",
            f"{1e6 / row.best:.3f}" if row.best > 1e5 else f"{1e6 / row.best:.1f}",
            ratio(row.best, reference),
            row.note,
        ]
        for row in rows
    ]
    styles: list[str | None] = ["bold" if row.kyodo else None for row in rows]
    return Grid(
        "Policy read check, one core",
        headers,
        cells,
        left=frozenset({"mode", "note"}),
        styles=styles,
    )


def floor_grid(rows: list[Row], machine: MachineRun) -> Grid:
    """Kyodo's modes against the plain dominance check, decisions/s (best run)."""
    kyodo = {r.mode: r.best for r in rows if r.kyodo}
    floor = next(r.best for r in rows if r.mode == FLOOR_MODE)
    pairs = [
        Versus(f"{mode}, decisions/s", kyodo.get(mode), floor)
        for mode in (MAY_READ, DECIDE, CACHED, CACHED_DECIDE)
    ]
    return versus_grid("Kyodo vs the floor (plain dominance check)", "floor", pairs, machine)


def draw(rows: list[Row]) -> Figure:
    """Decisions/s of every engine and mode, log scale, with the targets."""
    import matplotlib.pyplot as plt

    colours = {"Kyodo": "#1f6feb", "Cedar": "#d97706", "Casbin": "#7c3aed", "Floor": "#6b7280"}
    names = [f"{r.engine}: {r.mode}" for r in rows][::-1]
    rates = [r.best for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(rows) + 1.8))
    bars = ax.barh(names, rates, color=[colours[r.engine] for r in rows][::-1])
    ax.set_xscale("log")
    ax.set_xlim(min(rates) / 2, max(rates) * 5)
    ax.axvline(CACHED_TARGET, color="green", linestyle="--", linewidth=1)
    ax.axvline(UNCACHED_TARGET, color="grey", linestyle=":", linewidth=1)
    ax.text(CACHED_TARGET, len(rows) - 0.4, " cached target", color="green", fontsize=8)
    ax.text(UNCACHED_TARGET, len(rows) - 0.4, " uncached target", color="grey", fontsize=8)
    for bar, rate in zip(bars, rates, strict=True):
        ax.text(
            rate * 1.08,
            bar.get_y() + bar.get_height() / 2,
            f"{rate:,.0f}/s",
            va="center",
            fontsize=8,
        )
    ax.set_xlabel("decisions per second, one core (log scale, best run)")
    ax.set_title("Read check: Kyodo vs Cedar (cedarpy), Casbin (pycasbin) and the floor")
    return fig
