"""Batched statements sent straight to the database driver, inside the SQLAlchemy transaction.

Through SQLAlchemy a statement costs more than the database's own work on this project's
machines: on SQLite four hand-offs to aiosqlite's thread (cursor, execute, fetch, close), on
PostgreSQL a prepare per distinct multi-row statement and the adapter's work per row. The writes
every chat message makes go through here instead: one driver call per statement. The column
order and the conversion of each value (dates above all) are SQLAlchemy's, compiled once per
statement and dialect, so rows are stored exactly as SQLAlchemy would store them. On PostgreSQL
a batch is one statement of column arrays (`unnest`), whose text does not change with the batch
size, so asyncpg prepares it once per connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import String

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from sqlalchemy import Table
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.types import TypeEngine


async def _driver(conn: AsyncConnection) -> Any:
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection  # the aiosqlite or asyncpg connection
    # SQLAlchemy begins a PostgreSQL transaction at its first statement: a driver statement
    # sent before one would run on its own, outside the transaction.
    if conn.dialect.name == "postgresql" and not driver.is_in_transaction():
        raise RuntimeError("a driver statement needs a statement through SQLAlchemy before it")
    return driver


async def fetch_all(conn: AsyncConnection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Rows of a query (placeholders `?` on SQLite, `$1…` on PostgreSQL), in one driver call."""
    driver = await _driver(conn)
    if conn.dialect.name == "postgresql":
        return list(await driver.fetch(sql, *params))
    return list(await driver.execute_fetchall(sql, tuple(params)))


async def execute_many(conn: AsyncConnection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """A statement for each row of parameters, in one call to the driver."""
    driver = await _driver(conn)
    await driver.executemany(sql, [tuple(row) for row in rows])


def pg_arrays(compiled: Compiled, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """The rows as one list per column, in placeholder order (the parameters of `unnest`)."""
    values = [compiled.values(row) for row in rows]
    return [list(column) for column in zip(*values, strict=True)] if values else []


class DriverInsert:
    """`INSERT INTO table (columns) …` for many rows in one call to the driver."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self._compiled: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        """The statement and value conversions for this dialect (compiled once)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compile(dialect)
            self._compiled[dialect.name] = found
        return found

    def _compile(self, dialect: Dialect) -> Compiled:
        def processor(name: str) -> Callable[[Any], Any] | None:
            return self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

        if dialect.name == "postgresql":
            arrays = ", ".join(
                f"${i}::{_array_element(self.table.c[name].type, dialect)}[]"
                for i, name in enumerate(self.columns, start=1)
            )
            names = ", ".join(self.columns)
            # In the rows' order, so values the database assigns (a serial key) follow it.
            # Names from the schema in tables.py; every value is a parameter.
            table, given = self.table.name, f"unnest({arrays}) WITH ORDINALITY"
            sql = (
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {given}"  # noqa: S608
                f" AS given({names}, given_order) ORDER BY given_order"
            )
            return Compiled(sql, tuple((name, processor(name)) for name in self.columns))
        compiled = self.table.insert().compile(dialect=dialect, column_keys=list(self.columns))
        order = tuple(compiled.positiontup or ())
        if sorted(order) != sorted(self.columns):
            raise ValueError(f"unexpected parameters {order} for {self.columns}")
        return Compiled(str(compiled), tuple((name, processor(name)) for name in order))

    async def run(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert the rows (each a mapping of every column named at construction)."""
        if not rows:
            return
        compiled = self.compiled(conn.dialect)
        driver = await _driver(conn)
        if conn.dialect.name == "postgresql":
            await driver.execute(compiled.sql, *pg_arrays(compiled, rows))
        else:
            await driver.executemany(compiled.sql, [compiled.values(row) for row in rows])

    async def run_returning(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]], column: str
    ) -> list[Any]:
        """Insert the rows in one multi-row statement (SQLite; PostgreSQL's batches return
        through `pg_arrays` and a statement of their own); `column` of each, in the order SQLite
        returns them (any order: for a key it assigns, sort them to match the rows)."""
        if conn.dialect.name != "sqlite":
            raise NotImplementedError("run_returning is SQLite's multi-row VALUES form")
        compiled = self.compiled(conn.dialect)
        head, _, group = compiled.sql.rpartition(" VALUES ")
        sql = f"{head} VALUES {', '.join([group] * len(rows))} RETURNING {column}"
        values = [value for row in rows for value in compiled.values(row)]
        driver = await _driver(conn)
        return [found[0] for found in await driver.execute_fetchall(sql, values)]


def _array_element(column_type: TypeEngine[Any], dialect: Dialect) -> str:
    """The type an array parameter is cast to: the column's, without a length. PostgreSQL's
    explicit cast to `varchar(n)` cuts a longer value silently; the insert's own assignment to
    the column then refuses it (22001 → 422), as it does for SQLAlchemy's statements."""
    if isinstance(column_type, String) and column_type.length is not None:
        column_type = type(column_type)()
    return column_type.compile(dialect=dialect)


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
