"""The CoT bench's tables: per server, Kyodo vs peers, Kyodo vs the floor, and the targets."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..report import Grid, Versus, fmt, ms, ratio, versus_grid
from .config import (
    TARGET_CHURN_MS,
    TARGET_IDLE_MB,
    TARGET_N50_IN,
    TARGET_N50_P99,
    TARGET_N200_DELIVERIES,
    TARGET_N200_P99,
)
from .steps import KEEP_UP, Row

if TYPE_CHECKING:
    from ..machine import MachineRun
    from .config import Config
    from .phases import ServerResult


LEFT = frozenset({"load", "server", "events pass through"})
ROW_HEADERS = (
    "N",
    "load",
    "senders",
    "offered ev/s",
    "sent ev/s",
    "in ev/s",
    "deliveries/s",
    "delivered",
    "p50 ms",
    "p99 ms",
    "max ms",
    "errors",
    "srv CPU",
    "gen CPU",
)


def row_cells(row: Row) -> list[str]:
    """A step's row of the per-server table."""
    n = f"{row.n}" if row.ready >= row.n else f"{row.n} ({row.ready} ready)"
    label = "keeps up" if row.keeps_up else "✗ behind"
    if row.churn:
        label = "churn"
    elif row.baseline:
        label = f"no churn, {label}"
    return [
        n,
        label,
        str(row.senders),
        fmt(row.offered),
        fmt(row.sent_rate),
        fmt(row.in_rate),
        fmt(row.deliveries_rate),
        f"{row.delivered_pct:.1f}%" if not math.isnan(row.delivered_pct) else "–",
        ms(row.p50),
        ms(row.p99),
        ms(row.max_ms),
        str(row.errors),
        fmt(row.server_cpu, 2),
        fmt(row.gen_cpu, 2),
    ]


def best(rows: list[Row], n: int) -> Row | None:
    """The step with the most deliveries/s that kept up, at N."""
    kept = [r for r in rows if r.n == n and not r.churn and r.label == "steady" and r.keeps_up]
    return max(kept, key=lambda r: r.deliveries_rate, default=None)


def peak(rows: list[Row], n: int) -> Row | None:
    """The step with the most deliveries/s at N, kept up or not."""
    steady = [r for r in rows if r.n == n and r.label == "steady"]
    return max(steady, key=lambda r: r.deliveries_rate, default=None)


def light(rows: list[Row], n: int) -> Row | None:
    """The step with the lowest offered rate at N."""
    steady = [r for r in rows if r.n == n and r.label == "steady"]
    return min(steady, key=lambda r: r.offered, default=None)


def churn_rows(rows: list[Row]) -> tuple[Row | None, Row | None]:
    """The light step without churn and the one with."""
    off = next((r for r in rows if r.baseline), None)
    on = next((r for r in rows if r.churn), None)
    return off, on


def tables(results: list[ServerResult], cfg: Config, machine: MachineRun) -> list[Grid]:
    """Per server, Kyodo vs the peers, Kyodo vs the floor, then memory, churn, pass-through."""
    out: list[Grid] = []
    for res in results:
        if res.error and not res.rows:
            continue
        body = [row_cells(r) for r in res.rows]
        out.append(Grid(f"CoT load — {res.name}", list(ROW_HEADERS), body, left=LEFT))
    ok = [r for r in results if r.rows]
    kyodo = next((r for r in ok if r.name.startswith("Kyodo")), None)
    peers = [r for r in ok if r is not kyodo and not r.floor]
    if kyodo is not None and peers:
        out.append(_peer_ratios(kyodo, peers, cfg))
    floor = next((r for r in ok if r.floor), None)
    if kyodo is not None and floor is not None:
        out.append(_versus_floor(kyodo, floor, cfg, machine))
    out.append(_summary(results, cfg))
    return out


