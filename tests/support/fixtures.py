"""Pytest fixtures over real back-ends: `database_url` (a copy of a template migrated once per
test process), `ctx` (a ServiceContext on it), `operator`, an in-process HTTP `client` for the
real app, and `shared_server` (one real `kyodo serve` per back-end and test process)."""

from __future__ import annotations

import asyncio
import os
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
from tests.support.live import LiveServer, live_server

ALL_BACKENDS = ("sqlite", "postgresql")
# The back-ends every `database_url` test runs on: both by default (`make test`, CI); the fast
# lane sets KYODO_TEST_BACKENDS=sqlite. A test that names its back-end (indirect
# parametrization) runs on it whatever this says; `-m "not postgres"` leaves those out.
BACKENDS = [
    name
    for name in os.environ.get("KYODO_TEST_BACKENDS", ",".join(ALL_BACKENDS)).split(",")
    if name.strip()
]
assert set(BACKENDS) <= set(ALL_BACKENDS), f"KYODO_TEST_BACKENDS: unknown {BACKENDS}"

# Databases handed out already migrated (copies of a template): `ctx` does not migrate again.
_MIGRATED: set[str] = set()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[backends.PgTemplate | None]:
    """Made once per test process (each xdist worker has its own, under its own name)."""
    if backends.postgres_reason() is not None:
        yield None
        return
    template = asyncio.run(backends.make_template())
    yield template
    asyncio.run(template.drop(template.name))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once per test process; tests get copies of it."""
    return backends.make_sqlite_template(tmp_path_factory.mktemp("template") / "kyodo.db")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty, migrated database for one test, on each back-end."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        url = backends.copy_sqlite_template(template, tmp_path / "kyodo.db")
        _MIGRATED.add(url)
        yield url
        _MIGRATED.discard(url)
        return
    backends.require_postgres()
    pg_template: backends.PgTemplate | None = request.getfixturevalue("pg_template")
    assert pg_template is not None
    name = asyncio.run(pg_template.create_copy())
    url = backends.pg_url(name)
    _MIGRATED.add(url)
    yield url
    _MIGRATED.discard(url)
    asyncio.run(pg_template.drop(name))


@pytest.fixture(scope="session", params=BACKENDS)
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One real `kyodo serve` per back-end and test process, shared by the tests that take it
    (starting one costs seconds). Such a test makes its own people, nets and feeds under
    names of its own (`live.unique`), changes nothing it did not make, and never stops the
    server; a test that must stop it, or see a fresh database, uses `live_server` itself."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        folder = tmp_path_factory.mktemp("shared-server")
        with live_server(backends.copy_sqlite_template(template, folder / "kyodo.db")) as server:
            yield server
        return
    backends.require_postgres()
    pg_template: backends.PgTemplate | None = request.getfixturevalue("pg_template")
    assert pg_template is not None
    name = asyncio.run(pg_template.create_copy())
    try:
        with live_server(backends.pg_url(name)) as server:
            yield server
    finally:
        asyncio.run(pg_template.drop(name))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        login_max_failures_per_account=3,
        login_max_failures_per_address=10,
        # No CoT listener on the fixed default ports where an app's lifespan runs (parallel
        # workers would race for them); the TAK tests choose free ports.
        cot_port=0,
        cot_tls_port=0,
    )


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[ServiceContext]:
    """A migrated ServiceContext on the test's database (with fast password hashing)."""
    from argon2 import PasswordHasher

    context = build_context(settings)
    # Tests hash many passwords; the production parameters are kept in `build_context`.
    context.passwords = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    assert isinstance(context.db, SqlDatabase)
    if settings.database_url not in _MIGRATED:
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
