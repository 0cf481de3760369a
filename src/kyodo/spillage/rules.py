"""The rules model: what each kind of rule looks for and the minimum level it asks for."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from kyodo.spillage.detectors import DESCRIPTIONS, DESCRIPTIONS_JA

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from kyodo.spillage.detectors import Span
    from kyodo.spillage.markings import MarkingFinder
    from kyodo.spillage.model import WordModel
    from kyodo.spillage.scanned import ScannedText
    from kyodo.spillage.signals import Context, Evidence, Signal
    from kyodo.spillage.terms import TermSet

_WORD = re.compile(r"\w+")


class Unit(StrEnum):
    """How a proximity rule measures the distance between two terms."""

    CHARS = "chars"
    WORDS = "words"


@dataclass(frozen=True, slots=True)
class Requirement:
    """The minimum a level rule asks for: a level (as written and its rank) and categories.

    `policy` and `level_id` say where the level was found, for a message whose scheme has no
    level at that rank. `categories` are restrictive category ids.
    """

    level: str
    rank: int
    policy: str
    level_id: str
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Hit:
    """One place a rule matched, in the text's offsets, and why in words."""

    start: int
    end: int
    explanation: str
    explanation_ja: str = ""
    # The words that made the hit, for the quote in a finding (the whole span when empty).
    parts: tuple[Span, ...] = ()
    quote: str = ""  # what to quote instead, when the words are not one stretch of text


def _quote(scanned: ScannedText, span: Span) -> str:
    return repr(scanned.original[span[0] : span[1]])


def _quote_ja(scanned: ScannedText, span: Span) -> str:
    return f"「{scanned.original[span[0] : span[1]]}」"


@dataclass(frozen=True, slots=True)
class PatternRule:
    """A regular expression (case-insensitive, Unicode) that marks sensitive text by itself."""

    id: str
    name: str
    description: str
    requirement: Requirement
    pattern: re.Pattern[str]
    name_ja: str = ""
    strength: int = 1
    explain: str = ""
    explain_ja: str = ""

    def hits(self, scanned: ScannedText) -> Iterator[Hit]:
        """Each non-empty match of the pattern."""
        for found in self.pattern.finditer(scanned.text):
            if found.end() > found.start():
                span = found.span()
                yield Hit(
                    span[0],
                    span[1],
                    f"{_quote(scanned, span)} matches",
                    f"{_quote_ja(scanned, span)}が該当します",
                )


@dataclass(frozen=True, slots=True)
class DetectorRule:
    """A built-in detector (DTG, clock time, MGRS, latitude/longitude) on its own."""

    id: str
    name: str
    description: str
    requirement: Requirement
    detector: str
    name_ja: str = ""
    strength: int = 1
    explain: str = ""
    explain_ja: str = ""

    def hits(self, scanned: ScannedText) -> Iterator[Hit]:
        """Each place the detector fires."""
        what = DESCRIPTIONS[self.detector]
        what_ja = DESCRIPTIONS_JA[self.detector]
        for span in scanned.detector_spans(self.detector):
            yield Hit(
                span[0],
                span[1],
                f"{_quote(scanned, span)} is {what}",
                f"{_quote_ja(scanned, span)}は{what_ja}です",
            )