def _peer_ratios(kyodo: ServerResult, peers: list[ServerResult], cfg: Config) -> Grid:
    """Kyodo ÷ each peer (or peer ÷ Kyodo for latency and memory): > 1 is better for Kyodo."""
    body = []
    for n in cfg.ns:
        kb, kl, kp = best(kyodo.rows, n), light(kyodo.rows, n), peak(kyodo.rows, n)
        cells_d, cells_p, cells_i, cells_50, cells_99 = [], [], [], [], []
        for peer in peers:
            pb, pl, pp = best(peer.rows, n), light(peer.rows, n), peak(peer.rows, n)
            cells_d.append(
                ratio(kb.deliveries_rate if kb else None, pb.deliveries_rate if pb else None)
            )
            cells_p.append(
                ratio(kp.deliveries_rate if kp else None, pp.deliveries_rate if pp else None)
            )
            cells_i.append(ratio(kb.in_rate if kb else None, pb.in_rate if pb else None))
            cells_50.append(ratio(pl.p50 if pl else None, kl.p50 if kl else None))
            cells_99.append(ratio(pl.p99 if pl else None, kl.p99 if kl else None))
        body.append([f"N={n}: deliveries/s kept up (Kyodo ÷ peer)", *cells_d])
        body.append([f"N={n}: peak deliveries/s, any step (Kyodo ÷ peer)", *cells_p])
        body.append([f"N={n}: events/s in kept up (Kyodo ÷ peer)", *cells_i])
        body.append([f"N={n}: p50 at the lightest load (peer ÷ Kyodo)", *cells_50])
        body.append([f"N={n}: p99 at the lightest load (peer ÷ Kyodo)", *cells_99])
    cells_mem = [ratio(_idle_pss(peer), _idle_pss(kyodo)) for peer in peers]
    body.append(["idle memory, PSS (peer ÷ Kyodo)", *cells_mem])
    headers = ["measure", *[r.name for r in peers]]
    return Grid("Ratios vs Kyodo (× better for Kyodo when > 1)", headers, body)


def _idle_pss(res: ServerResult) -> float | None:
    """The server's PSS at idle, MB."""
    return res.idle.pss_mb if res.idle else None


def _cost(row: Row | None) -> float | None:
    """Server CPU µs per delivery in a step (None without deliveries or a CPU reading)."""
    if row is None or not row.deliveries_rate or math.isnan(row.server_cpu):
        return None
    return row.server_cpu / row.deliveries_rate * 1e6


def _versus_floor(
    kyodo: ServerResult, floor: ServerResult, cfg: Config, machine: MachineRun
) -> Grid:
    """Kyodo's figures beside the null relay's at the same steps (the floor for #19)."""
    pairs: list[Versus] = []
    for n in cfg.ns:
        kb, fb = best(kyodo.rows, n), best(floor.rows, n)
        kp, fp = peak(kyodo.rows, n), peak(floor.rows, n)
        kl, fl = light(kyodo.rows, n), light(floor.rows, n)
        pairs += [
            Versus(
                f"N={n}: deliveries/s kept up",
                kb.deliveries_rate if kb else None,
                fb.deliveries_rate if fb else None,
            ),
            Versus(
                f"N={n}: peak deliveries/s",
                kp.deliveries_rate if kp else None,
                fp.deliveries_rate if fp else None,
            ),
            Versus(f"N={n}: p50 ms, lightest load", kl.p50 if kl else None, fl.p50 if fl else None),
            Versus(f"N={n}: p99 ms, lightest load", kl.p99 if kl else None, fl.p99 if fl else None),
            Versus(
                f"N={n}: server cores, lightest load",
                kl.server_cpu if kl else None,
                fl.server_cpu if fl else None,
            ),
            Versus(f"N={n}: server CPU µs per delivery, top step", _cost(kp), _cost(fp)),
        ]
    pairs.append(Versus("idle memory, PSS MB", _idle_pss(kyodo), _idle_pss(floor)))
    return versus_grid(
        "Kyodo vs the floor (a null relay under the same load)", floor.name, pairs, machine
    )


