"""Labels as a reader sees them: in their language's scheme, with the banner colour."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kyodo.errors import LabelError
from kyodo.labels import Label, SchemeRegistry, label_from_json, label_to_dict, render_marking

# The scheme a reader of each UI language sees markings in (the originator's where none fits).
SCHEME_OF_LANGUAGE = {"en": "USA", "ja": "JPN"}
_LEVEL_WORDS = ((40, "top-secret"), (30, "secret"), (20, "confidential"), (10, "restricted"))


def level_word(label: Label) -> str:
    """The banner's `data-level`: unclassified, restricted, confidential, secret, top-secret."""
    for rank, word in _LEVEL_WORDS:
        if label.rank >= rank:
            return word
    return "unclassified"


@dataclass(frozen=True, slots=True)
class LabelView:
    """What a page shows of a label."""

    banner: str
    portion: str
    original: str
    level: str
    sci: bool
    data: dict[str, Any]
    classification: str = ""  # the level alone, in the reader's scheme ("SECRET", "極秘")

    def as_dict(self) -> dict[str, Any]:
        """JSON for the page's scripts."""
        return {
            "banner": self.banner,
            "portion": self.portion,
            "original": self.original,
            "level": self.level,
            "sci": self.sci,
            "label": self.data,
            "classification": self.classification,
        }


def _render(label: Label, registry: SchemeRegistry, scheme: str | None, portion: bool) -> str:
    if scheme is not None and scheme in registry.schemes and scheme != label.policy:
        try:
            return render_marking(label, registry, portion=portion, scheme=scheme)
        except LabelError:  # no equivalent in the reader's scheme: the originator's marking
            pass
    return render_marking(label, registry, portion=portion)


def for_reader(label: Label, nation: str | None) -> Label:
    """A page's label as its banner: a join of things releasable to disjoint nations is
    releasable to none ("REL TO NONE", no marking at all); the page is then shown only to its
    reader, so it is marked releasable to the reader's nation alone."""
    if label.releasable_to is None or label.releasable_to or nation is None:
        return label
    return replace(label, releasable_to=frozenset({nation}))


def view(label: Label, registry: SchemeRegistry, lang: str) -> LabelView:
    """The label in the reader's scheme (the original kept for a tooltip)."""
    label = registry.fit(label)  # a page's join may hold what its own scheme cannot write
    scheme = SCHEME_OF_LANGUAGE.get(lang)
    return LabelView(
        banner=_render(label, registry, scheme, portion=False),
        portion=_render(label, registry, scheme, portion=True),
        original=render_marking(label, registry),
        level=level_word(label),
        sci=bool(label.restrictive),
        data=label_to_dict(label, registry),
        classification=_classification(label, registry, scheme),
    )


def _classification(label: Label, registry: SchemeRegistry, scheme: str | None) -> str:
    """The level's banner in the reader's scheme, else in the label's own."""
    for policy in (scheme, label.policy):
        found = registry.schemes.get(policy) if policy is not None else None
        level = found.level_at_rank(label.rank) if found is not None else None
        if level is not None:
            return level.banner
    return label.level


def view_of(value: object, registry: SchemeRegistry, lang: str) -> LabelView:
    """`view` of a label given as the API's JSON object, a marking, or a Label."""
    label = value if isinstance(value, Label) else label_from_json(value, registry)
    return view(label, registry, lang)