@dataclass(frozen=True, slots=True)
class ProximityRule:
    """A term of `terms` within `within` characters (or words) of a term of `near`.

    A pair is ignored when a term of `unless` is as close to it: context that makes it harmless
    ("SharePoint" near "launch at 0900").
    """

    id: str
    name: str
    description: str
    requirement: Requirement
    terms: TermSet
    near: TermSet
    within: int
    unit: Unit = Unit.CHARS
    unless: TermSet | None = None
    name_ja: str = ""
    strength: int = 1
    explain: str = ""
    explain_ja: str = ""
    # The longest span `near` can produce is unknown, so candidates before a term are searched
    # this far back; longer "near" matches are still found when they start closer.
    _reach: int = field(default=200, repr=False, compare=False)

    def _gap(self, text: str, first: Span, second: Span) -> int | None:
        """Distance between two spans in the rule's unit; None when they overlap."""
        if second[0] >= first[1]:
            between = (first[1], second[0])
        elif second[1] <= first[0]:
            between = (second[1], first[0])
        else:
            return None
        if self.unit is Unit.CHARS:
            return between[1] - between[0]
        return len(_WORD.findall(text, between[0], between[1]))

    def _limit_chars(self) -> int:
        # A word is at most this many characters for the coarse pre-filter on word distances.
        return self.within if self.unit is Unit.CHARS else self.within * 40 + 40

    def hits(self, scanned: ScannedText) -> Iterator[Hit]:
        """For each term, the nearest `near` term within reach (and no `unless` term as near)."""
        # Look first on the cheaper side (only detectors, or fewer terms): often it is empty.
        if self.near.pattern is None or len(self.near.terms) < len(self.terms.terms):
            seconds = self.near.spans(scanned)
            firsts = self.terms.spans(scanned) if seconds else []
        else:
            firsts = self.terms.spans(scanned)
            seconds = self.near.spans(scanned) if firsts else []
        if not firsts or not seconds:
            return
        vetoes = self.unless.spans(scanned) if self.unless is not None else []
        text = scanned.text
        starts = [s[0] for s in seconds]
        limit = self._limit_chars()
        for first in firsts:
            lo = bisect_left(starts, first[0] - limit - self._reach)
            hi = bisect_right(starts, first[1] + limit)
            best: tuple[int, Span] | None = None
            for second in seconds[lo:hi]:
                gap = self._gap(text, first, second)
                if gap is not None and gap <= self.within and (best is None or gap < best[0]):
                    best = (gap, second)
            if best is None:
                continue
            gap, second = best
            cover = (min(first[0], second[0]), max(first[1], second[1]))
            if any(
                (g := self._gap(text, cover, veto)) is None or g <= self.within for veto in vetoes
            ):
                continue
            unit = "character" if self.unit is Unit.CHARS else "word"
            yield Hit(
                cover[0],
                cover[1],
                parts=(first, second) if first[0] < second[0] else (second, first),
                explanation=f"{_quote(scanned, first)} is {gap} {unit}"
                f"{'' if gap == 1 else 's'} from {_quote(scanned, second)} (at most {self.within})",
                explanation_ja=f"{_quote_ja(scanned, first)}と{_quote_ja(scanned, second)}の間は"
                f"{gap}{'文字' if self.unit is Unit.CHARS else '語'}です(上限 {self.within})",
            )


@dataclass(frozen=True, slots=True)
class MarkingRule:
    """Markings written in the text; each one's minimum is the label it parses to."""

    id: str
    name: str
    description: str
    finder: MarkingFinder = field(repr=False, compare=False)
    name_ja: str = ""


@dataclass(frozen=True, slots=True)
class CombinationRule:
    """Signals that together make a message operational: each group of `needs` must occur.

    A group is one or more signal ids (any of them will do). With `at_least`, that many of the
    groups suffice (any of them): "four kinds of operational detail together". With `within`,
    the groups must occur inside a stretch of at most that many characters; without, anywhere
    in the message. Each group must be found in different words ("TOT" is not both the time and
    the action).
    """

    id: str
    name: str
    description: str
    requirement: Requirement
    needs: tuple[tuple[str, ...], ...]
    within: int | None = None
    name_ja: str = ""
    strength: int = 1
    explain: str = ""
    explain_ja: str = ""
    at_least: int | None = None  # None: every group

    def hits(self, evidence: Evidence) -> Iterator[Hit]:
        """The tightest stretch where the groups occur, if there is one."""
        wanted = len(self.needs) if self.at_least is None else self.at_least
        groups: list[list[Span]] = []
        for index, group in enumerate(self.needs):
            spans = evidence.group_spans(group)
            if spans:
                groups.append(spans)
            elif len(groups) + len(self.needs) - index - 1 < wanted:
                return  # too few groups can still occur
        if len(groups) < wanted:
            return
        if self.within is None:
            # Anywhere in the message: the first free words of each group will do.
            chosen: list[Span] = []
            for spans in groups:
                free = next(
                    (p for p in spans if not any(p[0] < t[1] and t[0] < p[1] for t in chosen)),
                    None,
                )
                if free is not None:
                    chosen.append(free)
            if len(chosen) >= wanted:
                parts = tuple(sorted(chosen))
                yield Hit(parts[0][0], max(e for _, e in parts), "", "", parts)
                return
            # Words shared between groups: search as with a distance (below), without a limit.
        best: tuple[int, list[Span]] | None = None
        # Anchor on the rarest group; pick, for each other group, the nearest free span.
        order = sorted(range(len(groups)), key=lambda i: len(groups[i]))
        for anchor in groups[order[0]][:MAX_ANCHORS]:
            chosen = [anchor]
            for index in order[1:]:
                span = _nearest_free(groups[index], anchor, chosen)
                if span is not None:
                    chosen.append(span)
            if len(chosen) >= wanted:
                width = max(e for _, e in chosen) - min(s for s, _ in chosen)
                if best is None or width < best[0]:
                    best = (width, chosen)
        if best is None or (self.within is not None and best[0] > self.within):
            return
        parts = tuple(sorted(best[1]))
        yield Hit(parts[0][0], max(e for _, e in parts), "", "", parts)


