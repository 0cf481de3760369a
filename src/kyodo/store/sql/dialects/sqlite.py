"""The SQLite dialect: its pool and write path, batched inserts, FTS5 search and its errors."""

from __future__ import annotations

import sqlite3
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.dialects import sqlite

from kyodo.errors import Conflict, InvalidInput, Unavailable
from kyodo.store.sql.dialects.errors import sqlalchemy_error
from kyodo.store.sql.dialects.sqlite_writer import SqliteWriter
from kyodo.store.sql.driver import Compiled
from kyodo.store.sql.message_inserts import FIRST_VERSION, NEW_MESSAGE
from kyodo.store.sql.tables import messages

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from contextlib import AbstractAsyncContextManager

    from sqlalchemy import Select, Table
    from sqlalchemy.engine import Dialect as SaDialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
    from sqlalchemy.sql.expression import Executable

    from kyodo.store.sql.dialects.sqlite_writer import SqliteConnection
    from kyodo.store.sql.driver import DriverInsert

_UNLOCKED = nullcontext()  # a read: any number at once, each on its connection's thread


async def _driver(conn: AsyncConnection) -> SqliteConnection:
    raw = await conn.get_raw_connection()
    return raw.driver_connection  # type: ignore[return-value]


class SqliteDialect:
    """SQLite's ways (see `Dialect`); its write path is `writer`'s."""

    name = "sqlite"

    def __init__(self) -> None:
        self.writer = SqliteWriter()

    def engine_options(self) -> dict[str, Any]:
        # Enough pooled connections for a busy server's concurrent reads: an overflow
        # connection is closed when returned, and a new one costs a thread and four PRAGMAs.
        return {
            "pool_size": 20,
            "max_overflow": 20,
            "pool_timeout": 10,
            "async_creator": self.writer.connect,
        }

    def attach(self, engine: AsyncEngine) -> None:
        self.writer.install(engine)

    def transaction_options(self, *, write: bool, bulk: bool) -> dict[str, Any]:
        return self.writer.options(write=write, bulk=bulk)

    def writing(self, write: bool) -> AbstractAsyncContextManager[object]:
        return self.writer if write else _UNLOCKED

    def domain_error(self, error: Exception) -> Exception | None:
        # Raised by the statements sent straight to aiosqlite, which SQLAlchemy does not wrap.
        if isinstance(error, sqlite3.Error):
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            if isinstance(error, sqlite3.IntegrityError):
                return Conflict(f"the change conflicts with stored data: {reason}")
            if isinstance(error, sqlite3.DataError):
                return InvalidInput(f"value refused by the database: {reason}")
            return Unavailable(f"database unavailable: {reason}")
        return sqlalchemy_error(error)

    async def close(self) -> None:
        await self.writer.close()

    async def fetch_all(
        self, conn: AsyncConnection, sql: str, params: Sequence[Any] = ()
    ) -> list[Any]:
        driver = await _driver(conn)
        return list(await driver.execute_fetchall(sql, tuple(params)))

    def compile_insert(self, statement: DriverInsert, dialect: SaDialect) -> Compiled:
        columns = list(statement.columns)
        compiled = statement.table.insert().compile(dialect=dialect, column_keys=columns)
        order = tuple(compiled.positiontup or ())
        if sorted(order) != sorted(columns):
            raise ValueError(f"unexpected parameters {order} for {statement.columns}")
        return Compiled(str(compiled), tuple((c, statement.processor(c, dialect)) for c in order))

    async def insert(
        self, conn: AsyncConnection, statement: DriverInsert, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        if not rows:
            return
        compiled = statement.compiled(self, conn.dialect)
        driver = await _driver(conn)
        await driver.executemany(compiled.sql, [compiled.values(row) for row in rows])

    def insert_if_new(
        self, table: Table, values: Mapping[str, Any], key: str | Sequence[str]
    ) -> Executable:
        keys = [key] if isinstance(key, str) else list(key)
        return sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)

    async def lock_audit_chain(self, conn: AsyncConnection) -> None:
        """Nothing to take: a write transaction began IMMEDIATE, holding the only write lock."""

    async def add_messages(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
    ) -> list[int]:
        driver = await _driver(conn)
        # One multi-row INSERT … RETURNING. SQLite gives each new row of a rowid table the
        # largest rowid plus one, row after row in the order given, and returns them in any
        # order: sorted, the seqs pair up with the rows again. They must then be consecutive;
        # if not, stop rather than mislabel a message.
        compiled = NEW_MESSAGE.compiled(self, conn.dialect)
        head, _, group = compiled.sql.rpartition(" VALUES ")
        sql = f"{head} VALUES {', '.join([group] * len(rows))} RETURNING seq"
        values = [value for row in rows for value in compiled.values(row)]
        seqs = sorted(int(found[0]) for found in await driver.execute_fetchall(sql, values))
        if seqs and seqs[-1] - seqs[0] != len(seqs) - 1:
            raise RuntimeError(f"message seqs of one insert are not consecutive: {seqs}")
        first = FIRST_VERSION.compiled(self, conn.dialect)
        versions = [
            {
                "message_seq": seq,
                "version": 1,
                "label_id": row["label_id"],
                "text": row["text"],
                "editor_id": row["author_id"],
                "at": row["created_at"],
            }
            for row, seq in zip(rows, seqs, strict=True)
        ]
        await driver.executemany(first.sql, [first.values(version) for version in versions])
        # PostgreSQL indexes the column itself; SQLite's FTS5 table is kept here.
        await driver.executemany(
            "INSERT INTO messages_fts (rowid, text) VALUES (?, ?)",
            [(seq, row["text"]) for row, seq in zip(rows, seqs, strict=True)],
        )
        return seqs

    async def index_message(self, conn: AsyncConnection, seq: int, body: str | None) -> None:
        await conn.execute(text("DELETE FROM messages_fts WHERE rowid = :seq"), {"seq": seq})
        if body is not None:
            await conn.execute(
                text("INSERT INTO messages_fts (rowid, text) VALUES (:seq, :body)"),
                {"seq": seq, "body": body},
            )

    def matching(self, query: Select[Any], words: Sequence[str]) -> Select[Any]:
        if all(len(w) >= 3 for w in words):
            # FTS5 trigram: each word quoted, all must match.
            match = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
            ids = (
                select(text("rowid"))
                .select_from(text("messages_fts"))
                .where(text("messages_fts MATCH :match"))
            )
            return query.where(messages.c.seq.in_(ids)).params(match=match)
        for word in words:  # trigram needs 3 characters; short words scan with LIKE
            query = query.where(messages.c.text.contains(word, autoescape=True))
        return query
