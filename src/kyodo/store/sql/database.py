"""Engine set-up (SQLite pragmas, PostgreSQL pool) and transactions that bind the stores."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from asyncpg.exceptions._base import DataError as ClientDataError
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.util import await_only

from kyodo.errors import Conflict, InvalidInput, KyodoError, Unavailable
from kyodo.store.sql.audit import SqlAuditStore
from kyodo.store.sql.identity import SqlOrgStore, SqlPersonStore
from kyodo.store.sql.labels import LabelRows, TransactionLabels
from kyodo.store.sql.messages import SqlMessageStore
from kyodo.store.sql.nets import SqlNetStore
from kyodo.store.sql.sessions import SqlSessionStore
from kyodo.store.sql.sqlite_connection import SqliteConnection, WalCheckpointer
from kyodo.store.sql.tracks import SqlFeedStore, SqlTrackStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry

    from kyodo.bus.events import Event
    from kyodo.services.ports import Bus


log = structlog.get_logger(__name__)


@dataclass(slots=True)
class SqlUnitOfWork:
    """The stores of one transaction, and what is to happen only once it has committed."""

    conn: AsyncConnection
    orgs: SqlOrgStore
    people: SqlPersonStore
    sessions: SqlSessionStore
    audit: SqlAuditStore
    nets: SqlNetStore
    messages: SqlMessageStore
    feeds: SqlFeedStore
    tracks: SqlTrackStore
    labels: TransactionLabels
    bus: Bus | None = None
    _effects: list[Callable[[], Awaitable[None] | None]] = field(default_factory=list)

    def after_commit(self, effect: Callable[[], Awaitable[None] | None]) -> None:
        """Run `effect` once this transaction has committed, never if it rolls back."""
        self._effects.append(effect)

    def publish(self, event: Event) -> None:
        """Publish `event` on the bus once this transaction has committed."""
        bus = self.bus
        if bus is None:
            raise RuntimeError("this database has no bus to publish on")
        self._effects.append(partial(bus.publish, event))

    async def committed(self) -> None:
        """Run the after-commit effects in the order they were registered. The change is
        committed: a failing effect is logged and the rest still run (a live client that
        missed an event resumes from its last rev)."""
        self.labels.commit()
        effects, self._effects = self._effects, []
        for effect in effects:
            try:
                result = effect()
                if result is not None:
                    await result
            except Exception:
                log.exception("an after-commit effect failed", effect=repr(effect))


def _sqlite_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" hook below issue BEGIN itself (pysqlite's own is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    journal = cursor.fetchone()
    # Inline writes (sqlite_connection.py) need WAL: in rollback-journal mode COMMIT waits for
    # readers, which would be waiting for the event loop.
    if journal is None or str(journal[0]).lower() != "wal":
        raise sqlite3.OperationalError(f"SQLite could not use WAL (journal mode {journal})")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Commits run on the event loop's thread: WalCheckpointer checkpoints instead, on a thread.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A write transaction takes the write lock at BEGIN, so two writers never both read the
    # audit chain's head and then both append after it.
    options = conn.get_execution_options()
    immediate = options.get("kyodo_write", True)
    # Straight to aiosqlite: one hand-off to its thread, where SQLAlchemy's statement path
    # takes three (cursor, execute, close) and its own work on every transaction. BEGIN
    # IMMEDIATE may wait (busy_timeout) for another process's writer: on the thread, not here.
    driver: SqliteConnection = conn.connection.driver_connection
    driver.inline = False
    await_only(driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN"))
    # Holding the write lock, nothing waits on another connection: the rest runs inline
    # (sqlite_connection.py) until the connection goes back to the pool.
    driver.inline = immediate and options.get("kyodo_inline", True)


def _sqlite_checkin(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    driver = record.driver_connection
    if isinstance(driver, SqliteConnection):
        driver.inline = False


# A pooled PostgreSQL connection used this recently is taken to be alive, as HikariCP does
# (aliveBypassWindowMs): SQLAlchemy's pre-ping costs three round trips (BEGIN, a query,
# ROLLBACK) on every checkout, more than a chat post's own statements.
PING_AFTER_IDLE = 0.5  # seconds


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
        raise exc.DisconnectionError(f"pooled connection lost: {_short(error)}") from error


class SqlDatabase:
    """A SQLAlchemy async engine for SQLite or PostgreSQL."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            kwargs.update(pool_size=10, max_overflow=10, pool_timeout=10)
            kwargs["connect_args"] = {"timeout": 5}
        else:
            # Enough pooled connections for a busy server's concurrent reads: an overflow
            # connection is closed when returned, and a new one costs a thread and four PRAGMAs.
            kwargs.update(pool_size=20, max_overflow=20, pool_timeout=10)
        # Every use of a connection ends its transaction (`transaction` below commits or rolls
        # back), so the pool's rollback on return would be one more round trip (a hand-off to
        # the driver's thread on SQLite) per transaction for nothing.
        kwargs["pool_reset_on_return"] = None
        if self.dialect == "sqlite":
            kwargs["async_creator"] = self._sqlite_connection
        self.engine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
            event.listen(self.engine.sync_engine, "checkin", _sqlite_checkin)
        else:
            event.listen(self.engine.sync_engine, "checkin", _note_idle)
            event.listen(self.engine.sync_engine, "checkout", _ping_if_idle)
        self.label_rows = LabelRows()
        self.bus: Bus | None = None  # where `tx.publish` sends events after commit
        # SQLite has one writer at a time; queueing writers here, in the process, instead of in
        # SQLite's busy handler (which sleeps and retries) keeps throughput up under load.
        self.checkpointer = (
            WalCheckpointer(self.engine, asyncio.Lock()) if self.dialect == "sqlite" else None
        )

    async def _sqlite_connection(self) -> SqliteConnection:
        # What aiosqlite.connect does with SQLAlchemy's arguments, with our connection class.
        args, kwargs = self.engine.dialect.create_connect_args(self.engine.url)
        kwargs["check_same_thread"] = False  # used from its thread and, inline, the loop's
        connection = SqliteConnection(partial(sqlite3.connect, *args, **kwargs), 64)
        connection._thread.daemon = True  # as SQLAlchemy does: never keeps the process alive
        _ = await connection  # starts its thread, which opens the database
        return connection

    def use_bus(self, bus: Bus) -> None:
        """Send the events that transactions publish (after commit) to `bus`."""
        self.bus = bus

    @asynccontextmanager
    async def transaction(
        self, *, write: bool = True, bulk: bool = False
    ) -> AsyncIterator[SqlUnitOfWork]:
        """One transaction: committed when the block ends, rolled back if it raises; its
        after-commit effects run once it has committed (and the write lock is released). A
        `bulk` write on SQLite keeps its statements on the connection's thread (it may run
        long)."""
        if write and self.checkpointer is not None:
            writer = self.checkpointer.writer
            await writer.acquire()
            handed_over = False
            try:
                async with self._transaction(write=True, bulk=bulk) as uow:
                    yield uow
                handed_over = self.checkpointer.after_write()
            finally:
                if not handed_over:
                    writer.release()
        else:
            async with self._transaction(write=write, bulk=bulk) as uow:
                yield uow
        await uow.committed()

    @asynccontextmanager
    async def _transaction(self, *, write: bool, bulk: bool) -> AsyncIterator[SqlUnitOfWork]:
        try:
            async with self.engine.connect() as raw:
                conn = await raw.execution_options(kyodo_write=write, kyodo_inline=not bulk)
                labels = self.label_rows.in_transaction()
                async with conn.begin():
                    yield SqlUnitOfWork(
                        conn=conn,
                        orgs=SqlOrgStore(conn, labels),
                        people=SqlPersonStore(conn, labels),
                        sessions=SqlSessionStore(conn),
                        audit=SqlAuditStore(conn),
                        nets=SqlNetStore(conn, labels),
                        messages=SqlMessageStore(conn, labels),
                        feeds=SqlFeedStore(conn, labels),
                        tracks=SqlTrackStore(conn, labels),
                        labels=labels,
                        bus=self.bus,
                    )
        except KyodoError:
            raise
        # Raised by the statements sent straight to the driver (`driver.py`), which SQLAlchemy
        # does not wrap: the same answers as for its own errors below.
        except sqlite3.Error as error:
            raise _from_sqlite(error) from None
        except asyncpg.PostgresError as error:
            raise _from_postgres(error) from None
        except ClientDataError as error:  # a value asyncpg cannot encode (before sending it)
            raise InvalidInput(f"value refused by the database: {_short(error)}") from None
        except asyncpg.InterfaceError as error:
            raise Unavailable(f"database unavailable: {_short(error)}") from None
        except exc.DataError as error:
            raise InvalidInput(f"value refused by the database: {_short(error)}") from None
        except exc.IntegrityError as error:
            raise Conflict(f"the change conflicts with stored data: {error.orig}") from None
        except (exc.OperationalError, exc.InterfaceError, OSError, TimeoutError) as error:
            raise Unavailable(f"database unavailable: {_short(error)}") from None
        except exc.DBAPIError as error:
            if error.connection_invalidated:
                raise Unavailable(f"database unavailable: {_short(error)}") from None
            # SQLSTATE class 22 is "data exception" (e.g. a NUL character PostgreSQL refuses):
            # the input's fault, not the server's.
            if str(getattr(error.orig, "sqlstate", "") or "").startswith("22"):
                raise InvalidInput(f"value refused by the database: {_short(error)}") from None
            raise

    async def ping(self) -> None:
        """Unavailable unless the database answers a trivial query."""
        async with self.transaction(write=False) as tx:
            await tx.conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self.checkpointer is not None:
            await self.checkpointer.close()
        await self.engine.dispose()


def _from_sqlite(error: sqlite3.Error) -> KyodoError:
    reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    if isinstance(error, sqlite3.IntegrityError):
        return Conflict(f"the change conflicts with stored data: {reason}")
    if isinstance(error, sqlite3.DataError):
        return InvalidInput(f"value refused by the database: {reason}")
    return Unavailable(f"database unavailable: {reason}")


def _from_postgres(error: Exception) -> Exception:
    reason = _short(error)
    match str(getattr(error, "sqlstate", "") or "")[:2]:
        case "23":  # integrity constraint violation
            return Conflict(f"the change conflicts with stored data: {reason}")
        case "22":  # data exception (a NUL character, say): the input's fault
            return InvalidInput(f"value refused by the database: {reason}")
        case "08" | "25" | "40" | "53" | "57":
            # connection, transaction state (a read-only standby after failover), rollback
            # (deadlock, serialization), resources, operator intervention (shutdown)
            return Unavailable(f"database unavailable: {reason}")
        case _:
            return error


def _short(error: BaseException) -> str:
    orig = getattr(error, "orig", None) or error
    return str(orig).splitlines()[0][:200] if str(orig) else type(orig).__name__
