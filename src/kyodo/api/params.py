"""Query and option values shared by the transports: ISO 8601 times, bounding boxes."""

from __future__ import annotations

from datetime import datetime

from kyodo.errors import InvalidInput


def iso_time(value: str | None, name: str = "since") -> datetime | None:
    """An aware datetime from ISO 8601 text (a time zone is required); InvalidInput otherwise."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{name}: give a time zone (e.g. Z or +09:00)")
    return moment
