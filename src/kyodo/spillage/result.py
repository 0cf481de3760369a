"""What the guard found: findings, the suggested label, and their JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.errors import NoEquivalentError
from kyodo.labels import render_marking

if TYPE_CHECKING:
    from kyodo.labels import Label, SchemeRegistry


def render_label(label: Label, registry: SchemeRegistry) -> str:
    """The label's marking in its own scheme, else in the first scheme that can express it.

    A rule's category may come from another nation's scheme than the message's label.
    """
    try:
        return render_marking(label, registry)
    except NoEquivalentError:
        for policy in sorted(registry.schemes):
            try:
                return render_marking(label, registry, scheme=policy)
            except NoEquivalentError:
                continue
        raise


@dataclass(frozen=True, slots=True)
class Finding:
    """One sign of sensitivity: which rule, which words (offsets into the text), what minimum.

    `above_label` is whether the message's label fails to dominate this finding's minimum.
    """

    rule_id: str
    rule_name: str
    text: str
    start: int
    end: int
    minimum: Label
    explanation: str
    above_label: bool
    rule_name_ja: str = ""  # for Japanese readers; the English text where a rule has none
    explanation_ja: str = ""

    def as_dict(self, registry: SchemeRegistry) -> dict[str, object]:
        """The JSON form, the minimum label as its canonical marking."""
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "minimum": render_label(self.minimum, registry),
            "above_label": self.above_label,
            "explanation": self.explanation,
            "rule_name_ja": self.rule_name_ja or self.rule_name,
            "explanation_ja": self.explanation_ja or self.explanation,
        }


@dataclass(frozen=True, slots=True)
class GuardResult:
    """The message's label, the findings, and `suggested`: the label joined with every minimum."""

    label: Label
    suggested: Label
    findings: tuple[Finding, ...]

    @property
    def refused(self) -> bool:
        """The message would be refused: its label does not dominate the suggestion."""
        return not self.label.dominates(self.suggested)

    def as_dict(self, registry: SchemeRegistry) -> dict[str, object]:
        """`{"label", "suggested", "refused", "findings"}` with markings rendered."""
        return {
            "label": render_label(self.label, registry),
            "suggested": render_label(self.suggested, registry),
            "refused": self.refused,
            "findings": [f.as_dict(registry) for f in self.findings],
        }
