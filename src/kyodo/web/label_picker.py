"""The label picker: a label from form fields (scheme, level, compartments, releasability)."""

from __future__ import annotations

from dataclasses import dataclass

from kyodo.labels import CategoryKind, Label, SchemeRegistry, parse_marking
from kyodo.web.session import FormPost

# Nations offered as REL TO choices (any ISO code may still be typed as a marking).
REL_CHOICES = ("USA", "JPN", "AUS", "GBR", "CAN", "NZL", "KOR", "PHL")


@dataclass(frozen=True, slots=True)
class SchemeChoices:
    """What the picker offers for one scheme."""

    policy: str
    name: str
    levels: list[tuple[str, str]]  # (id, banner)
    restrictive: list[tuple[str, str]]  # (id, description)


def choices(registry: SchemeRegistry, first: str | None = None) -> list[SchemeChoices]:
    """The picker's options for every loaded national scheme, the reader's (`first`) first."""
    found = []
    schemes = sorted(registry.schemes.values(), key=lambda s: s.policy != first)
    for scheme in schemes:
        found.append(
            SchemeChoices(
                scheme.policy,
                scheme.name,
                [(lv.id, lv.banner) for lv in sorted(scheme.levels, key=lambda lv: lv.rank)],
                [
                    (c.id, c.description or c.banner)
                    for c in scheme.categories
                    if c.kind is CategoryKind.RESTRICTIVE
                ],
            )
        )
    return found


def picked_label(post: FormPost, prefix: str, registry: SchemeRegistry) -> Label:
    """The label described by the fields `<prefix>_…`; LabelError says what is wrong.

    `_level` is POLICY:LEVEL, `_restrictive` POLICY:CATEGORY (those of other schemes are
    ignored), `_releasability` rel or noforn, `_rel` nations; a typed `_marking` wins.
    """
    typed = post.text(f"{prefix}_marking")
    if typed:
        return parse_marking(typed, registry)
    policy, _, level_id = post.text(f"{prefix}_level").partition(":")
    scheme = registry.scheme(policy or registry.default_policy)
    level = scheme.level(level_id or scheme.levels[0].id)
    known = {c.id for c in scheme.categories}
    restrictive = [
        c
        for p, _, c in (v.partition(":") for v in post.texts(f"{prefix}_restrictive"))
        if p == scheme.policy and c in known
    ]
    releasability = post.text(f"{prefix}_releasability", "rel")
    releasable_to: list[str] | None
    if level.rank == 0:
        releasable_to = None
    elif releasability == "noforn":
        releasable_to = [scheme.nation]
    else:
        releasable_to = sorted({scheme.nation, *post.texts(f"{prefix}_rel")})
    return registry.make_label(policy, level.id, restrictive, releasable_to)


def default_levels(registry: SchemeRegistry, policy: str | None) -> tuple[str, str]:
    """The picker's first choices (ceiling, entry) in the reader's scheme: its SECRET and
    CONFIDENTIAL equivalents, else the USA scheme's."""
    scheme = registry.schemes.get(policy or "")
    if scheme is not None:
        secret, confidential = scheme.level_at_rank(30), scheme.level_at_rank(20)
        if secret is not None and confidential is not None:
            return f"{scheme.policy}:{secret.id}", f"{scheme.policy}:{confidential.id}"
    return "USA:SECRET", "USA:CONFIDENTIAL"
