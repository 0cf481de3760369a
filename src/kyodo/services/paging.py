"""Paged lists: one page of items, the cursor of the next, and the bounds of a page's size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from kyodo.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

T = TypeVar("T")
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next (None at the end)."""

    items: Sequence[T]
    next_cursor: str | None


def page_limit(limit: int) -> int:
    """`limit` if it is a page size a caller may ask for; InvalidInput otherwise."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    return limit


def page_of(items: Sequence[T], limit: int, cursor: Callable[[T], str]) -> Page[T]:
    """The first `limit` of `items`, read with one more than a page to know whether another
    follows; the next page starts after the cursor of the last item shown."""
    shown = items[:limit]
    return Page(shown, cursor(shown[-1]) if len(items) > limit else None)
