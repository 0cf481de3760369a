"""Statements sent straight to the driver: the same rows and errors as through SQLAlchemy, only
inside a transaction; and a PostgreSQL pool that finds connections lost while idle."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import select, text

from kyodo.errors import Conflict, InvalidInput, Unavailable
from kyodo.services.context import ServiceContext
from kyodo.store.sql.database import SqlDatabase
from kyodo.store.sql.dialects import postgresql
from kyodo.store.sql.dialects.postgresql import PING_AFTER_IDLE
from kyodo.store.sql.driver import DriverInsert
from kyodo.store.sql.tables import audit_log

from tests.support import backends

POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
COLUMNS = tuple(column.name for column in audit_log.columns)


def _row(seq: int, n: int = 0, **changes: object) -> dict[str, object]:
    """An audit row with seq `seq` whose other columns depend only on `n` (and `changes`)."""
    row: dict[str, object] = {name: f"{name} {n} ・ 日本語" for name in COLUMNS}
    row.update(seq=seq, decision="allow", label=None, prev_hash="0" * 64, hash=f"{n:064d}")
    if n % 3 == 1:
        row["label"] = '{"marking": "SECRET//REL TO USA, JPN"}'
    if n % 5 == 2:
        row["details"] = "quote ' and \" and \\ and NULL and $1 and ?"
    row.update(changes)
    return row


def _db(ctx: ServiceContext) -> SqlDatabase:
    assert isinstance(ctx.db, SqlDatabase)
    return ctx.db


async def test_driver_rows_equal_sqlalchemys(ctx: ServiceContext) -> None:
    db = _db(ctx)
    insert = DriverInsert(audit_log, COLUMNS)
    async with db.transaction() as tx:
        await tx.conn.execute(text("SELECT 1"))  # PostgreSQL begins at SQLAlchemy's first
        await db.dialect.insert(tx.conn, insert, [_row(1000 + n, n) for n in range(40)])
        await db.dialect.insert(tx.conn, insert, [])  # nothing to insert is no statement
        await tx.conn.execute(audit_log.insert(), [_row(2000 + n, n) for n in range(40)])
    async with db.transaction(write=False) as tx:
        got = {row.seq: row._asdict() for row in await tx.conn.execute(select(audit_log))}
    assert len(got) == 80
    for n in range(40):
        assert got[1000 + n] == _row(1000 + n, n)
        assert {**got[1000 + n], "seq": 0} == {**got[2000 + n], "seq": 0}


async def test_a_driver_error_answers_as_sqlalchemys_would(ctx: ServiceContext) -> None:
    db = _db(ctx)
    insert = DriverInsert(audit_log, COLUMNS)
    async with db.transaction() as tx:
        await tx.conn.execute(text("SELECT 1"))
        await db.dialect.insert(tx.conn, insert, [_row(7)])
    with pytest.raises(Conflict, match="conflicts with stored data"):
        async with db.transaction() as tx:
            await tx.conn.execute(text("SELECT 1"))
            await db.dialect.insert(tx.conn, insert, [_row(8), _row(7)])
    async with db.transaction(write=False) as tx:
        seqs = [row.seq for row in await tx.conn.execute(select(audit_log.c.seq))]
    assert seqs == [7]  # the failed batch left nothing
    if db.dialect.name == "postgresql":  # SQLite stores all three; PostgreSQL refuses them
        too_long = "x" * (audit_log.c.actor.type.length + 1)  # type: ignore[attr-defined]
        for bad in (
            {"actor": "a\x00b"},  # NUL in text
            {"actor": too_long},  # over the column's length: refused, never cut short
            {"seq": "nine"},  # a value asyncpg cannot encode for the column
        ):
            with pytest.raises(InvalidInput, match="refused by the database"):
                async with db.transaction() as tx:
                    await tx.conn.execute(text("SELECT 1"))
                    await db.dialect.insert(tx.conn, insert, [{**_row(9), **bad}])
        async with db.transaction(write=False) as tx:
            actors = [row.actor for row in await tx.conn.execute(select(audit_log.c.actor))]
        assert actors == [_row(7)["actor"]]


async def test_a_driver_statement_first_in_a_transaction_is_inside_it(ctx: ServiceContext) -> None:
    """PostgreSQL begins the driver's transaction at SQLAlchemy's first statement (SQLite at
    BEGIN IMMEDIATE): a driver statement that comes first must still be rolled back with it."""
    db = _db(ctx)
    insert = DriverInsert(audit_log, COLUMNS)

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with db.transaction() as tx:
            await db.dialect.insert(tx.conn, insert, [_row(31)])  # the first statement
            raise Abandoned
    async with db.transaction() as tx:
        assert await db.dialect.fetch_all(tx.conn, "SELECT 1") is not None  # first, too
        await db.dialect.insert(tx.conn, insert, [_row(32)])
    async with db.transaction(write=False) as tx:
        seqs = [row.seq for row in await tx.conn.execute(select(audit_log.c.seq))]
    assert seqs == [32]


async def _kill_connections(database: str) -> int:
    admin = await asyncpg.connect(
        host=backends.PG_HOST,
        port=backends.PG_PORT,
        user=backends.PG_USER,
        database=backends.PG_ADMIN_DB,
    )
    try:
        killed = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await admin.close()
    return len(killed)


async def _touch(db: SqlDatabase, connections: int) -> None:
    """Use `connections` pooled connections at once, so the pool holds that many."""

    async def one() -> None:
        async with db.transaction(write=False) as tx:
            await tx.conn.execute(text("SELECT pg_sleep(0.05)"))

    await asyncio.gather(*(one() for _ in range(connections)))


@POSTGRESQL_ONLY
async def test_connections_lost_while_idle_are_replaced(ctx: ServiceContext) -> None:
    db = _db(ctx)
    await _touch(db, 4)
    assert await _kill_connections(db.engine.url.database or "") >= 4
    await asyncio.sleep(PING_AFTER_IDLE + 0.1)
    for _ in range(6):  # every pooled connection is pinged, found lost and replaced
        await _touch(db, 4)
    async with db.transaction() as tx:
        await tx.conn.execute(text("SELECT 1"))
        assert await db.dialect.fetch_all(tx.conn, "SELECT 1") == [(1,)]


@POSTGRESQL_ONLY
async def test_a_connection_lost_in_use_fails_once_then_the_pool_renews(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _db(ctx)
    monkeypatch.setattr(postgresql, "PING_AFTER_IDLE", 3600.0)  # however slow this machine is
    await _touch(db, 4)
    await _kill_connections(db.engine.url.database or "")
    # Not pinged (too recently used): the first use finds the loss (503) and SQLAlchemy then
    # renews every connection older than it, unpinged.
    with pytest.raises(Unavailable, match="database unavailable"):
        async with db.transaction(write=False) as tx:
            await tx.conn.execute(text("SELECT 1"))
    await _touch(db, 4)
    async with db.transaction() as tx:
        await tx.conn.execute(text("SELECT 1"))
        assert await db.dialect.fetch_all(tx.conn, "SELECT $1::int", [5]) == [(5,)]


@POSTGRESQL_ONLY
async def test_a_connection_lost_under_a_driver_statement_fails_once_then_the_pool_renews(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _db(ctx)
    monkeypatch.setattr(postgresql, "PING_AFTER_IDLE", 3600.0)
    await _touch(db, 4)
    # SQLAlchemy does not see a driver statement fail: its rollback then does, and renews.
    with pytest.raises(Unavailable, match="database unavailable"):
        async with db.transaction() as tx:
            await tx.conn.execute(text("SELECT 1"))
            await _kill_connections(db.engine.url.database or "")
            await db.dialect.fetch_all(tx.conn, "SELECT 1")
    await _touch(db, 4)
    async with db.transaction() as tx:
        await tx.conn.execute(text("SELECT 1"))
        assert await db.dialect.fetch_all(tx.conn, "SELECT 2") == [(2,)]
