"""The PostgreSQL dialect: its pool, `unnest` batch inserts, the audit lock, search and errors."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import asyncpg
from asyncpg.exceptions._base import DataError as ClientDataError
from sqlalchemy import String, event, exc, func, text
from sqlalchemy.dialects import postgresql

from kyodo.errors import Conflict, InvalidInput, Unavailable
from kyodo.store.sql.dialects.errors import short, sqlalchemy_error
from kyodo.store.sql.driver import Compiled
from kyodo.store.sql.message_inserts import NEW_MESSAGE
from kyodo.store.sql.tables import messages

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from contextlib import AbstractAsyncContextManager

    from sqlalchemy import Select, Table
    from sqlalchemy.engine import Dialect as SaDialect
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
    from sqlalchemy.pool import ConnectionPoolEntry
    from sqlalchemy.sql.expression import Executable
    from sqlalchemy.types import TypeEngine

    from kyodo.store.sql.driver import DriverInsert

# A pooled connection used this recently is taken to be alive, as HikariCP does
# (aliveBypassWindowMs): SQLAlchemy's pre-ping costs three round trips (BEGIN, a query,
# ROLLBACK) on every checkout, more than a chat post's own statements.
PING_AFTER_IDLE = 0.5  # seconds

# Any constant works; it only has to be the same in every Kyodo process sharing the database.
AUDIT_LOCK_KEY = 0x4B594F444F  # "KYODO"

_UNLOCKED = nullcontext()  # PostgreSQL's own locks order the writers of every process


async def _driver(conn: AsyncConnection) -> Any:
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection  # the asyncpg connection
    # SQLAlchemy's adapter begins the driver's transaction at its first statement: a driver
    # statement sent before one would run on its own, outside the transaction. Services read
    # before they write, so this round trip is rare.
    if not driver.is_in_transaction():
        await conn.execute(text("SELECT 1"))
    return driver


class PostgresqlDialect:
    """PostgreSQL's ways (see `Dialect`)."""

    name = "postgresql"

    def engine_options(self) -> dict[str, Any]:
        return {
            "pool_size": 10,
            "max_overflow": 10,
            "pool_timeout": 10,
            "connect_args": {"timeout": 5},
        }

    def attach(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "checkin", _note_idle)
        event.listen(engine.sync_engine, "checkout", _ping_if_idle)

    def transaction_options(self, *, write: bool, bulk: bool) -> dict[str, Any]:
        return {}  # nothing reads them: no hand-off to SQLAlchemy's greenlet to set them

    def writing(self, write: bool) -> AbstractAsyncContextManager[object]:
        return _UNLOCKED

    def domain_error(self, error: Exception) -> Exception | None:
        # asyncpg's own errors come from the statements sent straight to it, which SQLAlchemy
        # does not wrap; they answer as SQLAlchemy's would.
        if isinstance(error, asyncpg.PostgresError):
            return _from_sqlstate(error.sqlstate or "", error, short(error))
        if isinstance(error, ClientDataError):  # a value asyncpg cannot encode (before sending)
            return InvalidInput(f"value refused by the database: {short(error)}")
        if isinstance(error, asyncpg.InterfaceError):
            return Unavailable(f"database unavailable: {short(error)}")
        found = sqlalchemy_error(error)
        if found is None and isinstance(error, exc.DBAPIError):
            # SQLAlchemy's adapter keeps the SQLSTATE and chains asyncpg's error.
            sqlstate = str(getattr(error.orig, "sqlstate", "") or "")
            cause = getattr(error.orig, "__cause__", None)
            found = _from_sqlstate(sqlstate, cause, short(error))
        return found

    async def close(self) -> None:
        """Nothing runs in the background."""

    async def fetch_all(
        self, conn: AsyncConnection, sql: str, params: Sequence[Any] = ()
    ) -> list[Any]:
        driver = await _driver(conn)
        return list(await driver.fetch(sql, *params))

    def compile_insert(self, statement: DriverInsert, dialect: SaDialect) -> Compiled:
        table, columns = statement.table, statement.columns
        arrays = ", ".join(
            f"${i}::{_array_element(table.c[name].type, dialect)}[]"
            for i, name in enumerate(columns, start=1)
        )
        names = ", ".join(columns)
        # In the rows' order, so values the database assigns (a serial key) follow it.
        # Names from the schema in tables.py; every value is a parameter.
        given = f"unnest({arrays}) WITH ORDINALITY"
        sql = (
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {given}"  # noqa: S608
            f" AS given({names}, given_order) ORDER BY given_order"
        )
        return Compiled(sql, tuple((name, statement.processor(name, dialect)) for name in columns))

    async def insert(
        self, conn: AsyncConnection, statement: DriverInsert, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        if not rows:
            return
        compiled = statement.compiled(self, conn.dialect)
        driver = await _driver(conn)
        await driver.execute(compiled.sql, *_arrays(compiled, rows))

    def insert_if_new(
        self, table: Table, values: Mapping[str, Any], key: str | Sequence[str]
    ) -> Executable:
        keys = [key] if isinstance(key, str) else list(key)
        return postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)

    async def lock_audit_chain(self, conn: AsyncConnection) -> None:
        # Held until commit: appenders in every process queue here, so seq and prev_hash are
        # read and written by one of them at a time.
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})

    async def add_messages(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
    ) -> list[int]:
        # One statement: the messages, and their first versions copied from the rows just
        # inserted. PostgreSQL indexes the text column itself (to_tsvector, in the schema).
        compiled = NEW_MESSAGE.compiled(self, conn.dialect)
        new = f"{compiled.sql} RETURNING seq, label_id, text, author_id, created_at"
        sql = (
            f"WITH new AS ({new}),"  # noqa: S608 - schema names; every value is a parameter
            " first_version AS (INSERT INTO message_versions"
            " (message_seq, version, label_id, text, editor_id, at)"
            " SELECT seq, 1, label_id, text, author_id, created_at FROM new)"
            " SELECT seq FROM new"
        )
        # The serial assigns seqs in the insert's order (`ORDER BY given_order`) and RETURNING
        # gives them in any order: sorted, they pair up with the rows again.
        found = await self.fetch_all(conn, sql, _arrays(compiled, rows))
        return sorted(int(row[0]) for row in found)

    async def index_message(self, conn: AsyncConnection, seq: int, body: str | None) -> None:
        """Nothing to do: PostgreSQL indexes the column itself."""

    def matching(self, query: Select[Any], words: Sequence[str]) -> Select[Any]:
        vector = func.to_tsvector("simple", messages.c.text)
        ascii_words = [w for w in words if w.isascii()]
        if ascii_words:
            query = query.where(
                vector.op("@@")(func.plainto_tsquery("simple", " ".join(ascii_words)))
            )
        for word in (w for w in words if not w.isascii()):
            # 'simple' does not split Japanese: substring match
            query = query.where(messages.c.text.contains(word, autoescape=True))
        return query


