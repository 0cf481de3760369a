"""Real databases for tests: a SQLite file and a PostgreSQL database per test, each copied from
a template migrated once per test process (PostgreSQL is skipped where unreachable, except
under CI=true). Under pytest-xdist every worker is its own process, with its own templates."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

PG_HOST = os.environ.get("KYODO_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("KYODO_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("KYODO_TEST_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("KYODO_TEST_PG_DATABASE", "test")


def pg_url(database: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB, timeout=5
    )


@functools.cache
def postgres_reason() -> str | None:
    """None if PostgreSQL answers, else why not (asked once per test process)."""

    async def probe() -> None:
        conn = await _admin()
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL at {PG_HOST}:{PG_PORT} unreachable: {exc}"
    return None


def require_postgres() -> None:
    """Skip the test where PostgreSQL is down; under CI=true fail instead."""
    reason = postgres_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the PostgreSQL half must run)")
    pytest.skip(reason)


@dataclass
class PgTemplate:
    """A migrated template database that per-test databases are copied from."""

    name: str

    async def create_copy(self) -> str:
        name = f"kyodo_t_{uuid.uuid4().hex[:12]}"
        conn = await _admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        finally:
            await conn.close()
        return name

    async def drop(self, name: str) -> None:
        conn = await _admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def make_template() -> PgTemplate:
    """Create and migrate a template database for this test session."""
    from kyodo.store.migrate import migrate
    from kyodo.store.sql.database import SqlDatabase

    name = f"kyodo_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn = await _admin()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    db = SqlDatabase(pg_url(name))
    try:
        await migrate(db)
    finally:
        await db.dispose()
    return PgTemplate(name)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def make_sqlite_template(path: Path) -> Path:
    """A migrated SQLite file at `path`, folded into one file (no -wal or -shm beside it) so
    that copying it makes a database exactly as `migrate` leaves it (a copy takes a
    millisecond, a migration most of a second)."""
    from kyodo.store.migrate import migrate
    from kyodo.store.sql.database import SqlDatabase

    async def build() -> None:
        db = SqlDatabase(sqlite_url(path))
        try:
            await migrate(db)
        finally:
            await db.dispose()

    asyncio.run(build())
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        assert not Path(f"{path}{suffix}").exists() or Path(f"{path}{suffix}").stat().st_size == 0
    return path


def copy_sqlite_template(template: Path, path: Path) -> str:
    """A copy of the migrated template at `path`; its URL."""
    shutil.copyfile(template, path)
    return sqlite_url(path)
