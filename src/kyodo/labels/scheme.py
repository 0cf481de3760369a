"""Marking schemes: each policy's ordered levels, categories and tokens, built from TOML data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from kyodo.errors import LabelError, SchemeError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

_SPACES = re.compile(r"\s+")


def normalise_token(token: str) -> str:
    """Fold case and runs of white space so that `top  secret` matches `TOP SECRET`."""
    return _SPACES.sub(" ", token.strip()).casefold()


class CategoryKind(StrEnum):
    """STANAG 4774 category types."""

    RESTRICTIVE = "RESTRICTIVE"
    PERMISSIVE = "PERMISSIVE"
    INFORMATIVE = "INFORMATIVE"


@dataclass(frozen=True, slots=True)
class Level:
    """One classification level of a scheme and its place on the shared scale."""

    id: str
    rank: int
    banner: str
    portion: str
    aliases: tuple[str, ...] = ()
    english: str | None = None

    def tokens(self) -> tuple[str, ...]:
        """Every spelling the parser accepts for this level."""
        return (self.id, self.banner, self.portion, *self.aliases)


@dataclass(frozen=True, slots=True)
class Category:
    """A restrictive or informative category value with its marking tokens and level range."""

    id: str
    kind: CategoryKind
    block: int
    banner: str
    portion: str
    aliases: tuple[str, ...] = ()
    min_rank: int | None = None
    max_rank: int | None = None
    description: str = ""

    def tokens(self) -> tuple[str, ...]:
        """Every spelling the parser accepts for this category."""
        return (self.id, self.banner, self.portion, *self.aliases)

    def allowed_at(self, rank: int) -> bool:
        """Whether the scheme allows this category on a label of the given rank."""
        if self.min_rank is not None and rank < self.min_rank:
            return False
        return not (self.max_rank is not None and rank > self.max_rank)


@dataclass(frozen=True)
class Scheme:
    """The marking scheme of one policy (USA, JPN, NATO…)."""

    policy: str
    name: str
    nation: str
    originators: frozenset[str]
    levels: tuple[Level, ...]
    categories: tuple[Category, ...]
    rel_to: tuple[str, ...] = ("REL TO",)
    noforn: str = ""
    noforn_portion: str = ""
    noforn_aliases: tuple[str, ...] = ()
    rel_block: int = 2
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    _level_by_token: dict[str, Level] = field(init=False, repr=False, compare=False)
    _level_by_rank: dict[int, Level] = field(init=False, repr=False, compare=False)
    _category_by_token: dict[str, Category] = field(init=False, repr=False, compare=False)
    _category_by_id: dict[str, Category] = field(init=False, repr=False, compare=False)
    _rel_pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_token: dict[str, Level] = {}
        by_rank: dict[int, Level] = {}
        for level in self.levels:
            if level.rank in by_rank:
                raise SchemeError(
                    f"scheme {self.policy}: levels {by_rank[level.rank].id} and {level.id} "
                    f"share rank {level.rank}"
                )
            by_rank[level.rank] = level
            for token in level.tokens():
                _claim(by_token, normalise_token(token), level, self.policy, "level")
        cat_by_token: dict[str, Category] = {}
        cat_by_id: dict[str, Category] = {}
        for category in self.categories:
            if category.kind is CategoryKind.PERMISSIVE:
                raise SchemeError(
                    f"scheme {self.policy}: category {category.id}: releasability is the "
                    "permissive category; declare it with rel_to/noforn"
                )
            cat_by_id[category.id] = category
            for token in category.tokens():
                _claim(cat_by_token, normalise_token(token), category, self.policy, "category")
        if 0 not in by_rank:
            raise SchemeError(f"scheme {self.policy}: no level has rank 0 (unclassified)")
        object.__setattr__(self, "_level_by_token", by_token)
        object.__setattr__(self, "_level_by_rank", by_rank)
        object.__setattr__(self, "_category_by_token", cat_by_token)
        object.__setattr__(self, "_category_by_id", cat_by_id)
        # Longest token first so that "REL TO" wins over "REL"; a token ending in a Latin letter
        # or digit ends at a space, a colon or the end so that "RELIDO" is not read as "REL" +
        # "IDO", while one ending in a CJK character needs no space: "提供先JPN" reads.
        alternatives = "|".join(
            r"\s+".join(re.escape(word) for word in token.split())
            + (r"(?=\s|$|[:：])" if token[-1].isascii() and token[-1].isalnum() else "")
            for token in sorted(self.rel_to, key=len, reverse=True)
        )
        object.__setattr__(
            self,
            "_rel_pattern",
            re.compile(rf"(?:{alternatives})\s*[:：]?", re.IGNORECASE),
        )

    def find_level(self, token: str) -> Level | None:
        """The level spelt `token` (any accepted spelling), or None."""
        return self._level_by_token.get(normalise_token(token))

    def level(self, level_id: str) -> Level:
        """The level with this id or spelling; LabelError if the scheme has none."""
        found = self.find_level(level_id)
        if found is None:
            raise LabelError(f"scheme {self.policy} has no classification {level_id!r}")
        return found

    def level_at_rank(self, rank: int) -> Level | None:
        """The level at a place on the shared scale, or None where this scheme has no equivalent."""
        return self._level_by_rank.get(rank)

    def find_category(self, token: str) -> Category | None:
        """The category spelt `token`, or None."""
        return self._category_by_token.get(normalise_token(token))

    def category(self, category_id: str) -> Category | None:
        """The category with this exact id, or None."""
        return self._category_by_id.get(category_id)

    def match_rel(self, text: str) -> int | None:
        """Length of the releasability prefix ("REL TO", "提供先"…) that `text` starts with."""
        found = self._rel_pattern.match(text)
        return found.end() if found else None

    def noforn_tokens(self) -> tuple[str, ...]:
        """Spellings of 'releasable to the originators only'; empty where the scheme has none."""
        if not self.noforn:
            return ()
        return tuple(t for t in (self.noforn, self.noforn_portion, *self.noforn_aliases) if t)


def _claim(index: dict[str, Any], key: str, value: object, policy: str, what: str) -> None:
    existing = index.get(key)
    if existing is not None and existing is not value:
        raise SchemeError(f"scheme {policy}: {what} token {key!r} is used twice")
    index[key] = value


_SCHEME_KEYS = frozenset(
    {
        "policy",
        "name",
        "nation",
        "originators",
        "levels",
        "categories",
        "groups",
        "rel_to",
        "noforn",
        "noforn_portion",
        "noforn_aliases",
        "rel_block",
    }
)
_LEVEL_KEYS = frozenset({"id", "rank", "banner", "portion", "aliases", "english"})
_CATEGORY_KEYS = frozenset(
    {"id", "kind", "block", "banner", "portion", "aliases", "min_level", "max_level", "description"}
)


def _only_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SchemeError(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def scheme_from_mapping(data: Mapping[str, Any], nations: Iterable[str]) -> Scheme:
    """Build a Scheme from a parsed TOML document; SchemeError names what is wrong."""
    known = frozenset(nations)
    # A misspelt key (`aliasess`, `max_levle`) would otherwise be dropped without a word and
    # the scheme would mark or compare differently from what its author wrote.
    where = f"scheme {data.get('policy', '?')}"
    _only_keys(data, _SCHEME_KEYS, where)
    for lv in data.get("levels", ()):
        if isinstance(lv, dict):
            _only_keys(lv, _LEVEL_KEYS, f"{where}: level {lv.get('id')!r}")
    for c in data.get("categories", ()):
        if isinstance(c, dict):
            _only_keys(c, _CATEGORY_KEYS, f"{where}: category {c.get('id')!r}")
    try:
        policy = str(data["policy"])
        levels = tuple(
            Level(
                id=str(lv["id"]),
                rank=int(lv["rank"]),
                banner=str(lv.get("banner", lv["id"])),
                portion=str(lv["portion"]),
                aliases=tuple(str(a) for a in lv.get("aliases", ())),
                english=lv.get("english"),
            )
            for lv in data["levels"]
        )
        rank_of = {lv.id: lv.rank for lv in levels}

        def rank(name: object) -> int | None:
            if name is None:
                return None
            if name not in rank_of:
                raise SchemeError(f"scheme {policy}: unknown level {name!r} in a category")
            return rank_of[str(name)]

        categories = tuple(
            Category(
                id=str(c["id"]),
                kind=CategoryKind(str(c.get("kind", "restrictive")).upper()),
                block=int(c.get("block", 1)),
                banner=str(c.get("banner", c["id"])),
                portion=str(c.get("portion", c.get("banner", c["id"]))),
                aliases=tuple(str(a) for a in c.get("aliases", ())),
                min_rank=rank(c.get("min_level")),
                max_rank=rank(c.get("max_level")),
                description=str(c.get("description", "")),
            )
            for c in data.get("categories", ())
        )
        groups = {
            str(name): frozenset(str(n) for n in members)
            for name, members in data.get("groups", {}).items()
        }
        originators = frozenset(str(n) for n in data["originators"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemeError(f"scheme {data.get('policy', '?')}: malformed: {exc!r}") from exc
    for code in originators.union(*groups.values()):
        if code not in known:
            raise SchemeError(f"scheme {policy}: {code!r} is not an ISO 3166 alpha-3 code")
    return Scheme(
        policy=policy,
        name=str(data.get("name", policy)),
        nation=str(data.get("nation", "")),
        originators=originators,
        levels=levels,
        categories=categories,
        rel_to=tuple(str(t) for t in data.get("rel_to", ("REL TO",))),
        noforn=str(data.get("noforn", "")),
        noforn_portion=str(data.get("noforn_portion", "")),
        noforn_aliases=tuple(str(t) for t in data.get("noforn_aliases", ())),
        rel_block=int(data.get("rel_block", 2)),
        groups=groups,
    )
