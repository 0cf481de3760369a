"""The CoT bench's report: its Markdown, JSON data and plot, written by the shared writer."""

from __future__ import annotations

import math
import os
import platform
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..report import Report, markdown_table
from .config import SHARED_MACHINE
from .profiling import profile_markdown
from .steps import KEEP_UP, KEEP_UP_P99_MS
from .tables import best, light, tables, targets

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..machine import MachineRun
    from .config import Config
    from .phases import ServerResult


def print_report(
    results: list[ServerResult], cfg: Config, machine: MachineRun, report: Report
) -> None:
    """The tables, the targets and every server's problems, on the console."""
    console = report.console
    report.show(tables(results, cfg, machine))
    console.print(machine.line())
    for line in targets(results, cfg):
        console.print(line)
    for res in results:
        if res.load_averages:
            loads = ", ".join(f"{v:.1f}" for v in res.load_averages)
            console.print(f"{res.name}: the machine's 1-min load average at phase starts: {loads}")
        for text in problems(res):
            console.print(f"[yellow]{res.name}:[/] {text}")


def problems(res: ServerResult) -> list[str]:
    """What went wrong or was skipped for one server, one line each."""
    out = []
    if res.error:
        out.append(f"could not run — {res.error}")
    out.extend(res.notes)
    out.extend(res.skipped)
    for text, count in res.connect_errors.most_common(3):
        out.append(f"{count}× {text}")
    for row in res.rows:
        if row.error_text:
            out.append(f"N={row.n} {row.label} {row.offered:g} ev/s: {row.error_text}")
        if row.echoes:
            out.append(
                f"N={row.n} {row.offered:g} ev/s: {row.echoes} events echoed back to their "
                "sender (not counted as deliveries)"
            )
    return out


def markdown(results: list[ServerResult], cfg: Config, machine: MachineRun) -> str:
    """cot.md: the method, the tables, the targets, the profile and the servers."""
    lines = [
        "# CoT load benchmark",
        "",
        f"`python bench/cot.py{' --quick' if cfg.quick else ''}` on {platform.node()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}, "
        f"{os.cpu_count()} cores; {SHARED_MACHINE}.",
        "",
        f"{machine.line()}.",
        "",
        "Load: N TCP clients on 127.0.0.1, each announcing its own position (an `a-f-…` event "
        "with `contact`, `__group`, `track`, `takv`), then a fifth of them (at least 2) sending "
        "position updates at the aggregate rate shown while all of them receive. Latency is "
        "send → receipt by another client (the send time rides in `<remarks>`); *in ev/s* counts "
        "distinct events that reached at least one other client, *deliveries/s* every copy "
        "received, over the step's send time; *delivered* is deliveries ÷ (events × other "
        f"clients) after up to {cfg.drain_seconds:g} s of drain. A step *keeps up* when ≥ "
        f"{KEEP_UP:.0%} arrived and p99 < {KEEP_UP_P99_MS:,.0f} ms; higher rates are not run "
        "after a step that does not. *churn*: the same light load while a client connects, "
        "announces itself and leaves every second. Memory: RSS and PSS summed over the "
        "server's processes (PSS splits shared pages, so forked workers are not counted "
        "twice).",
        "",
    ]
    for grid in tables(results, cfg, machine):
        lines += markdown_table(grid)
    lines += ["## Targets (issue 5, Kyodo)", ""]
    lines += [f"- {t}" for t in targets(results, cfg)]
    for res in results:
        if res.profile is not None:
            lines += profile_markdown(res.profile)
    lines += ["", "## Servers", ""]
    for res in results:
        lines.append(f"- **{res.name}**: {res.note or '–'}")
        if res.load_averages:
            lines.append(
                "  - the machine's 1-minute load average when its phases started: "
                + ", ".join(f"{v:.1f}" for v in res.load_averages)
            )
        for text in problems(res):
            lines.append(f"  - {text}".replace("\n", "\n    "))
    lines += [
        "",
        "The peers are installed from PyPI into venvs under `bench/work/` (git-ignored) and "
        "bound to 127.0.0.1: FreeTAKServer with opentelemetry 1.24.0 pinned, in a private "
        "mount namespace that puts its hard-coded `/opt/fts` under `bench/work/fts-opt`, and "
        "its data-package services moved from 0.0.0.0 to 127.0.0.1 (`bench/peers/"
        "fts_launch.py`); OpenTAKServer (needs Python ≥ 3.12) on the machine's RabbitMQ and "
        "PostgreSQL + PostGIS, with a database of its own dropped afterwards and its per-client "
        "RabbitMQ queues deleted (`bench/peers/ots_rabbit_cleanup.py`).",
        "",
        "![latency and throughput vs N](cot.png)",
        "",
    ]
    return "\n".join(lines)


