"""The chat bench's report: its tables, Markdown, JSON data and plot."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .. import profiling
from ..machine import commit, machine_facts
from ..report import Grid, Versus, markdown_table, versus_grid
from .config import (
    EXPLODED_P99_MS,
    KEEP_UP,
    NET_LABEL,
    OTHER_REPEAT,
    SHARED_MACHINE,
    TARGET_P99_MS,
    TARGET_RATE,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..machine import MachineRun
    from ..profiling import Profile
    from .backend import BackendResult
    from .config import Config
    from .steps import Step


COLUMNS = (
    "offered/s",
    "posts/s",
    "deliveries/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "HTTP p50",
    "HTTP p99",
    "errors",
    "CPU cores srv/db/bench/other/steal",
    "srv CPU ms/post",
    "p99<50ms",
)


def _ms(value: float) -> str:
    """Milliseconds: one decimal below 100, '–' for nan."""
    if value != value:  # nan
        return "–"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def step_row(step: Step) -> list[str]:
    """A step's row of the table."""
    cpu = step.cpu
    db = f"{cpu['db']:.2f}" if step.backend == "postgres" else "–"
    return [
        f"{step.offered:.0f}",
        f"{step.achieved:.1f}",
        f"{step.deliveries_per_s:.0f}",
        _ms(step.lat["p50"]),
        _ms(step.lat["p95"]),
        _ms(step.lat["p99"]),
        _ms(step.lat["max"]),
        _ms(step.http["p50"]),
        _ms(step.http["p99"]),
        step.error_text(),
        f"{cpu['server']:.2f}/{db}/{cpu['bench']:.2f}/{cpu['other']:.2f}/{cpu['steal']:.2f}",
        _ms(step.server_ms_per_post),
        "yes" if step.meets_target else "no",
    ]


def verdict(result: BackendResult) -> str:
    """The target met or not, the sustained maximum and the fastest rate within target."""
    at = [s for s in result.steps if s.offered == TARGET_RATE]
    sustained = f"{result.sustained_max:.0f}/s" if result.sustained_max else "below the lowest"
    within = [s.offered for s in result.steps if s.meets_target]
    within_text = f"{max(within):.0f}/s" if within else "none of the rates"
    if not at:
        target = f"target rate {TARGET_RATE:.0f}/s not measured"
    else:
        s = at[0]
        target = (
            f"target p99 < {TARGET_P99_MS:.0f} ms at {TARGET_RATE:.0f} msg/s: "
            f"{'MET' if result.target_met else 'NOT MET'} "
            f"(achieved {s.achieved:.0f}/s, p99 {_ms(s.lat['p99'])} ms, errors {s.error_text()})"
        )
    return (
        f"{target}; sustained maximum (keeps up, no loss, p99 < {EXPLODED_P99_MS:.0f} ms): "
        f"{sustained}; highest rate with p99 < {TARGET_P99_MS:.0f} ms: {within_text}"
    )


def grid(result: BackendResult, cfg: Config) -> Grid:
    """One back-end's steps as a table, its verdict as the caption."""
    return Grid(
        title=(
            f"{'Floor' if result.floor else 'Kyodo chat'}, {result.backend} — "
            f"{result.database_version}: {cfg.clients} WebSocket "
            f"clients, {cfg.nets} nets, {cfg.clients // cfg.nets} per net, "
            f"{cfg.step_seconds:.0f} s per step"
        ),
        headers=list(COLUMNS),
        rows=[step_row(s) for s in result.steps],
        caption=verdict(result),
        left=frozenset({"errors"}),
        styles=[
            None if s.meets_target else ("yellow" if s.sustained else "red") for s in result.steps
        ],
    )


def floor_grids(results: list[BackendResult], machine: MachineRun) -> list[Grid]:
    """Each Kyodo back-end against the floor, at the rates both ran."""
    floor = next((r for r in results if r.floor), None)
    if floor is None:
        return []
    grids = []
    for result in results:
        if result.floor:
            continue
        at = {s.offered: s for s in floor.steps}
        pairs: list[Versus] = []
        for step in result.steps:
            other = at.get(step.offered)
            if other is None:
                continue
            rate = f"{step.offered:.0f}/s"
            pairs += [
                Versus(f"{rate}: p50 ms", step.lat["p50"], other.lat["p50"]),
                Versus(f"{rate}: p99 ms", step.lat["p99"], other.lat["p99"]),
                Versus(
                    f"{rate}: server CPU ms/post", step.server_ms_per_post, other.server_ms_per_post
                ),
            ]
        pairs.append(Versus("sustained maximum, msg/s", result.sustained_max, floor.sustained_max))
        title = f"Kyodo ({result.backend}) vs the floor (WebSocket fan-out, no storage or policy)"
        grids.append(versus_grid(title, "floor", pairs, machine))
    return grids