MAX_ANCHORS = 50  # anchor spans tried per combination rule: bounds the work on long texts


def _nearest_free(spans: list[Span], anchor: Span, taken: list[Span]) -> Span | None:
    """The span nearest `anchor` that overlaps none of `taken`."""
    best: Span | None = None
    best_distance = 0
    start, end = anchor
    for span in spans:
        distance = span[0] - end if span[0] >= end else (start - span[1] if span[1] <= start else 0)
        if best is not None and distance >= best_distance:
            continue
        if any(span[0] < t[1] and t[0] < span[1] for t in taken):
            continue
        best, best_distance = span, distance
    return best


@dataclass(frozen=True, slots=True)
class ModelRule:
    """A learned model of operational wording; it fires above its probability threshold.

    The finding names the features that weighed most towards "operational" (words, word
    pairs, the guard's signals), so a refusal still says what it found.
    """

    id: str
    name: str
    description: str
    requirement: Requirement
    model: WordModel
    name_ja: str = ""
    strength: int = 1
    explain: str = ""
    explain_ja: str = ""
    threshold: float | None = None  # None: the model's own
    signal_names: Mapping[str, str] = field(default_factory=dict)
    # Weaker evidence the rules found, which lets a lower threshold suffice: at least
    # `at_least` of the groups of `needs` must occur (no `needs`: the model alone decides).
    needs: tuple[tuple[str, ...], ...] = ()
    at_least: int | None = None

    def supported(self, evidence: Evidence) -> bool:
        """Whether enough of the groups of `needs` occur in the message."""
        if not self.needs:
            return True
        wanted = len(self.needs) if self.at_least is None else self.at_least
        found = 0
        for group in self.needs:
            if evidence.group_spans(group):
                found += 1
                if found >= wanted:
                    return True
        return False

    def hits(self, evidence: Evidence) -> Iterator[Hit]:
        """One hit naming the strongest words, when the probability reaches the threshold."""
        threshold = self.model.threshold if self.threshold is None else self.threshold
        if not self.supported(evidence) or self.model.probability(evidence) < threshold:
            return
        _, contributions = self.model.score(evidence)
        text = evidence.scanned.original
        parts: list[Span] = []
        for weight, feature, span in sorted(contributions, key=lambda c: -c[0]):
            if weight <= 0 or len(parts) == TOP_WORDS:
                break
            if feature.startswith("s:"):
                # A signal weighed: name the words in the text that made it.
                found = evidence.spans(feature[2:])
                span = found[0] if found else None
            if span is None or (text[span[0] : span[1]].isascii() and span[1] - span[0] < 3):
                continue  # no place in the text, or a short word such as "at"
            if not any(span[0] < e and s < span[1] for s, e in parts):
                parts.append(span)
        if not parts:
            parts = [(0, len(text))]
        ordered = sorted(parts)
        yield Hit(
            ordered[0][0],
            max(e for _, e in ordered),
            "",
            "",
            tuple(ordered),
            " … ".join(text[s:e] for s, e in parts),
        )


TOP_WORDS = 4  # features named in a model's finding

LevelRule = PatternRule | DetectorRule | ProximityRule | CombinationRule | ModelRule
Rule = LevelRule | MarkingRule


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules the guard applies, in file order."""

    rules: tuple[Rule, ...]
    signals: Mapping[str, Signal] = field(default_factory=dict)
    contexts: tuple[Context, ...] = ()

    def __len__(self) -> int:
        return len(self.rules)

    def ids(self) -> tuple[str, ...]:
        """The rule ids, in order."""
        return tuple(rule.id for rule in self.rules)

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id; KeyError if there is none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)