def _summary(results: list[ServerResult], cfg: Config) -> Grid:
    """Per server: memory idle and loaded, best throughput, churn and pass-through."""
    summary_headers = [
        "server",
        "idle: processes",
        "idle RSS MB",
        "idle PSS MB",
        "idle CPU",
        f"loaded (N={max(cfg.ns)}): processes",
        "loaded PSS MB",
        "best deliveries/s",
        "p99 without → with churn",
        "events pass through",
    ]
    summary = []
    for res in results:
        if res.error and not res.rows:
            summary.append([res.name, *["–"] * 8, "not run: see below"])
            continue
        top = max(
            (r for r in res.rows if r.keeps_up and r.label == "steady"),
            key=lambda r: r.deliveries_rate,
            default=None,
        )
        off, on = churn_rows(res.rows)
        churn_text = "–"
        if on and off:
            churn_text = (
                f"{ms(off.p99)} → {ms(on.p99)} ms ({on.p99 - off.p99:+,.1f}); delivered "
                f"{off.delivered_pct:.0f}% → {on.delivered_pct:.0f}%"
            )
        summary.append(
            [
                res.name,
                str(res.idle.processes) if res.idle else "–",
                fmt(res.idle.rss_mb) if res.idle else "–",
                fmt(res.idle.pss_mb) if res.idle else "–",
                fmt(res.idle_cpu, 2),
                str(res.loaded.processes) if res.loaded else "–",
                fmt(res.loaded.pss_mb) if res.loaded else "–",
                f"{fmt(top.deliveries_rate)} (N={top.n})" if top else "none kept up",
                churn_text,
                res.passthrough.summary(),
            ]
        )
    return Grid("Memory, churn and pass-through", summary_headers, summary, left=LEFT)


def targets(results: list[ServerResult], cfg: Config) -> list[str]:
    """The issue's targets for Kyodo, met (✓) or not (✗)."""
    kyodo = next((r for r in results if r.name.startswith("Kyodo") and r.rows), None)
    if kyodo is None:
        return ["Kyodo was not measured: targets not checked."]
    lines = []
    rows = kyodo.rows
    n200 = [r for r in rows if r.n == 200 and r.label == "steady"]
    if n200:
        top = max(n200, key=lambda r: r.deliveries_rate)
        ok = top.deliveries_rate >= TARGET_N200_DELIVERIES and top.p99 < TARGET_N200_P99
        lines.append(
            f"{'✓' if ok else '✗'} N=200: ≥ {TARGET_N200_DELIVERIES:,.0f} deliveries/s with p99 "
            f"< {TARGET_N200_P99:g} ms — measured {top.deliveries_rate:,.0f}/s, p99 "
            f"{ms(top.p99)} ms"
        )
    n50 = [r for r in rows if r.n == 50 and r.label == "steady"]
    if n50:
        meeting = [r for r in n50 if r.in_rate >= TARGET_N50_IN and r.p99 < TARGET_N50_P99]
        top = max(meeting or n50, key=lambda r: r.in_rate)
        ok = bool(meeting)
        lines.append(
            f"{'✓' if ok else '✗'} N=50: ≥ {TARGET_N50_IN:,.0f} events/s in with p99 < "
            f"{TARGET_N50_P99:g} ms — measured {top.in_rate:,.0f}/s, p99 {ms(top.p99)} ms"
        )
    off, on = churn_rows(rows)
    if off and on:
        delta = on.p99 - off.p99
        ok = delta <= TARGET_CHURN_MS and on.delivered_pct >= 100 * KEEP_UP
        lines.append(
            f"{'✓' if ok else '✗'} churn changes p99 by ≤ {TARGET_CHURN_MS:g} ms — measured "
            f"{delta:+.1f} ms ({ms(off.p99)} → {ms(on.p99)}), {on.delivered_pct:.1f}% delivered"
        )
    if kyodo.idle:
        ok = kyodo.idle.pss_mb < TARGET_IDLE_MB and kyodo.idle.processes == 1
        lines.append(
            f"{'✓' if ok else '✗'} idle memory < {TARGET_IDLE_MB:g} MB, one process — "
            f"{kyodo.idle.rss_mb:.0f} MB RSS, {kyodo.idle.processes} process(es)"
        )
    lines.append(f"pass-through: {kyodo.passthrough.summary()}")
    return lines
