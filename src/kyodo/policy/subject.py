"""The subject of a decision: who is asking, with the attributes the policy reads."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Subject:
    """A person (or device acting for one) as the policy sees them.

    `clearance_rank` is the clearance's place on the shared scale; `clearance` is its name in
    the person's own scheme, used in reasons. `releasability_grants` are nations whose
    releasability the person holds beyond their own nationality (an explicit grant).
    """

    id: str
    nation: str
    clearance: str
    clearance_rank: int
    grants: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    org: str | None = None
    releasability_grants: frozenset[str] = frozenset()
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_hash",
            hash(
                (
                    self.id,
                    self.nation,
                    self.clearance_rank,
                    self.grants,
                    self.roles,
                    self.org,
                    self.releasability_grants,
                )
            ),
        )

    def __hash__(self) -> int:
        return self._hash

    def holds_nation(self, nations: frozenset[str]) -> bool:
        """Whether the subject holds at least one of these nations (own or granted)."""
        return self.nation in nations or not self.releasability_grants.isdisjoint(nations)
