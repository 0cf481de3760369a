"""API tokens attacked: scopes, expiry, ids, revocation of what they minted, the session's
secret as a bearer token, changing a password with a token or without the current one."""

from __future__ import annotations

from datetime import timedelta

import httpx

from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import PASSWORD, add_person, login

PROBLEM = "application/problem+json"


async def _token(
    client: httpx.AsyncClient, headers: dict[str, str], **body: object
) -> dict[str, object]:
    response = await client.post("/api/v1/auth/tokens", json={"name": "t", **body}, headers=headers)
    assert response.status_code == 201, response.text
    value: dict[str, object] = response.json()
    return value


def _bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _denials(ctx: ServiceContext, action: str) -> int:
    async with ctx.db.transaction(write=False) as tx:
        found = [r async for r in tx.audit.walk()]
    return sum(1 for r in found if r.entry.action == action and r.entry.decision == "deny")


async def test_the_session_cookie_is_not_accepted_as_a_bearer_token(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    await login(client, "alice")
    session = client.cookies.get("kyodo_session")
    client.cookies.clear()
    stolen = await client.get("/api/v1/me", headers=_bearer(session))
    assert stolen.status_code == 401


async def test_a_read_token_reads_but_cannot_post_or_change_anything(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice", roles=("member", "admin"))
    headers = await login(client, "alice")
    read = _bearer((await _token(client, headers))["token"])  # the default: read only
    client.cookies.clear()
    assert (await client.get("/api/v1/me", headers=read)).status_code == 200
    for method, path, body in (
        ("POST", "/api/v1/labels/parse", {"marking": "S//NF"}),
        ("POST", "/api/v1/nets", {"name": "x", "ceiling": "SECRET", "entry": "SECRET"}),
        ("POST", "/api/v1/nets/any/messages", {"text": "hello"}),  # the fast path too
        ("PUT", "/api/v1/me/language", {"language": "ja"}),
        ("POST", "/api/v1/auth/tokens", {"name": "more"}),
        ("POST", "/api/v1/auth/logout", None),
    ):
        refused = await client.request(method, path, json=body, headers=read)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.headers["content-type"] == PROBLEM
    assert await _denials(ctx, "auth.scope_refused") == 6


async def test_a_token_without_the_admin_scope_cannot_administer(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "root", roles=("member", "admin"))
    headers = await login(client, "root")
    write = _bearer((await _token(client, headers, scopes=["read", "write"]))["token"])
    admin = _bearer((await _token(client, headers, scopes=["read", "write", "admin"]))["token"])
    client.cookies.clear()
    person = {
        "username": "newbie",
        "name": "New",
        "nation": "USA",
        "clearance": "SECRET",
        "password": "a long enough password",
    }
    assert (await client.post("/api/v1/people", json=person, headers=write)).status_code == 403
    assert (await client.post("/api/v1/people", json=person, headers=admin)).status_code == 201


async def test_tokens_expire_by_default_and_cannot_ask_more_than_the_maximum(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    headers = await login(client, "alice")
    made = await _token(client, headers)
    assert made["expires_at"] is not None
    too_long = await client.post(
        "/api/v1/auth/tokens",
        json={"name": "forever", "expires_in_days": 366},
        headers=headers,
    )
    assert too_long.status_code == 422
    short = await _token(client, headers, expires_in_days=1)
    client.cookies.clear()
    assert (await client.get("/api/v1/me", headers=_bearer(short["token"]))).status_code == 200
    later = ctx.clock() + timedelta(days=1, seconds=1)
    ctx.clock = lambda: later
    assert (await client.get("/api/v1/me", headers=_bearer(short["token"]))).status_code == 401
    assert (await client.get("/api/v1/me", headers=_bearer(made["token"]))).status_code == 200


async def test_tokens_are_listed_and_revoked_by_an_id_that_is_not_the_secret(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    headers = await login(client, "alice")
    first = await _token(client, headers, name="ci", scopes=["read", "write"])
    listed = (await client.get("/api/v1/auth/tokens")).json()
    assert [(t["id"], t["name"], t["scopes"]) for t in listed] == [
        (first["id"], "ci", ["read", "write"])
    ]
    assert "token" not in listed[0]
    assert str(first["id"]) not in str(first["token"])
    assert (await client.delete("/api/v1/auth/tokens/nope", headers=headers)).status_code == 404
    revoked = await client.delete(f"/api/v1/auth/tokens/{first['id']}", headers=headers)
    assert revoked.status_code == 204
    client.cookies.clear()
    assert (await client.get("/api/v1/me", headers=_bearer(first["token"]))).status_code == 401


async def test_revoking_a_token_revokes_everything_it_minted(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    headers = await login(client, "alice")
    parent = await _token(client, headers, scopes=["read", "write"])
    client.cookies.clear()
    child = await _token(client, _bearer(parent["token"]), scopes=["read", "write"])
    grandchild = await _token(client, _bearer(child["token"]), scopes=["read"])
    assert child["parent_id"] == parent["id"] and grandchild["parent_id"] == child["id"]
    # No scope the minting token lacks, no longer life.
    wider = await client.post(
        "/api/v1/auth/tokens",
        json={"name": "wider", "scopes": ["read", "write", "admin"]},
        headers=_bearer(child["token"]),
    )
    assert wider.status_code == 403
    assert str(grandchild["expires_at"]) <= str(parent["expires_at"])
    # A token sees itself and what it minted, not its parent.
    seen = (await client.get("/api/v1/auth/tokens", headers=_bearer(child["token"]))).json()
    assert {t["id"] for t in seen} == {child["id"], grandchild["id"]}
    # The child cannot revoke its parent; the parent's revocation takes the whole family.
    up = await client.delete(f"/api/v1/auth/tokens/{parent['id']}", headers=_bearer(child["token"]))
    assert up.status_code == 403
    gone = await client.delete(
        f"/api/v1/auth/tokens/{parent['id']}", headers=_bearer(parent["token"])
    )
    assert gone.status_code == 204
    for token in (parent, child, grandchild):
        assert (await client.get("/api/v1/me", headers=_bearer(token["token"]))).status_code == 401


async def test_logging_out_with_a_token_revokes_what_it_minted(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    headers = await login(client, "alice")
    parent = await _token(client, headers, scopes=["read", "write"])
    client.cookies.clear()
    child = await _token(client, _bearer(parent["token"]), scopes=["read"])
    out = await client.post("/api/v1/auth/logout", headers=_bearer(parent["token"]))
    assert out.status_code == 204
    assert (await client.get("/api/v1/me", headers=_bearer(child["token"]))).status_code == 401


async def test_changing_the_password_needs_the_current_one_and_never_a_token(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    alice = await add_person(ctx, operator, "alice")
    headers = await login(client, "alice")
    token = _bearer((await _token(client, headers, scopes=["read", "write", "admin"]))["token"])
    new = "a brand new password"
    without = await client.put("/api/v1/me/password", json={"password": new}, headers=headers)
    assert without.status_code == 403
    wrong = await client.put(
        "/api/v1/me/password",
        json={"password": new, "current_password": "not it"},
        headers=headers,
    )
    assert wrong.status_code == 403
    session = client.cookies.get("kyodo_session")
    client.cookies.clear()
    for path in ("/api/v1/me/password", f"/api/v1/people/{alice.id}/password"):
        with_token = await client.put(
            path, json={"password": new, "current_password": PASSWORD}, headers=token
        )
        assert with_token.status_code == 403, path
    assert await _denials(ctx, "person.password") == 4
    client.cookies.set("kyodo_session", session or "")
    ok = await client.put(
        "/api/v1/me/password",
        json={"password": new, "current_password": PASSWORD},
        headers=headers,
    )
    assert ok.status_code == 204
    client.cookies.clear()
    # A new password ends every session and token.
    assert (await client.get("/api/v1/me", headers=token)).status_code == 401


async def test_api_responses_are_not_stored_by_caches(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    await login(client, "alice")
    for path in ("/api/v1/me", "/api/v1/nets", "/api/v1/health", "/api/v1/nope"):
        response = await client.get(path)
        assert response.headers["cache-control"] == "no-store", path
    client.cookies.clear()
    assert (await client.get("/api/v1/me")).headers["cache-control"] == "no-store"


async def test_someone_elses_token_cannot_be_listed_or_revoked(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    await add_person(ctx, operator, "mallory")
    alice = await _token(client, await login(client, "alice"), scopes=["read", "write"])
    client.cookies.clear()
    headers = await login(client, "mallory")
    assert (await client.get("/api/v1/auth/tokens")).json() == []
    attempt = await client.delete(f"/api/v1/auth/tokens/{alice['id']}", headers=headers)
    assert attempt.status_code == 404
    assert await _denials(ctx, "auth.token_revoke") == 1
    client.cookies.clear()
    assert (await client.get("/api/v1/me", headers=_bearer(alice["token"]))).status_code == 200


async def test_a_stolen_session_cannot_guess_the_current_password_quickly(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    headers = await login(client, "alice")
    answers = [
        (
            await client.put(
                "/api/v1/me/password",
                json={"password": "a brand new password", "current_password": f"guess {n}"},
                headers=headers,
            )
        ).status_code
        for n in range(6)
    ]
    assert answers == [403, 403, 403, 429, 429, 429]  # 3 per account in the test settings
