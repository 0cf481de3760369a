"""Times read back from the database as aware datetimes (SQLite returns naive ones; all are UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def aware(moment: datetime | None) -> datetime | None:
    """The stored time as an aware datetime (None stays None)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def required(moment: datetime | None) -> datetime:
    """The stored time of a NOT NULL column, as an aware datetime."""
    found = aware(moment)
    if found is None:
        raise ValueError("a required time is missing")
    return found
