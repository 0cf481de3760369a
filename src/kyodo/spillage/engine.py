"""The guard: every rule over a message's text, and the label the text suggests."""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Final

from kyodo.errors import NoEquivalentError
from kyodo.labels import render_marking
from kyodo.spillage.minimum import minimum_label
from kyodo.spillage.result import Finding, GuardResult, render_label
from kyodo.spillage.rules import CombinationRule, MarkingRule, ModelRule
from kyodo.spillage.scanned import ScannedText
from kyodo.spillage.signals import Evidence

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kyodo.labels import Label, SchemeRegistry
    from kyodo.spillage.rules import Hit, LevelRule, RuleSet

MAX_FINDINGS_PER_RULE: Final = 20
MAX_HITS_SCANNED: Final = 1000
MAX_QUOTE: Final = 60  # a longer stretch is quoted as its words joined by " … "


def _quote(text: str, hit: Hit) -> str:
    """The words of a hit as the reader should see them."""
    if hit.quote:
        return hit.quote
    if hit.end - hit.start <= MAX_QUOTE or not hit.parts:
        whole = text[hit.start : hit.end]
        return whole if len(whole) <= MAX_QUOTE * 2 else whole[: MAX_QUOTE * 2] + "…"
    return " … ".join(text[start:end] for start, end in hit.parts)


JAPANESE_SCHEME = "JPN"  # the scheme a Japanese reader's advice names labels in, where it can


def _explain(rule: LevelRule, quote: str, level: tuple[str, str]) -> tuple[str, str]:
    """What was found and what to do, in English and in Japanese, from the rule's templates;
    `level` is the label to use as written for each (the Japanese in the Japanese scheme)."""
    english = rule.explain or "{name} found: {text}"
    japanese = rule.explain_ja or "{name}が含まれています：{text}"
    values = {"name": rule.name, "level": level[0], "text": f"'{quote}'"}
    values_ja = {"name": rule.name_ja or rule.name, "level": level[1], "text": f"『{quote}』"}
    for key, value in values.items():
        english = english.replace("{" + key + "}", value)
    for key, value in values_ja.items():
        japanese = japanese.replace("{" + key + "}", value)
    return english, japanese


def _in_scheme(label: Label, registry: SchemeRegistry, scheme: str) -> str:
    """The label's marking in `scheme` if that scheme is loaded and can express it, else as
    `render_label` writes it."""
    if scheme in registry.schemes:
        try:
            return render_marking(label, registry, scheme=scheme)
        except NoEquivalentError:
            pass
    return render_label(label, registry)


def check(text: str, label: Label, rules: RuleSet, registry: SchemeRegistry) -> GuardResult:
    """Scan `text` posted under `label`; `suggested` is the label joined with each finding's
    minimum, and the result is `refused` when `label` does not dominate it."""
    scanned = ScannedText(text)
    evidence = Evidence(scanned, rules.signals, rules.contexts)
    rendered: dict[Label, tuple[str, str]] = {}
    covered: list[tuple[int, int]] = []
    shown: set[tuple[int, int]] = set()  # the stretches of the findings so far
    findings: list[Finding] = []
    suggested = label
    for rule in rules.rules:
        if isinstance(rule, MarkingRule):
            for found in islice(
                rule.finder.find(scanned.text, label, registry), MAX_FINDINGS_PER_RULE
            ):
                above = not label.dominates(found.label)
                findings.append(
                    Finding(
                        rule.id,
                        rule.name,
                        text[found.start : found.end],
                        found.start,
                        found.end,
                        found.label,
                        "the text carries a marking "
                        + ("above the message's label" if above else "the message's label covers"),
                        above,
                        rule.name_ja,
                        "本文にメッセージのラベルを"
                        + ("上回る表示があります" if above else "超えない表示があります"),
                    )
                )
                suggested = suggested.join(found.label)
            continue
        # The model only adds refusals: when the rules already refuse at its level, it is not
        # consulted (it is the slowest rule, and the findings already say why).
        if (
            isinstance(rule, ModelRule)
            and not label.dominates(suggested)
            and suggested.dominates(minimum_label(label, rule.requirement, registry))
        ):
            continue
        hits = _separate(
            rule.hits(evidence)
            if isinstance(rule, CombinationRule | ModelRule)
            else rule.hits(scanned)
        )
        # Context (history, a press release, sport…) lowers every rule; only a rule stronger
        # than the lowering still fires. Computed only when some rule has hit.
        if not hits or rule.strength <= evidence.lowering()[0]:
            continue
        minimum = minimum_label(label, rule.requirement, registry)
        if suggested.dominates(minimum):
            # Words other findings already show add nothing ("Tomahawk launch at 0330Z" is
            # weapons employment and a strike time, not also "a weapon acts at a time").
            hits = [h for h in hits if not _covered(h, covered) and (h.start, h.end) not in shown]
            if not hits:
                continue
        suggested = suggested.join(minimum)
        level = rendered.get(minimum)
        if level is None:
            level = rendered[minimum] = (
                render_label(minimum, registry),
                _in_scheme(minimum, registry, JAPANESE_SCHEME),
            )
        for hit in hits:
            covered.extend(hit.parts or ((hit.start, hit.end),))
            shown.add((hit.start, hit.end))
            explanation, explanation_ja = _explain(rule, _quote(text, hit), level)
            findings.append(
                Finding(
                    rule.id,
                    rule.name,
                    text[hit.start : hit.end],
                    hit.start,
                    hit.end,
                    minimum,
                    explanation,
                    not label.dominates(minimum),
                    rule.name_ja,
                    explanation_ja,
                )
            )
    findings.sort(key=lambda f: (f.start, f.end, f.rule_id))
    return GuardResult(label, suggested, tuple(findings))


def _covered(hit: Hit, covered: list[tuple[int, int]]) -> bool:
    """Every word of the hit is inside a finding already made."""
    return all(
        any(start <= part[0] and part[1] <= end for start, end in covered)
        for part in hit.parts or ((hit.start, hit.end),)
    )


def _separate(hits: Iterator[Hit]) -> list[Hit]:
    """A rule's hits without overlaps (the first of overlapping ones), at most a bounded few.

    "Tomahawk launch from USS Dewey" is one finding, not one per pair of terms in it.
    """
    kept: list[Hit] = []
    for hit in sorted(islice(hits, MAX_HITS_SCANNED), key=lambda h: (h.start, -h.end)):
        if kept and hit.start < kept[-1].end:
            continue
        kept.append(hit)
        if len(kept) == MAX_FINDINGS_PER_RULE:
            break
    return kept
