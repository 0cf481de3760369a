"""Logins, sessions, tokens, CSRF and throttling over HTTP, on both back-ends."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from kyodo.api.app import create_app
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings

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


@contextlib.asynccontextmanager
async def _from(
    ctx: ServiceContext, settings: Settings, address: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client at another address, on the same app state (the throttle is the context's)."""
    app = create_app(settings, context=ctx)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _try(http: httpx.AsyncClient, username: str, password: str) -> int:
    response = await http.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    http.cookies.clear()
    return response.status_code


async def test_many_accounts_guessed_from_a_shared_address_do_not_lock_out_its_users(
    ctx: ServiceContext, operator: Actor, settings: Settings
) -> None:
    """Behind one NAT or proxy everyone has the same address: a guesser there is slowed, but
    a person who logs in from there with the right password still gets in."""
    for name in ("alice", "carol"):
        await add_person(ctx, operator, name)
    async with _from(ctx, settings, "10.0.0.1") as shared:
        assert await _try(shared, "alice", PASSWORD) == 200  # alice works from here
        for n in range(20):  # the test settings allow 10 per address
            await _try(shared, f"guess{n}", "wrong password")
        assert await _try(shared, "guess99", "wrong password") == 429
        assert await _try(shared, "carol", "wrong password") == 429  # unchecked
        assert await _try(shared, "alice", PASSWORD) == 200
    async with _from(ctx, settings, "10.0.0.2") as elsewhere:
        assert await _try(elsewhere, "carol", PASSWORD) == 200


async def test_one_account_guessed_from_many_addresses_still_lets_its_owner_in(
    ctx: ServiceContext, operator: Actor, settings: Settings
) -> None:
    await add_person(ctx, operator, "alice")
    async with _from(ctx, settings, "10.0.0.5") as home:
        assert await _try(home, "alice", PASSWORD) == 200
        for n in range(10):  # 3 failures per account in the test settings, then 429
            async with _from(ctx, settings, f"192.0.2.{n}") as bot:
                expected = 401 if n < 3 else 429
                assert await _try(bot, "alice", "wrong password") == expected
        # The account is slowed for every address it has not logged in from lately...
        async with _from(ctx, settings, "192.0.2.99") as bot:
            assert await _try(bot, "alice", PASSWORD) == 429
        # ...but its owner, from where they log in, is not refused for others' failures.
        assert await _try(home, "alice", PASSWORD) == 200
        # Their own failures from there do count.
        for _ in range(3):
            assert await _try(home, "alice", "typo") == 401
        assert await _try(home, "alice", PASSWORD) == 429


async def test_throttled_attempts_are_audited_once_per_window_not_once_per_attempt(
    ctx: ServiceContext, operator: Actor, settings: Settings
) -> None:
    await add_person(ctx, operator, "alice")
    async with _from(ctx, settings, "198.51.100.7") as bot:
        for _ in range(3):
            await _try(bot, "alice", "wrong password")
        for _ in range(50):
            assert await _try(bot, "alice", "wrong password") == 429
    async with ctx.db.transaction(write=False) as tx:
        records = [r async for r in tx.audit.walk()]
    throttled = [r for r in records if r.entry.action == "auth.login_throttled"]
    assert len(throttled) == 1
    assert throttled[0].entry.decision == "deny"
    assert throttled[0].entry.details["address"] == "198.51.100.7"
    assert "wrong password" not in str([r.as_dict() for r in records])


async def test_a_password_typed_as_the_username_never_reaches_the_audit_log(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    typed = "Correct-Horse-Battery-9"  # alice's password, typed into the username field
    for _ in range(12):  # past the throttle, whose refusals are recorded too
        await client.post("/api/v1/auth/login", json={"username": typed, "password": "x"})
    await client.post("/api/v1/auth/login", json={"username": "alice", "password": "bad"})
    async with ctx.db.transaction(write=False) as tx:
        records = [r async for r in tx.audit.walk()]
    failed = [r.entry for r in records if r.entry.action.startswith("auth.login_")]
    assert {e.action for e in failed if e.actor == "(unknown user)"} == {
        "auth.login_failed",
        "auth.login_throttled",
    }
    assert any(e.actor == "alice" for e in failed)  # a known account is still named
    assert all(typed not in str(r.as_dict()) for r in records)
