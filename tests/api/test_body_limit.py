"""One request body limit for every route: refused by Content-Length before anything is read,
and while a chunked body streams in; configurable; the post fast path uses the same one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kyodo.api.app import create_app
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings

from tests.support.factories import add_person, bearer

PROBLEM = "application/problem+json"


async def _asgi(app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]):
    """Drive the app directly, counting how many body chunks it asks for."""
    asked = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        if asked <= len(chunks):
            return {
                "type": "http.request",
                "body": chunks[asked - 1],
                "more_body": asked < len(chunks),
            }
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body, asked


@pytest.fixture
def small(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_body_bytes": 4096})


@pytest.fixture
async def small_client(ctx: ServiceContext, small: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(small, context=ctx)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/login", "/api/v1/nets/x/messages"])
async def test_a_huge_declared_body_is_refused_before_it_is_read(
    ctx: ServiceContext, settings: Settings, path: str
) -> None:
    app = create_app(settings, context=ctx)
    status, headers, body, asked = await _asgi(
        app,
        path,
        [(b"content-type", b"application/json"), (b"content-length", b"31457280")],
        [b"{" * 65536] * 480,  # 30 MB, if anyone read it
    )
    assert status == 413
    assert headers[b"content-type"] == PROBLEM.encode()
    assert b'"too_large"' in body
    assert asked == 0
    if path.startswith("/api/"):
        assert headers[b"cache-control"] == b"no-store"


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/login", "/api/v1/labels/parse"])
async def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(
    ctx: ServiceContext, settings: Settings, path: str
) -> None:
    app = create_app(settings, context=ctx)
    chunks = [b"x" * 65536] * 480  # 30 MB without a Content-Length
    status, headers, _body, asked = await _asgi(
        app, path, [(b"content-type", b"application/x-www-form-urlencoded")], chunks
    )
    assert status == 413
    assert headers[b"content-type"] == PROBLEM.encode()
    assert asked <= settings.max_body_bytes // 65536 + 2


async def test_the_limit_is_a_setting_and_the_fast_path_uses_it(
    ctx: ServiceContext, operator: Actor, small_client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    headers = await bearer(small_client, "alice")
    big = {"username": "alice", "password": "x" * 5000}
    login = await small_client.post("/api/v1/auth/login", json=big)
    assert login.status_code == 413 and login.headers["content-type"] == PROBLEM
    post = await small_client.post(
        "/api/v1/nets/any/messages", json={"text": "y" * 5000}, headers=headers
    )
    assert post.status_code == 413 and post.json()["code"] == "too_large"
    form = await small_client.post("/login", data={"username": "a", "password": "z" * 5000})
    assert form.status_code == 413
    fine = await small_client.post(
        "/api/v1/labels/parse", json={"marking": "SECRET//NOFORN"}, headers=headers
    )
    assert fine.status_code == 200
