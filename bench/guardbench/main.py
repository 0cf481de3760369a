"""`python bench/guard.py`: the guard over the corpus, the targets, the misses, the report."""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

from rich.console import Console

from kyodo.labels import render_marking
from kyodo.scheme_files import default_registry
from kyodo.spillage import check
from kyodo.spillage_files import load_rules

from ..machine import MachineRun
from ..report import Grid, Report, markdown_table
from .corpus import Counts, load_corpus, time_per_message

BENCH = Path(__file__).resolve().parent.parent
CORPUS = BENCH / "data" / "guard_corpus.jsonl"
OUT_DIR = BENCH / "out"
RECALL_TARGET = 0.95  # on operational messages (the issue)
FP_RATE_TARGET = 0.05  # share of ordinary messages refused


def counts_grid(title: str, rows: list[tuple[str, Counts]]) -> Grid:
    """Messages, the confusion counts, precision, recall and FP rate per set."""
    headers = ["set", "messages", "operational", "TP", "FN", "FP", "TN"]
    headers += ["precision", "recall", "FP rate"]
    cells = [
        [
            name,
            str(c.tp + c.fn + c.fp + c.tn),
            str(c.tp + c.fn),
            str(c.tp),
            str(c.fn),
            str(c.fp),
            str(c.tn),
            f"{c.precision:.3f}",
            f"{c.recall:.3f}",
            f"{c.fp_rate:.1%}",
        ]
        for name, c in rows
    ]
    return Grid(title, headers, cells)


def targets_grid(overall: Counts) -> Grid:
    """The issue's two targets, met or not."""
    recall_met = overall.recall >= RECALL_TARGET
    fp_met = overall.fp_rate <= FP_RATE_TARGET
    rows = [
        [
            "recall on operational messages",
            f"≥ {RECALL_TARGET:.2f}",
            f"{overall.recall:.3f}",
            "yes" if recall_met else "NO",
        ],
        [
            "false positives on ordinary traffic",
            f"≤ {FP_RATE_TARGET:.0%}",
            f"{overall.fp_rate:.1%}",
            "yes" if fp_met else "NO",
        ],
    ]
    return Grid("Targets (issue)", ["target", "wanted", "measured", "met"], rows)


def main(argv: list[str] | None = None) -> int:
    """Runs the guard over the corpus and reports; always 0 (the tables say what missed)."""
    parser = argparse.ArgumentParser(
        description="Spillage guard on a labelled corpus: precision, recall, false positives, µs."
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rules", type=Path, default=None, help="Rules file (default: shipped).")
    parser.add_argument("--rounds", type=int, default=20, help="Timing passes over the corpus.")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where to write (bench/out)")
    args = parser.parse_args(argv)

    machine = MachineRun.begin()
    registry = default_registry()
    rules = load_rules(args.rules, registry)
    messages = load_corpus(args.corpus, registry)
    overall = Counts()
    by_lang: dict[str, Counts] = {}
    for message in messages:
        result = check(message.text, message.label, rules, registry)
        overall.add(message, result)
        by_lang.setdefault(message.lang, Counts()).add(message, result)
    mean_us, median_us, max_us = time_per_message(messages, rules, registry, args.rounds)
    machine.end()

    rows = [("all", overall)] + [(lang, by_lang[lang]) for lang in sorted(by_lang)]
    grids = [
        counts_grid(f"Spillage guard on {args.corpus.name} ({len(rules)} rules)", rows),
        targets_grid(overall),
    ]
    speed = (
        f"Speed: {mean_us:.1f} µs per message (mean over the corpus, best of {args.rounds} "
        f"passes); single message median {median_us:.1f} µs, max {max_us:.1f} µs. "
        f"Python {platform.python_version()} on {platform.machine()}."
    )
    headers = ["kind", "lang", "label", "text", "findings / suggested"]
    misses = Grid("Misses", headers, left=frozenset(headers))
    for kind, m, result in overall.misses:
        found = "; ".join(f"{f.rule_id}: {f.text!r}" for f in result.findings if f.above_label)
        suggested = render_marking(result.suggested, registry)
        misses.rows.append(
            [kind, m.lang, m.marking, m.text, f"{found or 'none above the label'} → {suggested}"]
        )
    report = Report("guard", args.out, Console(width=120))
    report.show(grids)
    report.console.print(speed)
    report.console.print(machine.line())
    report.show([misses] if misses.rows else [])
    md = ["# Spillage guard benchmark", "", speed, "", f"{machine.line()}.", ""]
    md += [line for grid in [*grids, misses] for line in markdown_table(grid)]
    data = {
        "machine": machine.as_dict(),
        "sets": {name: {k: getattr(c, k) for k in ("tp", "fn", "fp", "tn")} for name, c in rows},
        "us_per_message": {"mean": mean_us, "median": median_us, "max": max_us},
    }
    report.write("\n".join(md), data)
    return 0
