"""Builds Subjects from the words people use: a nation, a clearance name, grant names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.errors import LabelError
from kyodo.policy.subject import Subject

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kyodo.labels import SchemeRegistry


def make_subject(
    registry: SchemeRegistry,
    *,
    id: str,
    nation: str,
    clearance: str,
    grants: Iterable[str] = (),
    roles: Iterable[str] = (),
    org: str | None = None,
    releasability_grants: Iterable[str] = (),
) -> Subject:
    """A Subject whose clearance is read in the nation's own scheme first, then in any scheme."""
    code = registry.check_nation(nation)
    own = registry.nation_scheme(code)
    schemes = ([own] if own else []) + [s for s in registry.schemes.values() if s is not own]
    for scheme in schemes:
        level = scheme.find_level(clearance)
        if level is not None:
            break
    else:
        raise LabelError(f"unknown clearance {clearance!r}")
    granted: set[str] = set()
    for grant in grants:
        category = next((c for s in schemes if (c := s.find_category(grant)) is not None), None)
        if category is None:
            raise LabelError(f"unknown category {grant!r} in a grant")
        granted.add(category.id)
    return Subject(
        id=id,
        nation=code,
        clearance=level.id,
        clearance_rank=level.rank,
        grants=frozenset(granted),
        roles=frozenset(roles),
        org=org,
        releasability_grants=frozenset(registry.check_nation(n) for n in releasability_grants),
    )
