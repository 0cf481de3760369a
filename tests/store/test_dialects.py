"""Each back-end's dialect: chosen from the URL, and its errors answered as Kyodo errors (a lock
not granted in time and a stale prepared statement are 503, not 500)."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from sqlalchemy import exc, text

from kyodo.errors import Conflict, InvalidInput, Unavailable
from kyodo.services.context import ServiceContext
from kyodo.store.sql.database import SqlDatabase
from kyodo.store.sql.dialects import dialect_for
from kyodo.store.sql.dialects.postgresql import PostgresqlDialect
from kyodo.store.sql.dialects.sqlite import SqliteDialect

from tests.support import backends

POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _db(ctx: ServiceContext) -> SqlDatabase:
    assert isinstance(ctx.db, SqlDatabase)
    return ctx.db


def test_the_dialect_follows_the_url() -> None:
    assert isinstance(dialect_for("sqlite+aiosqlite:///kyodo.db"), SqliteDialect)
    assert isinstance(dialect_for("postgresql+asyncpg://db/kyodo"), PostgresqlDialect)


def test_sqlite_driver_errors() -> None:
    dialect = SqliteDialect()
    assert isinstance(dialect.domain_error(sqlite3.IntegrityError("UNIQUE failed")), Conflict)
    assert isinstance(dialect.domain_error(sqlite3.DataError("too big")), InvalidInput)
    assert isinstance(dialect.domain_error(sqlite3.OperationalError("locked")), Unavailable)
    assert dialect.domain_error(ValueError("a bug")) is None


def test_postgresql_driver_errors() -> None:
    dialect = PostgresqlDialect()
    stale = asyncpg.InvalidCachedStatementError("cached plan must not change result type")
    assert isinstance(dialect.domain_error(stale), Unavailable)
    assert isinstance(dialect.domain_error(asyncpg.LockNotAvailableError("no")), Unavailable)
    assert isinstance(dialect.domain_error(asyncpg.UniqueViolationError("dup")), Conflict)
    # Any other unsupported feature is a statement of ours PostgreSQL refuses: a bug (500).
    assert dialect.domain_error(asyncpg.FeatureNotSupportedError("FOR UPDATE")) is None


class _Adapted(Exception):
    """What SQLAlchemy's asyncpg adapter raises: asyncpg's SQLSTATE, its error as the cause."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def test_postgresql_errors_answer_the_same_through_sqlalchemy() -> None:
    dialect = PostgresqlDialect()
    for sqlstate in ("40P01", "55P03", "57P01", "25006"):
        wrapped = exc.DBAPIError("SELECT 1", None, _Adapted(sqlstate))
        assert isinstance(dialect.domain_error(wrapped), Unavailable), sqlstate
    wrapped = exc.DBAPIError("SELECT 1", None, _Adapted("22021"))
    assert isinstance(dialect.domain_error(wrapped), InvalidInput)
    stale = _Adapted("0A000")
    stale.__cause__ = asyncpg.InvalidCachedStatementError("cached plan must not change")
    assert isinstance(dialect.domain_error(exc.DBAPIError("SELECT 1", None, stale)), Unavailable)
    assert dialect.domain_error(exc.DBAPIError("SELECT 1", None, _Adapted("0A000"))) is None


async def _other_client(db: SqlDatabase) -> asyncpg.Connection:
    """A connection of another process to the same database."""
    return await asyncpg.connect(
        host=backends.PG_HOST,
        port=backends.PG_PORT,
        user=backends.PG_USER,
        database=db.engine.url.database,
    )


@POSTGRESQL_ONLY
async def test_a_lock_not_granted_in_time_is_unavailable(ctx: ServiceContext) -> None:
    db = _db(ctx)
    other = await _other_client(db)
    await other.execute("BEGIN")
    await other.execute("SELECT pg_advisory_xact_lock(7)")
    try:
        # Through SQLAlchemy (wrapped) and straight to the driver (not): both 503 (55P03).
        with pytest.raises(Unavailable, match="database unavailable"):
            async with db.transaction() as tx:
                await tx.conn.execute(text("SET LOCAL lock_timeout = '50ms'"))
                await tx.conn.execute(text("SELECT pg_advisory_xact_lock(7)"))
        with pytest.raises(Unavailable, match="database unavailable"):
            async with db.transaction() as tx:
                await tx.conn.execute(text("SET LOCAL lock_timeout = '50ms'"))
                await db.dialect.fetch_all(tx.conn, "SELECT pg_advisory_xact_lock(7)")
    finally:
        await other.close()
    async with db.transaction() as tx:  # released with the other transaction
        await tx.conn.execute(text("SELECT pg_advisory_xact_lock(7)"))


@POSTGRESQL_ONLY
async def test_a_statement_gone_stale_under_a_schema_change_is_unavailable(
    ctx: ServiceContext,
) -> None:
    db = _db(ctx)
    async with db.transaction() as tx:
        await tx.conn.execute(text("CREATE TABLE kyodo_stale (a INTEGER)"))
        await tx.conn.execute(text("INSERT INTO kyodo_stale (a) VALUES (1)"))
    for _ in range(25):  # asyncpg prepares and caches it on every pooled connection
        async with db.transaction() as tx:
            await tx.conn.execute(text("SELECT 1"))
            assert await db.dialect.fetch_all(tx.conn, "SELECT * FROM kyodo_stale") == [(1,)]
    other = await _other_client(db)
    try:  # as another process's migration would, unseen by this one's caches
        await other.execute("ALTER TABLE kyodo_stale ADD COLUMN b INTEGER")
    finally:
        await other.close()
    with pytest.raises(Unavailable, match="cached statement plan is invalid"):
        async with db.transaction() as tx:
            await tx.conn.execute(text("SELECT 1"))
            await db.dialect.fetch_all(tx.conn, "SELECT * FROM kyodo_stale")
