"""The label the guard suggests in a net: the lowest the author may use there (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from kyodo.labels import CategoryKind, Label

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from kyodo.labels import Scheme, SchemeRegistry


@dataclass(frozen=True, slots=True)
class Need:
    """What one finding asks of a message's label.

    `releasable_to` binds only when the text itself says so (a marking found in it): a level
    rule knows how sensitive the words are, not to whom they may go, so it leaves it None.
    """

    rank: int
    restrictive: frozenset[str] = frozenset()
    releasable_to: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class NetShape:
    """What of a net the advice needs: its ceiling and its partners (its members' nations)."""

    name: str
    ceiling: Label
    partners: frozenset[str]


class Verdict(StrEnum):
    """Where the text may go."""

    IN_NET = "in_net"  # at `Advice.label`, in this net
    ABOVE_CEILING = "above_ceiling"  # no label this net may hold covers the text
    NOT_FOR_AUTHOR = "not_for_author"  # the net could hold it, but not at a label the author reads


@dataclass(frozen=True, slots=True)
class Advice:
    """The suggestion (None unless the verdict is IN_NET) and what the text needs anywhere."""

    verdict: Verdict
    label: Label | None
    needed: Label
    keeps_partners: bool


def advise(
    registry: SchemeRegistry,
    label: Label,
    needs: Iterable[Need],
    net: NetShape,
    *,
    author_nation: str,
    may_read: Callable[[Label], bool],
    fallback: Label,
) -> Advice:
    """The lowest label that covers `label` and every need, that the net's ceiling dominates
    and the author may read: releasable to the net's partners as far as the text allows, in
    the author's scheme where it can be written (else the message's, the ceiling's, any).

    `needed` is the same label without the net's and the author's limits (what to name when the
    text belongs elsewhere); `fallback` stands for it when no scheme can write the text's
    categories at all.
    """
    needs = tuple(needs)
    rank = max((n.rank for n in needs), default=label.rank)
    rank = max(rank, label.rank)
    restrictive = label.restrictive.union(*(n.restrictive for n in needs))
    base = label.releasable_to
    for need in needs:
        if need.releasable_to is not None:
            base = need.releasable_to if base is None else base & need.releasable_to
    wanted = net.partners | (net.ceiling.releasable_to or frozenset()) | {author_nation}
    rel = wanted if base is None else wanted & base
    schemes = _preference(registry, author_nation, (label.policy, net.ceiling.policy))
    in_net: Label | None = None
    fits_net = False
    for candidate in _candidates(schemes, rank, restrictive, rel, base, label.informative):
        if not net.ceiling.dominates(candidate):
            continue
        fits_net = True
        if may_read(candidate):
            in_net = candidate
            break
    needed = next(_candidates(schemes, rank, restrictive, rel, base, label.informative), fallback)
    if in_net is not None:
        verdict = Verdict.IN_NET
    else:
        verdict = Verdict.NOT_FOR_AUTHOR if fits_net else Verdict.ABOVE_CEILING
    keeps = in_net is not None and (
        in_net.releasable_to is None or net.partners <= in_net.releasable_to
    )
    return Advice(verdict, in_net, in_net or needed, keeps)


def _preference(
    registry: SchemeRegistry, author_nation: str, policies: tuple[str, ...]
) -> list[Scheme]:
    """The author's nation's scheme, then those of `policies`, then the others by policy."""
    order: list[Scheme] = []
    author_scheme = registry.nation_scheme(author_nation)
    if author_scheme is not None:
        order.append(author_scheme)
    for policy in policies:
        scheme = registry.schemes.get(policy)
        if scheme is not None and scheme not in order:
            order.append(scheme)
    order.extend(s for _, s in sorted(registry.schemes.items()) if s not in order)
    return order


def _candidates(
    schemes: list[Scheme],
    rank: int,
    restrictive: frozenset[str],
    rel: frozenset[str],
    base: frozenset[str] | None,
    informative: frozenset[str],
) -> Iterator[Label]:
    """Writable labels from `rank` up, lowest first, in scheme order at each rank: releasable
    to `rel` first and, when the text names its own nations, to all of them next (an author
    who holds one of those by a grant may still use it)."""
    ranks = sorted({lv.rank for s in schemes for lv in s.levels if lv.rank >= rank})
    rels: list[frozenset[str] | None] = [rel] if rel else []
    if base is not None and base != rel:
        rels.append(base)
    for at in ranks:
        for scheme in schemes:
            level = scheme.level_at_rank(at)
            if level is None or not _writes(scheme, restrictive, at):
                continue
            notes = frozenset(
                c
                for c in informative
                if (cat := scheme.category(c)) is not None
                and cat.kind is CategoryKind.INFORMATIVE
                and cat.allowed_at(at)
            )
            if at == 0:
                # Unclassified: releasable to whom the text says, else to anyone.
                yield Label(scheme.policy, level.id, at, restrictive, base, notes)
                continue
            for nations in rels:
                yield Label(scheme.policy, level.id, at, restrictive, nations, notes)


def _writes(scheme: Scheme, restrictive: frozenset[str], rank: int) -> bool:
    """The scheme has every restrictive category and allows it at this rank."""
    for category_id in restrictive:
        category = scheme.category(category_id)
        if (
            category is None
            or category.kind is not CategoryKind.RESTRICTIVE
            or not category.allowed_at(rank)
        ):
            return False
    return True
