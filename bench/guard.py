"""Benchmark of the spillage guard on a labelled corpus: precision, recall, false positives, µs."""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from kyodo.labels import parse_marking, render_marking
from kyodo.scheme_files import default_registry
from kyodo.spillage import check
from kyodo.spillage_files import load_rules

if TYPE_CHECKING:
    from kyodo.labels import Label, SchemeRegistry
    from kyodo.spillage import GuardResult, RuleSet

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "data" / "guard_corpus.jsonl"
OUT_DIR = HERE / "out"
RECALL_TARGET = 0.95  # on operational messages (the issue)
FP_RATE_TARGET = 0.05  # share of ordinary messages refused


@dataclass(frozen=True)
class Message:
    text: str
    label: Label
    marking: str
    operational: bool
    lang: str


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    misses: list[tuple[str, Message, GuardResult]] = field(default_factory=list)

    def add(self, message: Message, result: GuardResult) -> None:
        if message.operational and result.refused:
            self.tp += 1
        elif message.operational:
            self.fn += 1
            self.misses.append(("missed", message, result))
        elif result.refused:
            self.fp += 1
            self.misses.append(("false positive", message, result))
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def fp_rate(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0


def load_corpus(path: Path, registry: SchemeRegistry) -> list[Message]:
    messages = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if set(row) != {"text", "label", "operational", "lang"}:
            sys.exit(f"{path}:{number}: expected text, label, operational, lang; got {sorted(row)}")
        messages.append(
            Message(
                row["text"],
                parse_marking(row["label"], registry),
                row["label"],
                bool(row["operational"]),
                row["lang"],
            )
        )
    return messages


def time_per_message(
    messages: list[Message], rules: RuleSet, registry: SchemeRegistry, rounds: int
) -> tuple[float, float, float]:
    """Mean µs per message over the corpus (best of `rounds` passes), median and max single."""
    passes = []
    for _ in range(rounds):
        start = time.perf_counter()
        for m in messages:
            check(m.text, m.label, rules, registry)
        passes.append(time.perf_counter() - start)
    singles = []
    for m in messages:
        start = time.perf_counter()
        check(m.text, m.label, rules, registry)
        singles.append(time.perf_counter() - start)
    return (
        min(passes) / len(messages) * 1e6,
        statistics.median(singles) * 1e6,
        max(singles) * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rules", type=Path, default=None, help="Rules file (default: shipped).")
    parser.add_argument("--rounds", type=int, default=20, help="Timing passes over the corpus.")
    args = parser.parse_args()

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

    console = Console(record=True, width=120)
    table = Table(title=f"Spillage guard on {args.corpus.name} ({len(rules)} rules)")
    for column in ("set", "messages", "operational", "TP", "FN", "FP", "TN"):
        table.add_column(column, justify="right" if column != "set" else "left")
    for column in ("precision", "recall", "FP rate"):
        table.add_column(column, justify="right")
    rows = [("all", overall)] + [(lang, by_lang[lang]) for lang in sorted(by_lang)]
    for name, c in rows:
        table.add_row(
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
        )
    console.print(table)

    recall_met = overall.recall >= RECALL_TARGET
    fp_met = overall.fp_rate <= FP_RATE_TARGET
    targets = Table(title="Targets (issue)")
    for column in ("target", "wanted", "measured", "met"):
        targets.add_column(column)
    targets.add_row(
        "recall on operational messages",
        f"≥ {RECALL_TARGET:.2f}",
        f"{overall.recall:.3f}",
        "yes" if recall_met else "NO",
    )
    targets.add_row(
        "false positives on ordinary traffic",
        f"≤ {FP_RATE_TARGET:.0%}",
        f"{overall.fp_rate:.1%}",
        "yes" if fp_met else "NO",
    )
    console.print(targets)
    console.print(
        f"Speed: {mean_us:.1f} µs per message (mean over the corpus, best of {args.rounds} "
        f"passes); single message median {median_us:.1f} µs, max {max_us:.1f} µs. "
        f"Python {platform.python_version()} on {platform.machine()}."
    )

    if overall.misses:
        misses = Table(title="Misses", show_lines=True)
        for column in ("kind", "lang", "label", "text", "findings / suggested"):
            misses.add_column(column, overflow="fold")
        for kind, m, result in overall.misses:
            found = "; ".join(f"{f.rule_id}: {f.text!r}" for f in result.findings if f.above_label)
            misses.add_row(
                kind,
                m.lang,
                m.marking,
                m.text,
                f"{found or 'none above the label'} → {render_marking(result.suggested, registry)}",
            )
        console.print(misses)
    else:
        console.print("No misses.")

    OUT_DIR.mkdir(exist_ok=True)
    out = OUT_DIR / "guard.md"
    out.write_text(
        "# Spillage guard benchmark\n\n```\n" + console.export_text() + "```\n", encoding="utf-8"
    )
    console.print(f"Saved {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
