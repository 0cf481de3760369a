"""The guard: every rule over a message's text, and the label the text suggests."""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Final

from kyodo.spillage.minimum import minimum_label
from kyodo.spillage.result import Finding, GuardResult
from kyodo.spillage.rules import MarkingRule
from kyodo.spillage.scanned import ScannedText

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kyodo.labels import Label, SchemeRegistry
    from kyodo.spillage.rules import Hit, RuleSet

MAX_FINDINGS_PER_RULE: Final = 20
MAX_HITS_SCANNED: Final = 1000


def check(text: str, label: Label, rules: RuleSet, registry: SchemeRegistry) -> GuardResult:
    """Scan `text` posted under `label`; `suggested` is the label joined with each finding's
    minimum, and the result is `refused` when `label` does not dominate it."""
    scanned = ScannedText(text)
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
        minimum: Label | None = None
        for hit in _separate(rule.hits(scanned)):
            if minimum is None:
                minimum = minimum_label(label, rule.requirement, registry)
                suggested = suggested.join(minimum)
            findings.append(
                Finding(
                    rule.id,
                    rule.name,
                    text[hit.start : hit.end],
                    hit.start,
                    hit.end,
                    minimum,
                    hit.explanation,
                    not label.dominates(minimum),
                    rule.name_ja,
                    hit.explanation_ja,
                )
            )
    findings.sort(key=lambda f: (f.start, f.end, f.rule_id))
    return GuardResult(label, suggested, tuple(findings))


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
