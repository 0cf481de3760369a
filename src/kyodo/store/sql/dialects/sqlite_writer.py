"""The SQLite write path: one writer per process, its transactions on the event loop's thread."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from functools import partial
from typing import TYPE_CHECKING, Any

import aiosqlite
import structlog
from sqlalchemy import event
from sqlalchemy.util import await_only

if TYPE_CHECKING:
    from types import TracebackType

    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.pool import ConnectionPoolEntry

log = structlog.get_logger(__name__)

_WRITE, _INLINE = "kyodo_write", "kyodo_inline"  # the execution options of `options`

CHECKPOINT_EVERY = 1.0  # seconds; a second of writes is a WAL of a few thousand pages at most


class SqliteConnection(aiosqlite.Connection):
    """aiosqlite's connection, whose calls run inline while `inline` is set."""

    inline = False

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.inline:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


class WalCheckpointer:
    """Checkpoints the WAL on a pooled connection's thread, at most once every `every` seconds
    while there are writes, before the next writer (PASSIVE: readers are never waited for), as
    SQLite's documentation suggests for applications that care about commit latency. It holds
    the writer lock meanwhile: a checkpoint that writers keep appending behind never catches
    up, and the WAL, which restarts only after a checkpoint has copied all of it, would grow
    without bound."""

    def __init__(
        self, engine: AsyncEngine, writer: asyncio.Lock, every: float = CHECKPOINT_EVERY
    ) -> None:
        self._engine = engine
        self.writer = writer  # the process's SQLite writer lock, which checkpoints take too
        self.every = every
        self._last = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.last: tuple[int, int, int] | None = None  # busy, WAL pages, pages copied

    def after_write(self) -> bool:
        """Called by a writer holding the writer lock, after its commit. If a checkpoint is
        due, it takes the lock over, to release it when done, and this returns True: the writer
        goes on (to publish what it wrote) and the writers queued behind it wait."""
        if self._closed or time.monotonic() - self._last < self.every:
            return False
        task = asyncio.get_running_loop().create_task(self._checkpoint())
        # Released when the task ends however it ends, even cancelled before it started.
        task.add_done_callback(lambda _: self.writer.release())
        self._task = task
        return True

    async def _checkpoint(self) -> None:
        try:
            async with self._engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver: SqliteConnection = raw.driver_connection  # type: ignore[assignment]
                rows = await driver.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
                busy, pages, copied = next(iter(rows))
                self.last = (int(busy), int(pages), int(copied))
        except Exception as error:  # the next one tries again; the WAL just grows meanwhile
            log.warning("wal checkpoint failed", error=str(error)[:200])
        finally:
            self._last = time.monotonic()
            self._task = None

    async def close(self) -> None:
        """Start no more checkpoints and wait for one under way (closing the last connection
        checkpoints the rest)."""
        self._closed = True
        if self._task is not None:
            await asyncio.wait([self._task])  # its own failure or cancellation is not ours


class SqliteWriter:
    """Owns the one way this process writes to a SQLite database, and what makes it fast (ADR
    0006). Everything below depends on everything else; nothing outside this class touches it.

    aiosqlite runs every call on a thread of its connection and hands the result back to the
    event loop. A chat post's write transaction makes seven such calls, each a wake-up of that
    thread, a wait for the GIL and a turn of the event loop: under load those waits, not
    SQLite's work (tens of microseconds a statement, no fsync per commit in WAL with
    synchronous=NORMAL), are most of a write's time. Once a write transaction holds SQLite's
    write lock, nothing it does can wait on another connection, so its statements run inline.

    - `lock`, the process's writer lock: `async with writer:` holds it around a write
      transaction and the return of its connection to the pool. Writers queue here, in the
      process, instead of in SQLite's busy handler, which sleeps and retries.
    - The engine's "begin" hook sends BEGIN IMMEDIATE (BEGIN for a read) straight to
      aiosqlite, on the connection's thread: it may wait (busy_timeout) for another process's
      writer, and must not stop the event loop meanwhile. Holding SQLite's write lock, it then
      sets the connection's `inline` flag (not for a `bulk` write, which may run long); the
      "checkin" hook clears it when the connection goes back to the pool.
    - `SqliteConnection`, aiosqlite's connection subclassed at its private `_execute`, runs a
      call on the calling thread while `inline` is set: one hand-off per write transaction.
    - The "connect" hook requires WAL (in rollback-journal mode COMMIT waits for readers, who
      would be waiting for the event loop) and turns auto-checkpoints off: a commit that
      checkpoints syncs both files, milliseconds that would stop the event loop.
      `checkpointer` checkpoints on a thread instead, holding `lock` meanwhile.
    """

    checkpointer: WalCheckpointer  # made by `install`, with the engine it checkpoints

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._engine: AsyncEngine | None = None

    def install(self, engine: AsyncEngine) -> None:
        """Hook into the engine's connections (call once, before it connects)."""
        self._engine = engine
        self.checkpointer = WalCheckpointer(engine, self.lock)
        event.listen(engine.sync_engine, "connect", _configure)
        event.listen(engine.sync_engine, "begin", _begin)
        event.listen(engine.sync_engine, "checkin", _checkin)

    async def connect(self) -> SqliteConnection:
        """A new connection of the engine's (its `async_creator`)."""
        if self._engine is None:
            raise RuntimeError("the writer is not installed on an engine")
        # What aiosqlite.connect does with SQLAlchemy's arguments, with our connection class.
        args, kwargs = self._engine.dialect.create_connect_args(self._engine.url)
        kwargs["check_same_thread"] = False  # used from its thread and, inline, the loop's
        connection = SqliteConnection(partial(sqlite3.connect, *args, **kwargs), 64)
        connection._thread.daemon = True  # as SQLAlchemy does: never keeps the process alive
        _ = await connection  # starts its thread, which opens the database
        return connection

    @staticmethod
    def options(*, write: bool, bulk: bool) -> dict[str, Any]:
        """What the "begin" hook reads from a transaction's connection: whether to BEGIN
        IMMEDIATE, and whether to run inline once it has (a connection without them does both,
        as a migration's does)."""
        return {_WRITE: write, _INLINE: not bulk}

    async def __aenter__(self) -> None:
        await self.lock.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # After a commit a due checkpoint takes the lock over, to release it when done.
        handed_over = False
        try:
            handed_over = exc_type is None and self.checkpointer.after_write()
        finally:
            if not handed_over:
                self.lock.release()

    async def close(self) -> None:
        """Start no more checkpoints and wait for one under way."""
        await self.checkpointer.close()


def _configure(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # Let the "begin" hook issue BEGIN itself (pysqlite's own is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    journal = cursor.fetchone()
    if journal is None or str(journal[0]).lower() != "wal":
        raise sqlite3.OperationalError(f"SQLite could not use WAL (journal mode {journal})")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # WalCheckpointer does it, on a thread
    cursor.close()


def _begin(conn: Any) -> None:
    # A write transaction takes the write lock at BEGIN, so two writers never both read the
    # audit chain's head and then both append after it.
    options = conn.get_execution_options()
    immediate = options.get(_WRITE, True)
    # Straight to aiosqlite: one hand-off to its thread, where SQLAlchemy's statement path
    # takes three (cursor, execute, close) and its own work on every transaction.
    driver: SqliteConnection = conn.connection.driver_connection
    driver.inline = False
    await_only(driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN"))
    driver.inline = immediate and options.get(_INLINE, True)


def _checkin(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    driver = record.driver_connection
    if isinstance(driver, SqliteConnection):
        driver.inline = False
