"""Term lists: regular expressions and `@detector` references compiled into one matcher."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Final

from kyodo.errors import GuardRulesError
from kyodo.spillage.detectors import DETECTORS
from kyodo.spillage.scanned import MAX_SPANS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kyodo.spillage.detectors import Span
    from kyodo.spillage.scanned import ScannedText

DETECTOR_PREFIX: Final = "@"
LIST_PREFIX: Final = "$"

# A term may not start or end inside an ASCII word ("TOT" is not in "total"), but it may touch
# Japanese text, which has no spaces ("トマホークを発射", "PAC-3部隊"). Each side is checked
# only where the term itself has an ASCII letter or digit at that edge.
_W = "A-Za-z0-9"
_START: Final = rf"(?:(?<![{_W}])|(?![{_W}]))"
_END: Final = rf"(?:(?![{_W}])|(?<![{_W}]))"


@dataclass(frozen=True, slots=True)
class TermSet:
    """A list of terms: one case-insensitive alternation of regexes, plus built-in detectors."""

    terms: tuple[str, ...]
    pattern: re.Pattern[str] | None
    detectors: tuple[str, ...]

    def spans(self, scanned: ScannedText) -> list[Span]:
        """Every place a term matches, sorted by start (empty matches never count)."""
        found: list[Span] = []
        if self.pattern is not None:
            found.extend(
                islice(
                    (m.span() for m in self.pattern.finditer(scanned.text) if m.end() > m.start()),
                    MAX_SPANS,
                )
            )
        for name in self.detectors:
            found.extend(scanned.detector_spans(name))
        if self.detectors:
            found.sort()
        return found


def compile_terms(terms: Sequence[str], where: str) -> TermSet:
    """A TermSet from terms already expanded from `$lists`; GuardRulesError says which is bad."""
    if not terms:
        raise GuardRulesError(f"{where}: the term list is empty")
    regexes: list[str] = []
    detectors: list[str] = []
    for term in terms:
        if not term.strip():
            raise GuardRulesError(f"{where}: empty term")
        if term.startswith(DETECTOR_PREFIX):
            name = term[len(DETECTOR_PREFIX) :]
            if name not in DETECTORS:
                raise GuardRulesError(
                    f"{where}: unknown detector {term!r}; known: "
                    + ", ".join(DETECTOR_PREFIX + d for d in sorted(DETECTORS))
                )
            if name not in detectors:
                detectors.append(name)
            continue
        try:
            single = re.compile(term, re.IGNORECASE)
        except re.error as exc:
            raise GuardRulesError(f"{where}: term {term!r} is not a valid regex: {exc}") from None
        if single.match("") is not None:
            raise GuardRulesError(f"{where}: term {term!r} matches the empty string")
        regexes.append(term)
    pattern = None
    if regexes:
        # The edge checks depend only on the position, so they sit outside the alternation:
        # the same matches as one check per term, and `re` scans ~10x faster.
        joined = f"{_START}(?:{'|'.join(f'(?:{t})' for t in regexes)}){_END}"
        try:
            pattern = re.compile(joined, re.IGNORECASE)
        except re.error as exc:  # e.g. a back-reference that only made sense alone
            raise GuardRulesError(f"{where}: the terms do not combine: {exc}") from None
    return TermSet(tuple(terms), pattern, tuple(detectors))
