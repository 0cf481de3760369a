"""SQLite write transactions run on the event loop's thread once they hold the write lock; reads,
BEGIN IMMEDIATE and WAL checkpoints run on the connections' threads."""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kyodo.errors import Conflict, Unavailable
from kyodo.services.context import ServiceContext
from kyodo.store.sql.database import SqlDatabase
from kyodo.store.sql.dialects.sqlite import SqliteDialect
from kyodo.store.sql.dialects.sqlite_writer import WalCheckpointer

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _db(ctx: ServiceContext) -> SqlDatabase:
    assert isinstance(ctx.db, SqlDatabase)
    return ctx.db


def _checkpointer(db: SqlDatabase) -> WalCheckpointer | None:
    """The database's own checkpointer (SQLite's writer has one)."""
    return db.dialect.writer.checkpointer if isinstance(db.dialect, SqliteDialect) else None


async def _thread_of_statements(
    db: SqlDatabase, *, write: bool, bulk: bool = False, seen: list[int] | None = None
) -> int:
    """The thread that ran a statement in a transaction of this kind (`seen` gets the id of
    the driver connection used)."""
    async with db.transaction(write=write, bulk=bulk) as tx:
        raw = await tx.conn.get_raw_connection()
        if seen is not None:
            seen.append(id(raw.driver_connection))
        await raw.driver_connection.create_function("kyodo_thread", 0, threading.get_ident)
        return int((await tx.conn.execute(text("SELECT kyodo_thread()"))).scalar_one())


@SQLITE_ONLY
async def test_writes_run_inline_and_reads_on_a_thread(ctx: ServiceContext) -> None:
    db = _db(ctx)
    here = threading.get_ident()
    seen: list[int] = []
    assert await _thread_of_statements(db, write=True, seen=seen) == here
    assert await _thread_of_statements(db, write=False, seen=seen) != here
    assert await _thread_of_statements(db, write=True, seen=seen) == here
    assert await _thread_of_statements(db, write=False, seen=seen) != here
    # The same pooled connection, back on its thread once returned after a write.
    assert len(set(seen)) == 1


@SQLITE_ONLY
async def test_a_bulk_write_stays_on_a_thread(ctx: ServiceContext) -> None:
    db = _db(ctx)
    here = threading.get_ident()
    assert await _thread_of_statements(db, write=True, bulk=True) != here
    assert await _thread_of_statements(db, write=True) == here


@SQLITE_ONLY
async def test_an_inline_transaction_that_fails_rolls_back(ctx: ServiceContext) -> None:
    db = _db(ctx)
    async with db.transaction() as tx:
        await tx.conn.execute(text("CREATE TABLE kyodo_probe (k INTEGER PRIMARY KEY)"))
    with pytest.raises(Conflict):
        async with db.transaction() as tx:
            await tx.conn.execute(text("INSERT INTO kyodo_probe (k) VALUES (1)"))
            await tx.conn.execute(text("INSERT INTO kyodo_probe (k) VALUES (1)"))
    async with db.transaction(write=False) as tx:
        assert (await tx.conn.execute(text("SELECT count(*) FROM kyodo_probe"))).scalar() == 0
    async with db.transaction() as tx:  # the writer is free again
        await tx.conn.execute(text("INSERT INTO kyodo_probe (k) VALUES (1)"))
    # and the connection the failed write used is back on its thread
    assert await _thread_of_statements(db, write=False) != threading.get_ident()