def facts() -> list[str]:
    """The machine, the libraries and the code measured."""
    libraries = ("uvicorn", "fastapi", "sqlalchemy", "aiosqlite", "asyncpg", "websockets", "httpx")
    return [
        *machine_facts(libraries),
        f"Kyodo at {commit()}; one `kyodo serve` process (uvicorn, one worker, access log on)",
        f"Shared machine: {SHARED_MACHINE}.",
    ]


def method_lines(cfg: Config) -> list[str]:
    """How the run measures, for chat.md."""
    return [
        f"{cfg.clients} WebSocket clients (half USA cleared SECRET, half JPN cleared GOKUHI), each "
        f"a member of one of {cfg.nets} nets (ceiling and default label `{NET_LABEL}`); each "
        f"subscribes to all its nets (token in the `kyodo.token.` subprotocol); permessage-deflate "
        f"{'offered (as browsers do)' if cfg.deflate else 'off'}.",
        f"{cfg.posters} posters (members of every net) post over HTTP/1.1 keep-alive "
        f"({cfg.connections} connections of a minimal client in the bench, one request at a time "
        "on each, replaced after 4 s idle; bearer tokens; httpx cost ~0.3 ms of CPU per request "
        "on the shared cores), open loop at the offered rate, round-robin over the nets; texts "
        "are ordinary staff traffic with an id.",
        "Post→delivery latency: from the post's scheduled send time to its arrival at each "
        f"member's WebSocket ({cfg.clients // cfg.nets} deliveries per message), "
        "`time.perf_counter` in the bench process; HTTP p50/p99 is the POST round trip.",
        f"posts/s = accepted posts / max(step, last response); a step keeps up when "
        f"posts/s ≥ {KEEP_UP:.0%} of offered with no error or lost delivery; sustained maximum "
        f"= highest rate that keeps up with p99 < {EXPLODED_P99_MS:.0f} ms. Target: p99 < "
        f"{TARGET_P99_MS:.0f} ms at {TARGET_RATE:.0f} msg/s.",
        "CPU columns: cores used during the step by the server process, PostgreSQL processes, "
        "the bench process, and everything else on the machine (other = machine busy minus "
        "those three and steal; other people's jobs on this shared machine show up there); "
        "steal = time the host ran something else while this machine's cores had work "
        "(`/proc/stat`), which slows every figure of the step.",
    ]


