"""What differs between SQLite and PostgreSQL, behind one Protocol chosen once per database."""

from __future__ import annotations

from kyodo.store.sql.dialects.base import Dialect
from kyodo.store.sql.dialects.postgresql import PostgresqlDialect
from kyodo.store.sql.dialects.sqlite import SqliteDialect

__all__ = ["Dialect", "dialect_for"]


def dialect_for(url: str) -> Dialect:
    """The dialect of a database URL."""
    return SqliteDialect() if url.startswith("sqlite") else PostgresqlDialect()
