"""Hypothesis strategies for labels and subjects, built through the registry so every label is
one a scheme can express (levels, categories allowed at that level, real nation codes)."""

from __future__ import annotations

from functools import partial

from hypothesis import strategies as st

from kyodo.labels import CategoryKind, Label, Level
from kyodo.policy import Subject
from kyodo.scheme_files import default_registry

REGISTRY = default_registry()
POLICIES = ("USA", "JPN", "NATO")
# A small pool so that releasability sets overlap often enough for dominance to be interesting.
NATIONS = ("USA", "JPN", "GBR", "AUS", "CAN", "FRA", "KOR", "NZL")
RANKS = tuple(sorted({lv.rank for s in REGISTRY.schemes.values() for lv in s.levels}))
RESTRICTIVE_IDS = tuple(
    sorted(
        {
            c.id
            for s in REGISTRY.schemes.values()
            for c in s.categories
            if c.kind is CategoryKind.RESTRICTIVE
        }
    )
)


def _subset(values: list[str]) -> st.SearchStrategy[frozenset[str]]:
    if not values:
        return st.just(frozenset())
    return st.frozensets(st.sampled_from(values))


def _at_level(policy: str, level: Level) -> st.SearchStrategy[Label]:
    scheme = REGISTRY.scheme(policy)
    allowed = [c for c in scheme.categories if c.allowed_at(level.rank)]
    releasability = st.one_of(
        st.none(),  # the scheme's default: originators for classified, unrestricted for U
        st.just(sorted(scheme.originators)),  # NOFORN (or NATO's own default)
        st.lists(st.sampled_from(NATIONS + tuple(sorted(scheme.groups))), max_size=4),
    )
    return st.builds(
        partial(REGISTRY.make_label, policy, level.id),
        restrictive=_subset([c.id for c in allowed if c.kind is CategoryKind.RESTRICTIVE]),
        releasable_to=releasability,
        informative=_subset([c.id for c in allowed if c.kind is CategoryKind.INFORMATIVE]),
    )


# Built once: one branch per (policy, level), so every level of every scheme is drawn alike.
_BY_POLICY = {
    policy: st.one_of([_at_level(policy, level) for level in REGISTRY.scheme(policy).levels])
    for policy in POLICIES
}


def labels(policies: tuple[str, ...] = POLICIES) -> st.SearchStrategy[Label]:
    """A valid label in one of `policies`, made with `SchemeRegistry.make_label`."""
    return st.one_of([_BY_POLICY[policy] for policy in policies])


def _subject(
    id: str, nation: str, rank: int, grants: frozenset[str], rel: frozenset[str]
) -> Subject:
    return Subject(
        id=id,
        nation=nation,
        clearance=f"rank {rank}",
        clearance_rank=rank,
        grants=grants,
        releasability_grants=rel,
    )


# A reader: any nation of the pool, any rank, some compartments, perhaps a releasability grant.
SUBJECTS = st.builds(
    _subject,
    st.sampled_from(("u1", "u2")),
    st.sampled_from(NATIONS),
    st.sampled_from(RANKS),
    st.frozensets(st.sampled_from(RESTRICTIVE_IDS)),
    st.frozensets(st.sampled_from(NATIONS), max_size=2),
)


def subjects() -> st.SearchStrategy[Subject]:
    """Readers with every combination of the attributes the policy reads."""
    return SUBJECTS