@SQLITE_ONLY
async def test_waiting_for_another_processs_writer_does_not_stop_the_event_loop(
    ctx: ServiceContext,
) -> None:
    db = _db(ctx)
    other = sqlite3.connect(str(db.engine.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as a `kyodo` command writing to the same file would
    try:

        async def write() -> None:
            async with db.transaction() as tx:
                await tx.conn.execute(text("CREATE TABLE kyodo_waited (k INTEGER)"))

        writing = asyncio.ensure_future(write())
        ticks = 0
        started = time.monotonic()
        while time.monotonic() - started < 0.5:
            await asyncio.sleep(0.01)
            ticks += 1
        assert not writing.done()
        assert ticks >= 20  # the loop kept running while BEGIN IMMEDIATE waited
    finally:
        other.execute("COMMIT")
        other.close()
    await asyncio.wait_for(writing, 10)
    async with db.transaction(write=False) as tx:
        assert (await tx.conn.execute(text("SELECT count(*) FROM kyodo_waited"))).scalar() == 0


@SQLITE_ONLY
async def test_the_checkpointer_copies_the_wal_into_the_database(ctx: ServiceContext) -> None:
    db = _db(ctx)
    own = _checkpointer(db)
    assert own is not None
    own.every = math.inf  # only the one under test checkpoints
    async with db.transaction(write=False) as tx:
        raw = await tx.conn.get_raw_connection()
        rows = await raw.driver_connection.execute_fetchall("PRAGMA wal_autocheckpoint")
        assert next(iter(rows))[0] == 0  # commits never checkpoint: inline, it would stop the loop
    writer = asyncio.Lock()
    checkpointer = WalCheckpointer(db.engine, writer, every=0)
    async with db.transaction() as tx:
        await tx.conn.execute(text("CREATE TABLE kyodo_ckpt (v TEXT)"))
        await tx.conn.execute(
            text("INSERT INTO kyodo_ckpt (v) VALUES (:v)"), [{"v": "x" * 500}] * 200
        )
    await writer.acquire()
    assert checkpointer.after_write()  # due: it holds the writer lock until done
    assert writer.locked()
    await checkpointer.close()
    assert not writer.locked()
    assert checkpointer.last is not None
    busy, wal_pages, copied = checkpointer.last
    assert busy == 0
    assert wal_pages > 0
    assert copied == wal_pages
    # The copied data is in the database file itself: a fresh connection that ignores the WAL
    # (immutable) sees the table.
    path = Path(str(db.engine.url.database))
    plain = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        assert plain.execute("SELECT count(*) FROM kyodo_ckpt").fetchone() == (200,)
    finally:
        plain.close()


@SQLITE_ONLY
async def test_the_checkpointer_waits_its_interval(ctx: ServiceContext) -> None:
    db = _db(ctx)
    writer = asyncio.Lock()
    checkpointer = WalCheckpointer(db.engine, writer, every=3600)
    await writer.acquire()
    assert not checkpointer.after_write()  # not due yet: the writer keeps its lock
    writer.release()
    await checkpointer.close()
    assert checkpointer.last is None  # nothing ran


@SQLITE_ONLY
async def test_the_wal_stays_small_under_continuous_writes(ctx: ServiceContext) -> None:
    db = _db(ctx)
    checkpointer = _checkpointer(db)
    assert checkpointer is not None
    checkpointer.every = 0  # a checkpoint after every write, while the next ones queue
    async with db.transaction() as tx:
        await tx.conn.execute(text("CREATE TABLE kyodo_flow (v TEXT)"))

    async def write(n: int) -> None:
        async with db.transaction() as tx:
            await tx.conn.execute(
                text("INSERT INTO kyodo_flow (v) VALUES (:v)"), [{"v": f"{n} " + "x" * 1000}] * 5
            )

    # Writers never pause, so only the checkpoints' holding the writer lock lets them finish.
    await asyncio.gather(*(write(n) for n in range(400)))  # 2 MB of rows
    await checkpointer.close()
    wal = await asyncio.to_thread(lambda: Path(f"{db.engine.url.database}-wal").stat().st_size)
    assert wal < 500_000  # restarted again and again, not grown with every write
    async with db.transaction(write=False) as tx:
        assert (await tx.conn.execute(text("SELECT count(*) FROM kyodo_flow"))).scalar() == 2000


async def test_a_failed_checkpoint_lets_the_next_writer_in(tmp_path: Path) -> None:
    path = tmp_path / "not-a-database.db"
    path.write_bytes(b"this is not an SQLite file" * 200)
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    try:
        writer = asyncio.Lock()
        checkpointer = WalCheckpointer(engine, writer, every=0)
        await writer.acquire()
        assert checkpointer.after_write()
        await asyncio.wait_for(writer.acquire(), 10)  # released although the checkpoint failed
        assert checkpointer.last is None
        writer.release()
        await checkpointer.close()
        await writer.acquire()
        assert not checkpointer.after_write()  # closed: no more checkpoints
    finally:
        await engine.dispose()


async def test_a_database_that_cannot_use_wal_is_refused(tmp_path: Path) -> None:
    # Writes run inline only in WAL mode; the "unix-none" VFS has no shared memory for a WAL.
    db = SqlDatabase(f"sqlite+aiosqlite:///file:{tmp_path}/x.db?vfs=unix-none&uri=true")
    try:
        with pytest.raises(Unavailable, match="could not use WAL"):
            async with db.transaction() as tx:
                await tx.conn.execute(text("CREATE TABLE kyodo_never (k INTEGER)"))
        with pytest.raises(Unavailable, match="could not use WAL"):  # nor later: never inline
            async with db.transaction(write=False) as tx:
                await tx.conn.execute(text("SELECT 1"))
    finally:
        await db.dispose()
