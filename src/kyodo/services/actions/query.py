"""Filtering, searching, sorting and counting actions — on the reader's view only, so a
withheld value can change no answer (no match, no non-match, no place in an order, no count)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.domain.actions import PRIORITY_RANK, ActionKind, deadline_field, parse_time
from kyodo.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kyodo.services.actions.views import ActionSeen, FieldSeen

SORTS = ("inbox", "deadline", "priority", "created", "updated", "title")
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class ActionQuery:
    """What a list asks for. `fields` are exact matches on field values (as text); `sort` is
    one of SORTS or `field:<name>`, `-` in front for descending; a value the reader may not
    read (or that is missing) sorts last either way and matches no filter."""

    kind: ActionKind | None = None
    state: str | None = None
    mine: bool = False
    waiting_on_me: bool = False
    overdue: bool | None = None
    fields: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    sort: str = "inbox"
    offset: int = 0
    limit: int = 50


def check_query(query: ActionQuery) -> None:
    """InvalidInput for a query that cannot be answered."""
    name = query.sort.removeprefix("-")
    if name not in SORTS and not (name.startswith("field:") and len(name) > 6):
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)} or field:<name>")
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    if query.offset < 0:
        raise InvalidInput("offset must be 0 or more")


def _text(seen: FieldSeen | None) -> str | None:
    """A readable field's value as text (None if missing, withheld or empty)."""
    if seen is None or seen.withheld or seen.value is None:
        return None
    return seen.value if isinstance(seen.value, str) else json.dumps(seen.value)


def matches(seen: ActionSeen, query: ActionQuery) -> bool:
    if query.kind is not None and seen.kind is not query.kind:
        return False
    if query.state is not None and seen.state != query.state:
        return False
    if query.mine and not seen.mine:
        return False
    if query.waiting_on_me and not seen.waiting_on_me:
        return False
    # A withheld deadline is neither overdue nor not: it matches neither filter.
    if query.overdue is not None and seen.overdue is not query.overdue:
        return False
    for name, wanted in query.fields:
        if _text(seen.fields.get(name)) != wanted:
            return False
    if query.text:
        needle = query.text.casefold()
        texts = (_text(f) for f in seen.fields.values())
        if not any(t is not None and needle in t.casefold() for t in texts):
            return False
    return True


def _key(seen: ActionSeen, name: str) -> tuple[int, object]:
    """(0, value) for a readable value, (1, "") for a missing or withheld one."""
    if name == "priority":
        return (0, PRIORITY_RANK[seen.priority])
    if name == "created":
        return (0, seen.created_at)
    if name == "updated":
        return (0, seen.updated_at)
    field_name = deadline_field(seen.kind) if name == "deadline" else name.removeprefix("field:")
    if name == "title":
        field_name = "title"
    value = seen.fields.get(field_name)
    if value is None or value.withheld or value.value is None:
        return (1, "")
    if name == "deadline":
        moment = parse_time(value.value)
        return (1, "") if moment is None else (0, moment.isoformat())
    raw = value.value
    if isinstance(raw, bool | int | float):
        return (0, (0, float(raw), ""))
    return (0, (1, 0.0, _text(value) or ""))


def ordered(found: Sequence[ActionSeen], sort: str) -> list[ActionSeen]:
    """Sorted, ties in creation order; missing and withheld values last in either direction."""
    if sort == "inbox":
        # Overdue first, then the nearest readable deadline, higher priority, older first.
        def inbox(s: ActionSeen) -> tuple[object, ...]:
            deadline = _key(s, "deadline")
            return (
                0 if s.overdue else 1,
                deadline[0],
                deadline[1] if deadline[0] == 0 else "",
                -PRIORITY_RANK[s.priority],
                s.created_at,
                s.id,
            )

        return sorted(found, key=inbox)
    descending = sort.startswith("-")
    name = sort.removeprefix("-")
    # Ties in creation order: the same whatever any value is.
    by_id = sorted(found, key=lambda s: (s.created_at, s.id))
    known = [s for s in by_id if _key(s, name)[0] == 0]
    unknown = [s for s in by_id if _key(s, name)[0] == 1]
    known.sort(key=lambda s: _key(s, name)[1], reverse=descending)  # type: ignore[arg-type,return-value]
    return known + unknown
