"""Logins, sessions, tokens, CSRF and throttling over HTTP, on both back-ends."""

from __future__ import annotations

import httpx

from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import PASSWORD, add_person, bearer, login

PROBLEM = "application/problem+json"


async def test_login_sets_a_strict_http_only_cookie_and_me_works(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice", nation="JPN", clearance="GOKUHI")
    response = await client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 200
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("kyodo_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["clearance"] == "GOKUHI" and me.json()["nation"] == "JPN"
    assert PASSWORD not in response.text


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    wrong = await client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": "nope nope nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"username": "mallory", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == unknown.headers["content-type"] == PROBLEM
    assert wrong.json()["detail"] == unknown.json()["detail"] == "invalid username or password"


async def test_failed_logins_are_rate_limited_per_account(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    for _ in range(3):  # the test settings allow 3 failures per account
        bad = await client.post(
            "/api/v1/auth/login", json={"username": "alice", "password": "wrong password"}
        )
        assert bad.status_code == 401
    limited = await client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
    )
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0


async def test_failed_logins_are_rate_limited_per_address(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    for n in range(10):  # 10 per address: spread over many usernames
        await client.post(
            "/api/v1/auth/login", json={"username": f"guess{n}", "password": "wrong password"}
        )
    limited = await client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
    )
    assert limited.status_code == 429


async def test_login_failures_and_successes_are_audited_without_the_password(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    await client.post("/api/v1/auth/login", json={"username": "alice", "password": "bad guess 1"})
    await login(client, "alice")
    async with ctx.db.transaction(write=False) as tx:
        records = [r async for r in tx.audit.walk()]
    actions = [r.entry.action for r in records]
    assert "auth.login_failed" in actions and "auth.login" in actions
    assert all("bad guess 1" not in str(r.as_dict()) for r in records)


async def test_unsafe_methods_on_a_cookie_session_need_the_csrf_token(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    headers = await login(client, "alice")
    body = {"marking": "SECRET//NOFORN"}
    refused = await client.post("/api/v1/labels/parse", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    wrong = await client.post("/api/v1/labels/parse", json=body, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    ok = await client.post("/api/v1/labels/parse", json=body, headers=headers)
    assert ok.status_code == 200


async def test_api_tokens_authenticate_without_cookies_or_csrf(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "bot")
    headers = await bearer(client, "bot")
    assert (await client.get("/api/v1/me", headers=headers)).json()["username"] == "bot"
    parsed = await client.post("/api/v1/labels/parse", json={"marking": "S//NF"}, headers=headers)
    assert parsed.status_code == 200
    bad = await client.get("/api/v1/me", headers={"Authorization": "Bearer kyd_not_a_token"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Bearer")


async def test_logout_ends_the_session(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    headers = await login(client, "alice")
    cookie = client.cookies.get("kyodo_session")
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    client.cookies.set("kyodo_session", cookie or "")
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_anonymous_requests_get_401_not_403(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/me", "/api/v1/orgs", "/api/v1/people", "/api/v1/audit"):
        response = await client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == PROBLEM


async def test_a_disabled_person_cannot_log_in(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    from kyodo.services import identity

    person = await add_person(ctx, operator, "alice")
    await identity.update_person(ctx, operator, person.id, identity.PersonChanges(active=False))
    response = await client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 401


async def test_a_person_chooses_the_ui_language_once_for_every_device(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "polyglot", nation="JPN", clearance="GOKUHI")
    h = await bearer(client, "polyglot")
    assert (await client.get("/api/v1/me", headers=h)).json()["language"] is None
    chosen = await client.put("/api/v1/me/language", headers=h, json={"language": "en"})
    assert chosen.status_code == 200, chosen.text
    assert (await client.get("/api/v1/me", headers=h)).json()["language"] == "en"
    refused = await client.put("/api/v1/me/language", headers=h, json={"language": "fr"})
    assert refused.status_code == 422
    assert "en, ja" in refused.text
    assert (await client.get("/api/v1/me", headers=h)).json()["language"] == "en"
    # null: follow the browser again
    cleared = await client.put("/api/v1/me/language", headers=h, json={"language": None})
    assert cleared.status_code == 200 and cleared.json()["language"] is None
