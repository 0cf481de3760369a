"""SQLite connections whose write transactions run on the event loop's own thread.

aiosqlite runs every call on a thread of its own connection and hands the result back to the
event loop. A chat post's write transaction makes seven such calls, each a wake-up of that
thread, a wait for the GIL and a turn of the event loop: under load those waits, not SQLite's
work (tens of microseconds a statement, no fsync per commit in WAL with synchronous=NORMAL), are
most of a write's time. Once a write transaction holds SQLite's write lock, nothing it does can
wait on another connection, so its statements run inline: one hand-off per transaction (BEGIN
IMMEDIATE, which may wait for another process's writer, still goes to the thread). Reads stay on
the threads, where a long one does not hold up the event loop.

A commit that crosses SQLite's auto-checkpoint threshold copies the WAL into the database and
syncs both files, milliseconds of fsync that would then stop the event loop. So connections do
not checkpoint on commit; `WalCheckpointer` does it on a thread, as SQLite's documentation
suggests for applications that care about commit latency. It holds the process's writer lock
meanwhile: a checkpoint that writers keep appending behind never catches up, and the WAL, which
restarts only after a checkpoint has copied all of it, would grow without bound.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import aiosqlite
import structlog

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger(__name__)

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
    while there are writes, before the next writer (PASSIVE: readers are never waited for)."""

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
