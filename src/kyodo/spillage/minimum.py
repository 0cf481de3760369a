"""The minimum label a level rule asks for: the message's label raised to the rule's level."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.labels import Label

if TYPE_CHECKING:
    from kyodo.labels import SchemeRegistry
    from kyodo.spillage.rules import Requirement


def minimum_label(label: Label, requirement: Requirement, registry: SchemeRegistry) -> Label:
    """`label` at the requirement's level (if higher) with its categories added.

    The result stays in the message's policy when that scheme has a level at the rank, else it
    is expressed in the scheme where the rule's level was found. Releasability is the message's;
    an unclassified message raised to a classified level gets the scheme's default (its
    originators), as a parsed `SECRET` would.
    """
    scheme = registry.scheme(label.policy)
    if label.rank >= requirement.rank:
        level_id, rank = label.level, label.rank
    else:
        level = scheme.level_at_rank(requirement.rank)
        if level is None:
            scheme = registry.scheme(requirement.policy)
            level = scheme.level(requirement.level_id)
        level_id, rank = level.id, level.rank
    releasable_to = label.releasable_to
    if releasable_to is None and rank > 0:
        releasable_to = scheme.originators
    # Handling notes such as FOUO exist only up to some level; they do not travel upwards.
    informative = frozenset(
        c for c in label.informative if (cat := scheme.category(c)) is None or cat.allowed_at(rank)
    )
    return Label(
        scheme.policy,
        level_id,
        rank,
        label.restrictive | requirement.categories,
        releasable_to,
        informative,
    )
