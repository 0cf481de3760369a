"""Signals and contexts: named kinds of evidence a message carries, and context that lowers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kyodo.spillage.detectors import Span
    from kyodo.spillage.scanned import ScannedText
    from kyodo.spillage.terms import TermSet


@dataclass(frozen=True, slots=True)
class Signal:
    """One kind of evidence (a time, a weapon, a unit, a place…): its words and detectors.

    A signal alone never refuses a message; combination rules name the signals that must occur
    together.
    """

    id: str
    name: str
    name_ja: str
    terms: TermSet


@dataclass(frozen=True, slots=True)
class Context:
    """Words that make a message less likely operational (history, a press release, sport).

    When any of its terms occurs in the message, every rule's strength is lowered by `lowers`;
    a rule whose strength is not above the lowering does not fire. Contexts do not add up (the
    strongest one present counts): three harmless words do not excuse a strike time.
    """

    id: str
    name: str
    name_ja: str
    lowers: int
    terms: TermSet


@dataclass(slots=True)
class Evidence:
    """One message's signals and contexts, each computed at most once (the rules share them)."""

    scanned: ScannedText
    signals: Mapping[str, Signal]
    contexts: tuple[Context, ...]
    _spans: dict[str, list[Span]] = field(default_factory=dict)
    _groups: dict[tuple[str, ...], list[Span]] = field(default_factory=dict)
    _lowering: tuple[int, tuple[str, ...]] | None = None

    def spans(self, signal_id: str) -> list[Span]:
        """Where the signal occurs, sorted by start."""
        found = self._spans.get(signal_id)
        if found is None:
            found = self.signals[signal_id].terms.spans(self.scanned)
            self._spans[signal_id] = found
        return found

    def group_spans(self, group: tuple[str, ...]) -> list[Span]:
        """Where any signal of the group occurs, sorted, each place once."""
        found = self._groups.get(group)
        if found is None:
            if len(group) == 1:
                found = self.spans(group[0])
            else:
                found = sorted({span for signal in group for span in self.spans(signal)})
            self._groups[group] = found
        return found

    def lowering(self) -> tuple[int, tuple[str, ...]]:
        """The lowering of the strongest context present, and the ids of all present."""
        if self._lowering is None:
            present = [c for c in self.contexts if c.terms.spans(self.scanned)]
            lowers = max((c.lowers for c in present), default=0)
            self._lowering = (lowers, tuple(c.id for c in present))
        return self._lowering
