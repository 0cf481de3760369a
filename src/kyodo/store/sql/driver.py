"""Batched statements sent straight to the SQLite driver, inside the SQLAlchemy transaction.

aiosqlite runs every call in its own thread: through SQLAlchemy a statement costs four calls
(cursor, execute, fetch, close), each a hand-off between threads, and on this project's machines
those hand-offs cost more than SQLite's work. The writes every chat message makes go through
here instead: one hand-off per statement. The SQL, the column order and the conversion of each
value (dates above all) are SQLAlchemy's, compiled once per statement, so rows are stored exactly
as SQLAlchemy would store them. PostgreSQL (asyncpg, no threads) keeps the ordinary path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from sqlalchemy import Table
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection


def uses_driver(conn: AsyncConnection) -> bool:
    """Whether statements on this connection should go straight to the driver (SQLite)."""
    return conn.dialect.name == "sqlite"


async def _driver(conn: AsyncConnection) -> Any:
    raw = await conn.get_raw_connection()
    return raw.driver_connection  # the aiosqlite connection, in this transaction


async def fetch_all(conn: AsyncConnection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Rows of a query, in one call to the driver's thread."""
    driver = await _driver(conn)
    return list(await driver.execute_fetchall(sql, tuple(params)))


async def execute_many(conn: AsyncConnection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """A statement for each row of parameters, in one call to the driver's thread."""
    driver = await _driver(conn)
    await driver.executemany(sql, [tuple(row) for row in rows])


class DriverInsert:
    """`INSERT INTO table (columns) VALUES (...)` for many rows in one call to the driver."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.table.insert().compile(dialect=dialect, column_keys=list(self.columns))
            order = tuple(compiled.positiontup or ())
            if sorted(order) != sorted(self.columns):
                raise ValueError(f"unexpected parameters {order} for {self.columns}")
            processors = tuple(
                self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                for name in order
            )
            found = _Compiled(str(compiled), tuple(zip(order, processors, strict=True)))
            self._compiled[dialect.name] = found
        return found

    async def run(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert the rows (each a mapping of every column named at construction)."""
        compiled = self._for(conn.dialect)
        driver = await _driver(conn)
        await driver.executemany(compiled.sql, [compiled.values(row) for row in rows])

    async def run_returning(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]], column: str
    ) -> list[Any]:
        """Insert the rows in one multi-row statement; `column` of each, in the order SQLite
        returns them (any order: for a key it assigns, sort them to match the rows)."""
        compiled = self._for(conn.dialect)
        head, _, group = compiled.sql.rpartition(" VALUES ")
        sql = f"{head} VALUES {', '.join([group] * len(rows))} RETURNING {column}"
        values = [value for row in rows for value in compiled.values(row)]
        driver = await _driver(conn)
        return [found[0] for found in await driver.execute_fetchall(sql, values)]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    params: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # in placeholder order

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The row's values in placeholder order, converted as SQLAlchemy would bind them."""
        return tuple(
            row[name] if convert is None or row[name] is None else convert(row[name])
            for name, convert in self.params
        )
