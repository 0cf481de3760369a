"""Batched inserts sent straight to the database driver, inside the SQLAlchemy transaction.

Through SQLAlchemy a statement costs more than the database's own work on this project's
machines: on SQLite four hand-offs to aiosqlite's thread (cursor, execute, fetch, close), on
PostgreSQL a prepare per distinct multi-row statement and the adapter's work per row. The writes
every chat message makes go through here instead: one driver call per statement (ADR 0007). The
column order and the conversion of each value (dates above all) are SQLAlchemy's, compiled once
per statement and dialect, so rows are stored exactly as SQLAlchemy would store them. Each
dialect (`dialects/`) gives the statement's form and runs it: on PostgreSQL one statement of
column arrays (`unnest`), whose text does not change with the batch size, so asyncpg prepares it
once per connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from sqlalchemy import Table
    from sqlalchemy.engine import Dialect as SaDialect


class Compiler(Protocol):
    """What compiles a `DriverInsert` for its database: a dialect (`dialects/`)."""

    name: str

    def compile_insert(self, statement: DriverInsert, dialect: SaDialect) -> Compiled: ...


class DriverInsert:
    """`INSERT INTO table (columns) …` for many rows in one call to the driver (run it with
    the database dialect's `insert`)."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self._compiled: dict[str, Compiled] = {}

    def compiled(self, dialect: Compiler, sa_dialect: SaDialect) -> Compiled:
        """The statement and value conversions for this dialect (compiled once)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            found = dialect.compile_insert(self, sa_dialect)
            self._compiled[dialect.name] = found
        return found

    def processor(self, column: str, sa_dialect: SaDialect) -> Callable[[Any], Any] | None:
        """SQLAlchemy's conversion of a value bound to `column`, if it has one."""
        return self.table.c[column].type.dialect_impl(sa_dialect).bind_processor(sa_dialect)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement's text and, in placeholder order, each parameter's column and conversion."""

    sql: str
    params: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The row's values in placeholder order, converted as SQLAlchemy would bind them."""
        return tuple(
            row[name] if convert is None or row[name] is None else convert(row[name])
            for name, convert in self.params
        )
