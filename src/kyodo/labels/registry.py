"""The set of loaded schemes and valid nation codes; validates labels built from parts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.errors import LabelError
from kyodo.labels.label import Label
from kyodo.labels.scheme import CategoryKind, Scheme

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class SchemeRegistry:
    """Schemes by policy, the ISO 3166 alpha-3 codes, and the policy tried first when parsing."""

    def __init__(
        self, schemes: Mapping[str, Scheme], nations: Iterable[str], default_policy: str = "USA"
    ) -> None:
        if not schemes:
            raise LabelError("no marking schemes are loaded")
        self.schemes = dict(schemes)
        self.nations = frozenset(nations)
        self.default_policy = default_policy if default_policy in schemes else next(iter(schemes))

    def scheme(self, policy: str) -> Scheme:
        """The scheme of a policy; LabelError naming the loaded ones otherwise."""
        try:
            return self.schemes[policy.upper()]
        except KeyError:
            raise LabelError(
                f"unknown policy {policy!r}; loaded: {', '.join(sorted(self.schemes))}"
            ) from None

    def search_order(self, policy: str | None = None) -> list[Scheme]:
        """Schemes in the order a marking without a stated policy is tried."""
        if policy is not None:
            return [self.scheme(policy)]
        first = self.schemes[self.default_policy]
        return [first, *(s for p, s in sorted(self.schemes.items()) if s is not first)]

    def nation_scheme(self, nation: str) -> Scheme | None:
        """The scheme whose originator nation is `nation`, if one is loaded."""
        for scheme in self.schemes.values():
            if scheme.nation == nation:
                return scheme
        return None

    def check_nation(self, code: str) -> str:
        """The code, upper-cased, if it is an ISO 3166 alpha-3 code; LabelError otherwise."""
        upper = code.strip().upper()
        if upper not in self.nations:
            raise LabelError(f"{code!r} is not an ISO 3166 alpha-3 country code")
        return upper

    def make_label(
        self,
        policy: str,
        level: str,
        restrictive: Iterable[str] = (),
        releasable_to: Iterable[str] | None = None,
        informative: Iterable[str] = (),
        *,
        default_releasability: bool = True,
    ) -> Label:
        """A validated label from its parts; a classified label without releasability gets the
        scheme's default (its originators) unless `default_releasability` is False."""
        scheme = self.scheme(policy)
        lv = scheme.level(level)
        restrictive_ids = frozenset(
            self._category_id(scheme, c, CategoryKind.RESTRICTIVE, lv.rank, lv.id)
            for c in restrictive
        )
        informative_ids = frozenset(
            self._category_id(scheme, c, CategoryKind.INFORMATIVE, lv.rank, lv.id)
            for c in informative
        )
        rel: frozenset[str] | None
        if releasable_to is None:
            rel = scheme.originators if lv.rank > 0 and default_releasability else None
        else:
            rel = frozenset(self.expand_nations(scheme, releasable_to))
        return Label(scheme.policy, lv.id, lv.rank, restrictive_ids, rel, informative_ids)

    def fit(self, label: Label) -> Label:
        """The label made writable as a marking, meaning the same for every decision.

        A join can build a label its own scheme cannot write: JPN 極秘 joined with a US
        SECRET//SI label keeps the JPN policy (the tie goes to the policy that sorts first, so
        that join stays commutative) but JPN has no SI. Such a label is re-expressed in a scheme
        with a level of the same rank and every restrictive category (USA here). Informative
        notes the scheme does not have, or does not allow at the label's level, are dropped
        (FOUO after a join raised an UNCLASSIFIED//FOUO label to SECRET): notes are never
        enforced, so no decision changes.
        """
        scheme = self.schemes.get(label.policy)
        if scheme is None:
            return label
        if not self._writes_restrictive(scheme, label):
            other = next(
                (
                    s
                    for _, s in sorted(self.schemes.items())
                    if s.policy != label.policy and self._writes_restrictive(s, label)
                ),
                None,
            )
            if other is not None:
                level = next(lv for lv in other.levels if lv.rank == label.rank)
                scheme = other
                label = Label(
                    other.policy,
                    level.id,
                    level.rank,
                    label.restrictive,
                    label.releasable_to,
                    label.informative,
                )
        if not label.informative:
            return label
        kept = frozenset(
            c
            for c in label.informative
            if (cat := scheme.category(c)) is not None and cat.allowed_at(label.rank)
        )
        if kept == label.informative:
            return label
        return Label(
            label.policy, label.level, label.rank, label.restrictive, label.releasable_to, kept
        )

    @staticmethod
    def _writes_restrictive(scheme: Scheme, label: Label) -> bool:
        """The scheme has a level of the label's rank and allows every restrictive category."""
        if not any(lv.rank == label.rank for lv in scheme.levels):
            return False
        for category_id in label.restrictive:
            category = scheme.category(category_id)
            if (
                category is None
                or category.kind is not CategoryKind.RESTRICTIVE
                or not category.allowed_at(label.rank)
            ):
                return False
        return True

    def expand_nations(self, scheme: Scheme, codes: Iterable[str]) -> set[str]:
        """Nation codes with the scheme's groups (FVEY, NATO…) expanded; LabelError if unknown."""
        result: set[str] = set()
        for code in codes:
            upper = code.strip().upper()
            if upper in scheme.groups:
                result |= scheme.groups[upper]
            else:
                result.add(self.check_nation(upper))
        return result

    @staticmethod
    def _category_id(
        scheme: Scheme, token: str, kind: CategoryKind, rank: int, level_id: str
    ) -> str:
        category = scheme.find_category(token)
        if category is None:
            raise LabelError(f"scheme {scheme.policy} has no category {token!r}")
        if category.kind is not kind:
            raise LabelError(
                f"category {category.id} is {category.kind.lower()}, not {kind.lower()}"
            )
        if not category.allowed_at(rank):
            raise LabelError(f"category {category.id} is not allowed at {level_id}")
        return category.id
