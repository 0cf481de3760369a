"""The literal words a regular expression cannot match without: a cheap pre-check for terms."""

from __future__ import annotations

import re
from typing import Any, Final

# The regex parser of the standard library (`sre_parse`); private, hence every failure below
# falls back to "unknown" (the term then always runs), never to a wrong answer.
try:
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older or other Pythons
    _p = None
    _c = None

MIN_USEFUL: Final = 1


def required_literals(term: str) -> tuple[str, ...] | None:
    """Lower-case strings one of which every match of `term` contains, or None if unknown.

    `launch(?:es|ed)?` needs "launch"; `(?:1st|2nd) (?:wave|strike)` needs "wave" or "strike";
    `\\d+日` needs "日". A term with nothing literal in it (`\\d{4}`) gives None.
    """
    if _p is None:
        return None
    try:
        parsed = _p.parse(term, re.IGNORECASE)
    except Exception:
        return None
    found = _sequence(list(parsed))
    if found is None or min(len(w) for w in found) < MIN_USEFUL:
        return None
    return tuple(sorted(found))


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The more selective of two candidates: the one whose shortest word is longer."""
    if a is None:
        return b
    if b is None:
        return a
    return a if min(map(len, a)) >= min(map(len, b)) else b


def _sequence(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    best: frozenset[str] | None = None
    run = ""
    for op, value in items:
        if op is _c.LITERAL:
            run += chr(value).lower()
            continue
        if run:
            best = _better(best, frozenset({run}))
            run = ""
        best = _better(best, _item(op, value))
    if run:
        best = _better(best, frozenset({run}))
    return best


def _item(op: Any, value: Any) -> frozenset[str] | None:
    if op is _c.SUBPATTERN:
        return _sequence(list(value[-1]))
    if op is _c.BRANCH:
        union: set[str] = set()
        for branch in value[1]:
            found = _sequence(list(branch))
            if found is None:
                return None
            union |= found
        return frozenset(union)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and value[0] >= 1:
        return _sequence(list(value[2]))
    return None
