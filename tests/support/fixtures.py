"""Pytest fixtures over real back-ends: `database_url`, `ctx` (a migrated ServiceContext),
`admin`, and an in-process HTTP client for the real app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from kyodo.api.app import build_context, create_app
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings
from kyodo.store.migrate import migrate
from kyodo.store.sql.database import SqlDatabase

from tests.support import backends
from tests.support.factories import make_operator

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[backends.PgTemplate | None]:
    if backends.postgres_reason() is not None:
        yield None
        return
    template = asyncio.run(backends.make_template())
    yield template
    asyncio.run(template.drop(template.name))


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_template: backends.PgTemplate | None
) -> Iterator[str]:
    """A fresh, empty-but-migrated (PostgreSQL) or new (SQLite) database for one test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'kyodo.db'}"
        return
    backends.require_postgres()
    assert pg_template is not None
    name = asyncio.run(pg_template.create_copy())
    yield backends.pg_url(name)
    asyncio.run(pg_template.drop(name))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        login_max_failures_per_account=3,
        login_max_failures_per_address=10,
    )


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[ServiceContext]:
    """A migrated ServiceContext on the test's database (with fast password hashing)."""
    from argon2 import PasswordHasher

    context = build_context(settings)
    # Tests hash many passwords; the production parameters are kept in `build_context`.
    context.passwords = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    assert isinstance(context.db, SqlDatabase)
    await migrate(context.db)
    yield context
    await context.group_commit.flush()  # nothing still being written when the engine closes
    await context.db.dispose()


@pytest.fixture
def operator(ctx: ServiceContext) -> Actor:
    return make_operator(ctx)


@pytest.fixture
async def client(ctx: ServiceContext, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app, in process, over httpx's ASGI transport."""
    app = create_app(settings, context=ctx)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