def markdown(
    results: list[BackendResult], cfg: Config, started: str, facts: list[str], machine: MachineRun
) -> str:
    """chat.md: machine, method, each back-end's table, notes and profile."""
    lines = [
        "# Chat benchmark: post→delivery latency and messages/s",
        "",
        f"Run {started} with `python bench/chat.py{' --quick' if cfg.quick else ''}`.",
        "",
        "## Machine",
        "",
        *[f"- {fact}" for fact in facts],
        f"- {machine.line()}",
        "",
        "## Method",
        "",
        *[f"- {line}" for line in method_lines(cfg)],
    ]
    for result in results:
        lines += [
            "",
            f"## {result.backend} — {result.database_version}",
            "",
            *markdown_table(grid(result, cfg), heading=""),
            f"Machine speed (`cpu_speed`, a fixed pure-Python loop, million iterations/s; higher "
            f"is faster): {result.speed[0]:.1f} before the steps, {result.speed[1]:.1f} after.",
            "",
            "Set-up: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in result.setup.items())
            + ". Generator lag p99 per step (ms): "
            + ", ".join(f"{s.offered:.0f}/s {s.gen_lag_p99:.1f}" for s in result.steps)
            + ".",
        ]
        if any(s.pg_waits for s in result.steps):
            lines += [
                "",
                "PostgreSQL backends of the bench database, mean over the step (active / waiting "
                "on a lock), and transactions per accepted post (commits + rollbacks, from "
                "pg_stat_database; a rollback is a failed write or a ping of an idle connection): "
                + ", ".join(
                    f"{s.offered:.0f}/s {s.pg_waits['active']:.1f}/{s.pg_waits['lock']:.1f}, "
                    f"{s.pg_waits['commits'] / max(s.posts_ok, 1):.1f} + "
                    f"{s.pg_waits['rollbacks'] / max(s.posts_ok, 1):.1f}"
                    for s in result.steps
                    if s.pg_waits
                )
                + ".",
            ]
        if any(s.repeated for s in result.steps):
            lines += [
                "",
                "Steps measured again because other jobs used more than "
                f"{OTHER_REPEAT} cores during them (the calmest is shown): "
                + ", ".join(f"{s.offered:.0f}/s" for s in result.steps if s.repeated)
                + ".",
            ]
        if any(s.quiet_wait for s in result.steps):
            lines += [
                "",
                "Waited for other jobs on the machine to calm down before steps (s): "
                + ", ".join(f"{s.offered:.0f}/s {s.quiet_wait:.0f}" for s in result.steps)
                + ".",
            ]
        lines += [f"- {note}" for note in result.notes]
        if result.profile is not None:
            lines += profile_markdown(result.profile)
    for versus in floor_grids(results, machine):
        lines += ["", *markdown_table(versus)]
    return "\n".join(lines) + "\n"


def profile_markdown(profile: Profile) -> list[str]:
    """The profile's section of chat.md."""
    intro: list[str] = []
    if profile.step is not None:
        s = profile.step
        intro += [
            f"Extra step at {s.offered:.0f}/s while sampling (not in the table): "
            f"{s.achieved:.0f} posts/s, p50 {_ms(s.lat['p50'])} ms, p99 {_ms(s.lat['p99'])} ms, "
            f"server {s.cpu['server']:.2f} cores, {_ms(s.server_ms_per_post)} ms CPU/post"
            + (
                f", PostgreSQL backends active {s.pg_waits['active']:.1f} / waiting on a lock "
                f"{s.pg_waits['lock']:.1f}"
                if s.pg_waits
                else ""
            )
            + f". Flame graph: `{profile.svg.name}`; collapsed "
            f"stacks: `{profile.raw.name}`.",
            "",
        ]
    return profiling.profile_markdown(profile, intro)


def draw(results: list[BackendResult], cfg: Config) -> Figure:
    """Latency percentiles and accepted posts/s against the offered rate, per back-end."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    colours = {"sqlite": "tab:blue", "postgres": "tab:orange", "floor": "tab:grey"}
    for result in results:
        xs = [s.offered for s in result.steps]
        colour = colours.get(result.backend)
        for q, style in (("p50", ":"), ("p95", "--"), ("p99", "-")):
            left.plot(
                xs,
                [s.lat[q] for s in result.steps],
                style,
                marker="o",
                color=colour,
                label=f"{result.backend} {q}",
            )
        right.plot(
            xs,
            [s.achieved for s in result.steps],
            "-",
            marker="o",
            color=colour,
            label=f"{result.backend} posts/s",
        )
    left.axhline(TARGET_P99_MS, color="red", linewidth=0.8, label="p99 target 50 ms")
    left.axvline(TARGET_RATE, color="grey", linewidth=0.8)
    left.set_yscale("log")
    left.set_xlabel("offered messages/s")
    left.set_ylabel("post→delivery latency, ms (log)")
    left.set_title("Latency percentiles vs offered rate")
    left.legend(fontsize=7)
    top = max((s.offered for r in results for s in r.steps), default=1)
    right.plot([0, top], [0, top], color="grey", linewidth=0.8, label="offered")
    right.axvline(TARGET_RATE, color="grey", linewidth=0.8)
    right.set_xlabel("offered messages/s")
    right.set_ylabel("accepted posts/s")
    right.set_title("Throughput")
    right.legend(fontsize=7)
    fig.suptitle(
        f"Kyodo chat: {cfg.clients} WebSocket clients, {cfg.nets} nets — server and load "
        f"generator share {os.cpu_count()} cores",
        fontsize=10,
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
