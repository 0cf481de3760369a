"""The labelled corpus, the confusion counts and the timing of the guard over it."""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kyodo.labels import parse_marking
from kyodo.spillage import check

if TYPE_CHECKING:
    from pathlib import Path

    from kyodo.labels import Label, SchemeRegistry
    from kyodo.spillage import GuardResult, RuleSet


@dataclass(frozen=True)
class Message:
    """One message of the corpus: its text, label and whether it is operational."""

    text: str
    label: Label
    marking: str
    operational: bool
    lang: str


@dataclass
class Counts:
    """True/false positives and negatives, and the messages the guard got wrong."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    misses: list[tuple[str, Message, GuardResult]] = field(default_factory=list)

    def add(self, message: Message, result: GuardResult) -> None:
        """Counts one message's result."""
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
        """Refusals that were right."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Operational messages refused."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def fp_rate(self) -> float:
        """Ordinary messages refused."""
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0


def load_corpus(path: Path, registry: SchemeRegistry) -> list[Message]:
    """The JSON lines of `path`; exits on a malformed line."""
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
