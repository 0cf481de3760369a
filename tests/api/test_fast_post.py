"""The fast route for posting a message answers exactly as the FastAPI route behind it would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kyodo.api.app import create_app
from kyodo.api.fast_post import PostMessage
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings

from tests.support.factories import add_person, bearer, login

NET = {"name": "Fast", "ceiling": "SECRET//REL TO USA, JPN"}


@pytest.fixture
async def route_only(ctx: ServiceContext, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The same app without the fast route: every post goes through FastAPI's route."""
    app = create_app(settings, context=ctx)
    app.router.routes = [
        r for r in app.router.routes if not isinstance(getattr(r, "endpoint", None), PostMessage)
    ]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _shape(response: httpx.Response) -> tuple[int, str, Any]:
    """Status, media type and the parts of the body that do not change from post to post."""
    body = response.json()
    if response.status_code == 201:
        message = body["message"]
        return 201, response.headers["content-type"], sorted(message), message["label"]["marking"]
    body.pop("errors", None)  # pydantic words JSON errors differently from FastAPI's parser
    if body.get("code") == "invalid_request":
        body.pop("detail")
    return response.status_code, response.headers["content-type"], body


async def test_every_answer_matches_the_route(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient, route_only: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "fast.us", clearance="SECRET")
    await add_person(ctx, operator, "fast.out", clearance="SECRET")
    h = await bearer(client, "fast.us")
    outsider = await bearer(client, "fast.out")
    net_id = (await client.post("/api/v1/nets", headers=h, json=NET)).json()["id"]
    path = f"/api/v1/nets/{net_id}/messages"
    json_type = {"content-type": "application/json"}
    cases: list[tuple[str, dict[str, str], bytes]] = [
        ("plain", h, b'{"text": "Convoy leaves at dawn"}'),
        ("labelled", h, b'{"text": "Convoy", "label": "UNCLASSIFIED"}'),
        ("above ceiling", h, b'{"text": "x", "label": "TOP SECRET"}'),
        ("bad marking", h, b'{"text": "x", "label": "SECERT"}'),
        ("guard", h, b'{"text": "Tomahawk launch at 151200ZMAR25", "label": "UNCLASSIFIED"}'),
        ("unknown field", h, b'{"text": "x", "colour": "red"}'),
        ("no text", h, b'{"label": "SECRET"}'),
        ("empty text", h, b'{"text": ""}'),
        ("not JSON", h, b'{"text": '),
        ("not an object", h, b"[1, 2]"),
        ("empty body", h, b""),
        ("reply to nothing", h, b'{"text": "x", "reply_to": 99999}'),
        ("not a member", outsider, b'{"text": "x"}'),
        ("no credentials", {}, b'{"text": "x"}'),
        ("bad scheme", {"authorization": "Basic abc"}, b'{"text": "x"}'),
        ("unknown token", {"authorization": "Bearer nope"}, b'{"text": "x"}'),
    ]
    for name, headers, body in cases:
        fast = await client.post(path, headers={**json_type, **headers}, content=body)
        slow = await route_only.post(path, headers={**json_type, **headers}, content=body)
        assert _shape(fast) == _shape(slow), name
        assert fast.headers.get("www-authenticate") == slow.headers.get("www-authenticate")
        if name == "not JSON":  # the two parsers word it differently: both paths really ran
            assert fast.json()["errors"] != slow.json()["errors"]
    missing = await client.post("/api/v1/nets/no-such-net/messages", headers=h, json={"text": "x"})
    assert missing.status_code == 404
    assert _shape(missing) == _shape(
        await route_only.post("/api/v1/nets/no-such-net/messages", headers=h, json={"text": "x"})
    )


async def test_a_cookie_session_needs_its_csrf_token(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "fast.cookie", clearance="SECRET")
    csrf = await login(client, "fast.cookie")
    net_id = (await client.post("/api/v1/nets", headers=csrf, json=NET)).json()["id"]
    path = f"/api/v1/nets/{net_id}/messages"
    refused = await client.post(path, json={"text": "no token"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    wrong = await client.post(path, headers={"X-CSRF-Token": "guess"}, json={"text": "x"})
    assert wrong.status_code == 403
    posted = await client.post(path, headers=csrf, json={"text": "with token"})
    assert posted.status_code == 201, posted.text
    assert posted.json()["message"]["author"] == "fast.cookie"


async def test_content_type_and_size_are_checked(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient, settings: Settings
) -> None:
    await add_person(ctx, operator, "fast.size", clearance="SECRET")
    h = await bearer(client, "fast.size")
    net_id = (await client.post("/api/v1/nets", headers=h, json=NET)).json()["id"]
    path = f"/api/v1/nets/{net_id}/messages"
    as_text = await client.post(
        path, headers={**h, "content-type": "text/plain"}, content=b'{"text": "x"}'
    )
    assert as_text.status_code == 422
    assert "Content-Type: application/json" in as_text.json()["detail"]
    huge = await client.post(
        path,
        headers={**h, "content-type": "application/json"},
        content=b" " * (settings.max_body_bytes + 1),
    )
    assert huge.status_code == 413 and huge.json()["code"] == "too_large"
    charset = await client.post(
        path,
        headers={**h, "content-type": "application/json; charset=utf-8"},
        content='{"text": "日本語のメッセージ"}'.encode(),
    )
    assert charset.status_code == 201, charset.text
    listed = await client.get(path, headers=h)
    assert [m["text"] for m in listed.json()["items"]] == ["日本語のメッセージ"]


async def test_a_client_that_leaves_before_its_body_arrives_posts_nothing(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient, settings: Settings
) -> None:
    await add_person(ctx, operator, "fast.gone", clearance="SECRET")
    h = await bearer(client, "fast.gone")
    net_id = (await client.post("/api/v1/nets", headers=h, json=NET)).json()["id"]
    app = create_app(settings, context=ctx)
    path = f"/api/v1/nets/{net_id}/messages"
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
        "headers": [
            (b"authorization", h["Authorization"].encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    parts = iter(
        [
            {"type": "http.request", "body": b'{"text": "cut', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[object] = []

    async def receive() -> dict[str, object]:
        return next(parts)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent == []
    listed = await client.get(path, headers=h)
    assert listed.json()["items"] == []
