"""A database that is down answers 503 with a reason, and the server recovers when it returns."""

from __future__ import annotations

from pathlib import Path

import httpx

from kyodo.api.app import build_context, create_app
from kyodo.settings import Settings
from kyodo.store.migrate import migrate
from kyodo.store.sql.database import SqlDatabase


async def test_503_while_the_database_is_missing_then_recovery(tmp_path: Path) -> None:
    folder = tmp_path / "not-yet"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{folder / 'kyodo.db'}")
    ctx = build_context(settings)
    app = create_app(settings, context=ctx)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        down = await client.get("/api/v1/health")
        assert down.status_code == 503
        assert down.headers["content-type"] == "application/problem+json"
        assert "database unavailable" in down.json()["detail"]
        login = await client.post("/api/v1/auth/login", json={"username": "a", "password": "b"})
        assert login.status_code == 503
        folder.mkdir()
        assert isinstance(ctx.db, SqlDatabase)
        await migrate(ctx.db)
        up = await client.get("/api/v1/health")
        assert up.status_code == 200 and up.json() == {"status": "ok", "database": "ok"}
    await ctx.db.dispose()


async def test_503_when_postgresql_does_not_answer() -> None:
    settings = Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    ctx = build_context(settings)
    transport = httpx.ASGITransport(app=create_app(settings, context=ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/api/v1/me", headers={"Authorization": "Bearer x"})
        assert response.status_code == 503
    await ctx.db.dispose()
