"""Marking grammar: parse and render banner (`SECRET//REL TO USA, JPN`) and portion forms.

Grammar, per scheme (tokens come from the scheme file, matched ignoring case and extra spaces):

    marking   := banner | "(" banner ")"
    banner    := level ("//" block)*
    block     := element ("/" element)*
    element   := category | noforn | rel
    rel       := REL-TOKEN [":"] nation ((","|"、") nation)*     nation: alpha-3, group, or NONE

Parsing is forgiving of case and spacing, never of meaning: every error names what is wrong and the
0-based character position where it starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.errors import LabelError, MarkingError, NoEquivalentError
from kyodo.labels.label import Label
from kyodo.labels.scheme import Category, CategoryKind, Level, Scheme, normalise_token

if TYPE_CHECKING:
    from kyodo.labels.registry import SchemeRegistry

MAX_MARKING_LENGTH = 1000
NO_NATION = "NONE"
_BLOCK_SEPARATOR = re.compile(r"//")
_LIST_SEPARATOR = re.compile(r"[,、]")


@dataclass(frozen=True, slots=True)
class _Span:
    """A stretch of the original text, kept so errors can point at it."""

    start: int
    end: int

    def text(self, source: str) -> str:
        return source[self.start : self.end]


def _strip(source: str, start: int, end: int) -> _Span:
    while start < end and source[start].isspace():
        start += 1
    while end > start and source[end - 1].isspace():
        end -= 1
    return _Span(start, end)


def _split(source: str, span: _Span, separator: re.Pattern[str]) -> list[_Span]:
    parts: list[_Span] = []
    cursor = span.start
    for found in separator.finditer(source, span.start, span.end):
        parts.append(_strip(source, cursor, found.start()))
        cursor = found.end()
    parts.append(_strip(source, cursor, span.end))
    return parts


def parse_marking(text: str, registry: SchemeRegistry, policy: str | None = None) -> Label:
    """Parse a banner or portion marking into a Label; MarkingError says what and where.

    Without `policy` the marking is read in the first scheme (the registry's default, then the
    others by name) whose classification it names and in which the whole marking parses.
    """
    if len(text) > MAX_MARKING_LENGTH:
        raise MarkingError(
            f"marking is longer than {MAX_MARKING_LENGTH} characters",
            text=text[:40] + "…",
            position=MAX_MARKING_LENGTH,
        )
    whole = _strip(text, 0, len(text))
    if whole.start == whole.end:
        raise MarkingError("empty marking", text=text, position=0)
    if text[whole.start] == "(":
        if text[whole.end - 1] != ")":
            raise MarkingError("portion marking has no closing ')'", text=text, position=whole.end)
        whole = _strip(text, whole.start + 1, whole.end - 1)
    elif text[whole.end - 1] == ")":
        raise MarkingError("')' without an opening '('", text=text, position=whole.end - 1)

    blocks = _split(text, whole, _BLOCK_SEPARATOR)
    (scheme, level), *others = _find_levels(text, blocks[0], registry, policy)
    try:
        return _Parser(text, registry, scheme, level).parse(blocks[1:])
    except MarkingError:
        # Several schemes may spell the classification alike ("U" is a portion in USA and JPN):
        # the marking is read in the first of them in which it parses, and when none reads it,
        # the error is the first scheme's.
        for other_scheme, other_level in others:
            try:
                return _Parser(text, registry, other_scheme, other_level).parse(blocks[1:])
            except MarkingError:
                continue
        raise


def _find_levels(
    text: str, span: _Span, registry: SchemeRegistry, policy: str | None
) -> list[tuple[Scheme, Level]]:
    """Every (scheme, level) the classification token names, in the registry's search order."""
    token = span.text(text)
    if not token:
        raise MarkingError("missing classification", text=text, position=span.start)
    try:
        schemes = registry.search_order(policy)
    except LabelError as exc:
        raise MarkingError(exc.message, text=text, position=0) from None
    found = [(s, lv) for s in schemes if (lv := s.find_level(token)) is not None]
    if found:
        return found
    where = f" in scheme {policy.upper()}" if policy else ""
    if "/" in token:
        raise MarkingError(
            f"expected '//' after the classification, found {token!r}",
            text=text,
            position=span.start,
        )
    raise MarkingError(f"unknown classification {token!r}{where}", text=text, position=span.start)