def draw(results: list[ServerResult], cfg: Config) -> Figure:
    """Latency at the lightest load and the best deliveries/s, against N, for every server."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, (ax_lat, ax_thr) = plt.subplots(1, 2, figsize=(12, 4.8))
    for res in results:
        if not res.rows:
            continue
        xs, p50, p99, thr, thr_x = [], [], [], [], []
        for n in cfg.ns:
            row = light(res.rows, n)
            if row is not None and not math.isnan(row.p99):
                xs.append(n)
                p50.append(row.p50)
                p99.append(row.p99)
            top = best(res.rows, n)
            if top is not None:
                thr_x.append(n)
                thr.append(top.deliveries_rate)
        (line,) = ax_lat.plot(xs, p99, marker="o", label=f"{res.name} p99")
        ax_lat.plot(
            xs, p50, marker="x", linestyle="--", color=line.get_color(), label=f"{res.name} p50"
        )
        ax_thr.plot(thr_x, thr, marker="o", color=line.get_color(), label=res.name)
    for ax in (ax_lat, ax_thr):
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}")
        )
    ax_lat.set_title("Delivery latency at the lightest load (10 events/s)")
    ax_lat.set_xlabel("connected clients N")
    ax_lat.set_ylabel("ms (log)")
    ax_lat.set_yscale("log")
    ax_lat.set_xscale("log")
    ax_lat.set_xticks(list(cfg.ns), [str(n) for n in cfg.ns])
    ax_lat.grid(True, which="both", alpha=0.3)
    ax_lat.legend(fontsize=8)
    ax_thr.set_title("Deliveries/s at the highest rate that kept up")
    ax_thr.set_xlabel("connected clients N")
    ax_thr.set_ylabel("deliveries/s (log)")
    ax_thr.set_yscale("log")
    ax_thr.set_xscale("log")
    ax_thr.set_xticks(list(cfg.ns), [str(n) for n in cfg.ns])
    ax_thr.grid(True, which="both", alpha=0.3)
    ax_thr.legend(fontsize=8)
    fig.suptitle(f"CoT over TCP on loopback, {os.cpu_count()} shared cores")
    return fig


def data(results: list[ServerResult], machine: MachineRun) -> dict[str, Any]:
    """cot.json: every server's rows, memory, profile and problems, and the machine."""
    servers = []
    for res in results:
        servers.append(
            {
                "server": res.name,
                "floor": res.floor,
                "error": res.error,
                "idle": res.idle.__dict__ if res.idle else None,
                "loaded": res.loaded.__dict__ if res.loaded else None,
                "rows": [r.__dict__ for r in res.rows],
                "passthrough": res.passthrough.summary(),
                "profile": (
                    {
                        "samples": res.profile.samples,
                        "step": res.profile.step.__dict__ if res.profile.step else None,
                        "categories": res.profile.categories,
                        "self": res.profile.self_top,
                        "inclusive": res.profile.inclusive_top,
                    }
                    if res.profile is not None
                    else None
                ),
                "notes": problems(res),
            }
        )
    return {"machine": machine.as_dict(), "servers": servers}
