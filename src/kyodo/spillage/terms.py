"""Term lists: regular expressions and `@detector` references compiled into one matcher."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from kyodo.errors import GuardRulesError
from kyodo.spillage.detectors import DETECTORS
from kyodo.spillage.literals import required_literals
from kyodo.spillage.scanned import MAX_SPANS

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

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


def _inside_word(text: str, index: int) -> bool:
    before, after = text[index - 1], text[index]
    return before.isascii() and before.isalnum() and after.isascii() and after.isalnum()


@dataclass(frozen=True, slots=True)
class Single:
    """One term on its own, with the words it cannot match without (None: unknown)."""

    literals: tuple[str, ...] | None
    pattern: re.Pattern[str]  # the term and the end check; the start is checked in spans()

    def spans(self, text: str) -> Iterator[Span]:
        """Non-empty matches that do not start inside an ASCII word.

        The start check is done here, not in the regex: a pattern that begins with its first
        letter lets `re` skip ahead to where that letter occurs instead of trying every place.
        """
        search = self.pattern.search
        position = 0
        while True:
            found = search(text, position)
            if found is None:
                return
            start, end = found.span()
            if start > 0 and _inside_word(text, start):
                position = start + 1
                continue
            if end > start:
                yield start, end
            position = end if end > start else start + 1


@dataclass(frozen=True, slots=True)
class TermSet:
    """A list of terms: case-insensitive regexes, plus built-in detectors.

    `pattern` is every regex in one alternation. `singles` are the same terms one by one, each
    with the literal words it needs: a term runs only when one of them is in the text, which
    skips most of a long list at the cost of a substring test (Python's `re` tries every
    alternative at every word, so one long alternation is the slow way to find few words).
    """

    terms: tuple[str, ...]
    pattern: re.Pattern[str] | None
    detectors: tuple[str, ...]
    singles: tuple[Single, ...] = ()
    # Each literal once, with the singles that need it; and the singles that always run.
    by_literal: tuple[tuple[str, tuple[int, ...]], ...] = ()
    always: frozenset[int] = frozenset()

    def spans(self, scanned: ScannedText) -> list[Span]:
        """Where the terms match, sorted by start, not overlapping (at each place the longest)."""
        found: list[Span] = []
        if self.singles:
            lowered = scanned.lowered
            active = set(self.always)
            for literal, users in self.by_literal:
                if literal in lowered:
                    active.update(users)
            text = scanned.text
            for index in sorted(active):
                found.extend(self.singles[index].spans(text))
            if len(active) > 1:
                found = _leftmost_longest(found)
        elif self.pattern is not None:
            found.extend(
                m.span() for m in self.pattern.finditer(scanned.text) if m.end() > m.start()
            )
        if len(found) > MAX_SPANS:
            found = found[:MAX_SPANS]
        for name in self.detectors:
            found.extend(scanned.detector_spans(name))
        if self.detectors:
            found.sort()
        return found


def _leftmost_longest(spans: list[Span]) -> list[Span]:
    """The spans one alternation would find: from the left, the longest at each start."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s[0], -s[1])):
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


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
    singles: list[Single] = []
    for term in regexes:
        singles.append(
            Single(required_literals(term), re.compile(f"(?:{term}){_END}", re.IGNORECASE))
        )
    if regexes:
        # The edge checks depend only on the position, so they sit outside the alternation:
        # the same matches as one check per term, and `re` scans ~10x faster.
        joined = f"{_START}(?:{'|'.join(f'(?:{t})' for t in regexes)}){_END}"
        try:
            pattern = re.compile(joined, re.IGNORECASE)
        except re.error as exc:  # e.g. a back-reference that only made sense alone
            raise GuardRulesError(f"{where}: the terms do not combine: {exc}") from None
    users: dict[str, list[int]] = {}
    for index, one in enumerate(singles):
        for literal in one.literals or ():
            users.setdefault(literal, []).append(index)
    return TermSet(
        tuple(terms),
        pattern,
        tuple(detectors),
        tuple(singles),
        tuple((literal, tuple(found)) for literal, found in users.items()),
        frozenset(i for i, one in enumerate(singles) if one.literals is None),
    )