class _Parser:
    """Reads the blocks after the classification for one scheme and level."""

    def __init__(self, text: str, registry: SchemeRegistry, scheme: Scheme, level: Level) -> None:
        self.text = text
        self.registry = registry
        self.scheme = scheme
        self.level = level
        self.restrictive: set[str] = set()
        self.informative: set[str] = set()
        self.releasable_to: set[str] | None = None
        self.rel_at: int | None = None
        self.noforn_at: int | None = None

    def fail(self, message: str, position: int) -> MarkingError:
        return MarkingError(message, text=self.text, position=position)

    def parse(self, blocks: list[_Span]) -> Label:
        for block in blocks:
            if block.start == block.end:
                raise self.fail("empty block between '//' separators", block.start)
            for element in _split(self.text, block, re.compile("/")):
                if element.start == element.end:
                    raise self.fail("empty element between '/' separators", element.start)
                self.element(element)
        rel: frozenset[str] | None
        if self.noforn_at is not None:
            rel = self.scheme.originators
        elif self.releasable_to is not None:
            rel = frozenset(self.releasable_to)
        else:
            rel = self.scheme.originators if self.level.rank > 0 else None
        return Label(
            self.scheme.policy,
            self.level.id,
            self.level.rank,
            frozenset(self.restrictive),
            rel,
            frozenset(self.informative),
        )

    def element(self, span: _Span) -> None:
        token = span.text(self.text)
        prefix = self.scheme.match_rel(token)
        if prefix is not None:
            self.rel(span, span.start + prefix)
            return
        if normalise_token(token) in {normalise_token(t) for t in self.scheme.noforn_tokens()}:
            if self.rel_at is not None:
                raise self.fail("NOFORN cannot be combined with REL TO", span.start)
            self.noforn_at = span.start
            return
        category = self.scheme.find_category(token)
        if category is None:
            raise self.fail(f"unknown marking {token!r} in scheme {self.scheme.policy}", span.start)
        self.category(category, span)

    def category(self, category: Category, span: _Span) -> None:
        if not category.allowed_at(self.level.rank):
            raise self.fail(
                f"{category.id} is not allowed at {self.level.id} in scheme {self.scheme.policy}"
                f"{_range_text(self.scheme, category)}",
                span.start,
            )
        if category.kind is CategoryKind.INFORMATIVE:
            self.informative.add(category.id)
        else:
            self.restrictive.add(category.id)

    def rel(self, span: _Span, list_start: int) -> None:
        if self.noforn_at is not None:
            raise self.fail("REL TO cannot be combined with NOFORN", span.start)
        if self.rel_at is not None:
            raise self.fail("a second REL TO list", span.start)
        self.rel_at = span.start
        items = _split(self.text, _Span(list_start, span.end), _LIST_SEPARATOR)
        if len(items) == 1 and items[0].start == items[0].end:
            raise self.fail("empty REL TO list", list_start)
        nations: set[str] = set()
        for item in items:
            code = item.text(self.text).upper()
            if not code:
                raise self.fail("empty entry in REL TO list", item.start)
            if code == NO_NATION:
                if len(items) > 1:
                    raise self.fail("NONE must stand alone in a REL TO list", item.start)
                continue
            if code in self.scheme.groups:
                nations |= self.scheme.groups[code]
            elif code in self.registry.nations:
                nations.add(code)
            else:
                raise self.fail(f"unknown country code {code!r} in REL TO", item.start)
        self.releasable_to = nations


def _range_text(scheme: Scheme, category: Category) -> str:
    parts = []
    if category.min_rank is not None:
        low = scheme.level_at_rank(category.min_rank)
        parts.append(f"from {low.id if low else category.min_rank}")
    if category.max_rank is not None:
        high = scheme.level_at_rank(category.max_rank)
        parts.append(f"up to {high.id if high else category.max_rank}")
    return f" (allowed {' '.join(parts)})" if parts else ""


def render_marking(
    label: Label, registry: SchemeRegistry, *, portion: bool = False, scheme: str | None = None
) -> str:
    """The canonical banner (or portion) marking of a label, in its own or another scheme.

    In another scheme the level is the one at the same place on the shared scale; where that
    scheme has no such level or category, NoEquivalentError says which part has none.
    """
    origin = registry.scheme(label.policy)
    target = registry.scheme(scheme) if scheme else origin
    if target is origin:
        level = origin.level(label.level)
    else:
        found = target.level_at_rank(label.rank)
        if found is None:
            raise NoEquivalentError(
                f"scheme {target.policy} has no level equivalent to {origin.policy} {label.level}"
            )
        level = found
    blocks: dict[int, list[tuple[int, str]]] = {}
    order = {c.id: i for i, c in enumerate(target.categories)}
    for category_id in label.restrictive | label.informative:
        category = target.category(category_id)
        if category is None:
            raise NoEquivalentError(
                f"scheme {target.policy} has no equivalent for category {category_id}"
            )
        token = category.portion if portion else category.banner
        blocks.setdefault(category.block, []).append((order[category.id], token))
    rel = _render_releasability(label, origin, target, portion=portion)
    if rel:
        blocks.setdefault(target.rel_block, []).append((len(order), rel))
    parts = [level.portion if portion else level.banner]
    for block in sorted(blocks):
        parts.append("/".join(token for _, token in sorted(blocks[block])))
    marking = "//".join(parts)
    return f"({marking})" if portion else marking


def _render_releasability(label: Label, origin: Scheme, target: Scheme, *, portion: bool) -> str:
    rel = label.releasable_to
    if rel is None:
        return ""
    if rel == target.originators:
        if target.noforn:
            return target.noforn_portion if portion and target.noforn_portion else target.noforn
        if label.rank > 0:
            return ""  # the scheme's default for a classified label needs no marking
    return f"{target.rel_to[0]} {', '.join(releasability_list(rel, origin, target))}"


def releasability_list(
    rel: frozenset[str], origin: Scheme, target: Scheme | None = None
) -> list[str]:
    """Canonical REL TO entries: the originator first, then groups and nations alphabetically."""
    if not rel:
        return [NO_NATION]
    groups = (target or origin).groups
    first = [origin.nation] if origin.nation in rel else []
    others = set(rel) - set(first)
    tokens: list[str] = []
    for name in sorted(groups):
        members = groups[name]
        if len(members) > 1 and members <= rel and members & others:
            tokens.append(name)
            others -= members
    return first + sorted(tokens + sorted(others))
