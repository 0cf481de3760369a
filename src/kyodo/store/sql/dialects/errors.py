"""Database errors as Kyodo errors: what both back-ends raise through SQLAlchemy."""

from __future__ import annotations

from sqlalchemy import exc

from kyodo.errors import Conflict, InvalidInput, Unavailable


def sqlalchemy_error(error: Exception) -> Exception | None:
    """The Kyodo error a SQLAlchemy (or socket) error means; None if it means a bug."""
    if isinstance(error, exc.DataError):
        return InvalidInput(f"value refused by the database: {short(error)}")
    if isinstance(error, exc.IntegrityError):
        return Conflict(f"the change conflicts with stored data: {error.orig}")
    if isinstance(error, exc.OperationalError | exc.InterfaceError | OSError | TimeoutError):
        return Unavailable(f"database unavailable: {short(error)}")
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return Unavailable(f"database unavailable: {short(error)}")
    return None


def short(error: BaseException) -> str:
    """The first line of the driver's message (SQLAlchemy's own adds the statement)."""
    orig = getattr(error, "orig", None) or error
    return str(orig).splitlines()[0][:200] if str(orig) else type(orig).__name__
