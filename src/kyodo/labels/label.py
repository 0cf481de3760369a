"""The security label: (policy, classification, categories), its dominance order and join."""

from __future__ import annotations

from dataclasses import dataclass, field

from kyodo.errors import LabelError


@dataclass(frozen=True, slots=True)
class Label:
    """An immutable, hashable security label after STANAG 4774.

    `rank` is the level's place on the shared scale so labels of different policies compare.
    `releasable_to` is the one permissive category: None means unrestricted, a set means a
    reader must hold one of its nations (an empty set: releasable to no nation).
    """

    policy: str
    level: str
    rank: int
    restrictive: frozenset[str] = frozenset()
    releasable_to: frozenset[str] | None = None
    informative: frozenset[str] = frozenset()
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.rank > 0 and self.releasable_to is None:
            # A classified label always says to whom it may be released; the scheme's default
            # (originators only) is applied when a marking is parsed, never guessed here.
            raise LabelError(f"classified label {self.policy} {self.level} needs a releasability")
        # The hash is cached because labels are dictionary keys on every policy decision.
        object.__setattr__(
            self,
            "_hash",
            hash(
                (
                    self.policy,
                    self.level,
                    self.rank,
                    self.restrictive,
                    self.releasable_to,
                    self.informative,
                )
            ),
        )

    def __hash__(self) -> int:
        return self._hash

    def dominates(self, other: Label) -> bool:
        """A ≥ B: level at least B's, every restrictive category of B, nations a subset of B's."""
        if self.rank < other.rank or not self.restrictive >= other.restrictive:
            return False
        theirs = other.releasable_to
        if theirs is None:
            return True
        mine = self.releasable_to
        return mine is not None and mine <= theirs

    def __ge__(self, other: Label) -> bool:
        return self.dominates(other)

    def __le__(self, other: Label) -> bool:
        return other.dominates(self)

    def equivalent(self, other: Label) -> bool:
        """Same security meaning (each dominates the other), whatever the policy or notes."""
        return (
            self.rank == other.rank
            and self.restrictive == other.restrictive
            and self.releasable_to == other.releasable_to
        )

    def join(self, other: Label) -> Label:
        """Least upper bound: max level, union of restrictive, intersection of releasability.

        The result is expressed in the policy of the higher-ranked operand; on a tie, the policy
        that sorts first, so that join stays commutative and associative across policies.
        """
        if other.rank > self.rank or (other.rank == self.rank and other.policy < self.policy):
            base = other
        else:
            base = self
        mine, theirs = self.releasable_to, other.releasable_to
        if mine is None:
            rel = theirs
        elif theirs is None:
            rel = mine
        else:
            rel = mine & theirs
        return Label(
            policy=base.policy,
            level=base.level,
            rank=base.rank,
            restrictive=self.restrictive | other.restrictive,
            releasable_to=rel,
            informative=self.informative | other.informative,
        )

    def __or__(self, other: Label) -> Label:
        return self.join(other)


def join_all(first: Label, *rest: Label) -> Label:
    """The join of one or more labels."""
    result = first
    for label in rest:
        result = result.join(label)
    return result