def _from_sqlstate(sqlstate: str, error: object, reason: str) -> Exception | None:
    if sqlstate == "55P03" or isinstance(error, asyncpg.InvalidCachedStatementError):
        # A lock not granted in time (lock_timeout, NOWAIT), and a prepared statement gone
        # stale under a schema change by another process (0A000; asyncpg and SQLAlchemy then
        # clear their caches): a retry may succeed. Any other 0A000 is a statement PostgreSQL
        # does not support, a bug.
        return Unavailable(f"database unavailable: {reason}")
    match sqlstate[:2]:
        case "23":  # integrity constraint violation
            return Conflict(f"the change conflicts with stored data: {reason}")
        case "22":  # data exception (a NUL character, say): the input's fault
            return InvalidInput(f"value refused by the database: {reason}")
        case "08" | "25" | "40" | "53" | "57":
            # connection, transaction state (a read-only standby after failover), rollback
            # (deadlock, serialization), resources, operator intervention (shutdown)
            return Unavailable(f"database unavailable: {reason}")
        case _:
            return None


def _arrays(compiled: Compiled, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """The rows as one list per column, in placeholder order (the parameters of `unnest`)."""
    values = [compiled.values(row) for row in rows]
    return [list(column) for column in zip(*values, strict=True)] if values else []


def _array_element(column_type: TypeEngine[Any], dialect: SaDialect) -> str:
    """The type an array parameter is cast to: the column's, without a length. PostgreSQL's
    explicit cast to `varchar(n)` cuts a longer value silently; the insert's own assignment to
    the column then refuses it (22001 → 422), as it does for SQLAlchemy's statements."""
    if isinstance(column_type, String) and column_type.length is not None:
        column_type = type(column_type)()
    return column_type.compile(dialect=dialect)


def _note_idle(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    record.info["kyodo_idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    # A connection lost while in use fails its transaction (503), and SQLAlchemy then renews
    # every pooled connection older than the loss; one lost while idle (a restart) is found
    # here, and DisconnectionError makes the pool connect afresh instead.
    idle_since = record.info.get("kyodo_idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:
        raise exc.DisconnectionError(f"pooled connection lost: {short(error)}") from error
