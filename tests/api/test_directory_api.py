"""Organisations and people over HTTP: admins manage, members see only what they may read."""

from __future__ import annotations

import httpx

from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import PASSWORD, add_org, add_person, bearer
from tests.support.factories import login as session_login


async def _admin_and_member(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> tuple[dict[str, str], dict[str, str]]:
    await add_person(ctx, operator, "boss", clearance="TOP SECRET", roles=("admin",))
    await add_person(ctx, operator, "sato", nation="JPN", clearance="KIMITSU")
    return await bearer(client, "boss"), await bearer(client, "sato")


async def test_admin_creates_an_org_tree_with_counterparts(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    admin, member = await _admin_and_member(ctx, operator, client)
    usfj = await client.post(
        "/api/v1/orgs",
        headers=admin,
        json={"id": "usfj", "abbr": "USFJ", "name": "U.S. Forces Japan", "nation": "USA"},
    )
    assert usfj.status_code == 201, usfj.text
    jjoc = await client.post(
        "/api/v1/orgs",
        headers=admin,
        json={
            "id": "jjoc",
            "abbr": "JJOC",
            "name": "Joint Operations Command",
            "name_ja": "統合作戦司令部",
            "nation": "JPN",
            "counterpart_id": "usfj",
        },
    )
    assert jjoc.status_code == 201
    # The counterpart link is made on both sides.
    got = await client.get("/api/v1/orgs/usfj", headers=member)
    assert got.json()["counterpart_id"] == "jjoc"
    assert got.json()["label"]["marking"] == "UNCLASSIFIED"


async def test_members_cannot_manage_and_the_refusal_is_audited(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    _, member = await _admin_and_member(ctx, operator, client)
    refused = await client.post(
        "/api/v1/orgs", headers=member, json={"id": "x", "abbr": "X", "name": "X", "nation": "JPN"}
    )
    assert refused.status_code == 403
    assert refused.json()["reasons"] == ["role admin required"]
    async with ctx.db.transaction(write=False) as tx:
        denials = [r async for r in tx.audit.walk() if r.entry.decision == "deny"]
    assert denials[-1].entry.action == "org.create" and denials[-1].entry.actor == "sato"


async def test_unreadable_orgs_are_absent_from_lists_and_404_not_403(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    admin, member = await _admin_and_member(ctx, operator, client)
    await add_org(ctx, operator, "public")
    await add_org(ctx, operator, "usonly", marking="SECRET//NOFORN")
    await add_org(ctx, operator, "shared", marking="SECRET//REL TO USA, JPN")
    listed = await client.get("/api/v1/orgs", headers=member)
    assert {o["id"] for o in listed.json()["items"]} == {"public", "shared"}
    hidden = await client.get("/api/v1/orgs/usonly", headers=member)
    absent = await client.get("/api/v1/orgs/no-such-org", headers=member)
    assert hidden.status_code == absent.status_code == 404
    # Byte for byte the answer for an organisation that does not exist (but for the id).
    assert hidden.content == absent.content.replace(b"no-such-org", b"usonly")
    seen = await client.get("/api/v1/orgs/usonly", headers=admin)
    assert seen.status_code == 200 and seen.json()["label"]["marking"] == "SECRET//NOFORN"


async def test_lists_are_paginated_with_a_cursor(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    admin, _ = await _admin_and_member(ctx, operator, client)
    for n in range(5):
        await add_org(ctx, operator, f"org{n}")
    ids: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/orgs", headers=admin, params=params)).json()
        ids += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == [f"org{n}" for n in range(5)]


async def test_admin_creates_people_and_bad_input_is_422(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    admin, member = await _admin_and_member(ctx, operator, client)
    suzuki = {
        "username": "suzuki",
        "name": "Misaki Suzuki",
        "name_ja": "鈴木 美咲",
        "nation": "JPN",
        "clearance": "GOKUHI",
        "password": "long enough password",
        "grants": ["SDS"],
    }
    # A US administrator does not hold SDS: an account made with it would be one to log in as
    # to read 特定秘密. A security officer grants it.
    refused = await client.post("/api/v1/people", headers=admin, json=suzuki)
    assert refused.status_code == 403 and "SDS" in refused.text
    await add_person(
        ctx, operator, "secadmin", clearance="TOP SECRET", roles=("admin", "security_officer")
    )
    admin = await bearer(client, "secadmin")
    created = await client.post("/api/v1/people", headers=admin, json=suzuki)
    assert created.status_code == 201, created.text
    assert created.json()["clearance"] == "GOKUHI" and created.json()["grants"] == ["SDS"]
    for bad, why in (
        ({"nation": "XYZ"}, "ISO 3166"),
        ({"clearance": "SUPER SECRET"}, "unknown clearance"),
        ({"grants": ["NOPE"]}, "unknown category"),
        ({"roles": ["king"]}, "unknown role"),
        ({"password": "short"}, "at least"),
        ({"org_id": "missing"}, "does not exist"),
        ({"label": "SECRET//REL TO"}, "empty REL TO"),
    ):
        body = {"username": "x1", "name": "X", "nation": "USA", "clearance": "SECRET"} | bad
        response = await client.post("/api/v1/people", headers=admin, json=body)
        assert response.status_code == 422, (bad, response.text)
        assert why in response.json()["detail"], (bad, response.json())
    dup = await client.post(
        "/api/v1/people",
        headers=admin,
        json={"username": "suzuki", "name": "Again", "nation": "JPN", "clearance": "HI"},
    )
    assert dup.status_code == 409
    directory = await client.get("/api/v1/people", headers=member)
    assert "suzuki" in {p["username"] for p in directory.json()["items"]}


async def test_malformed_json_and_unknown_fields_are_422_problems(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    admin, _ = await _admin_and_member(ctx, operator, client)
    broken = await client.post(
        "/api/v1/orgs",
        headers=admin | {"content-type": "application/json"},
        content=b'{"id": "x", ',
    )
    assert broken.status_code == 422
    assert broken.headers["content-type"] == "application/problem+json"
    extra = await client.post(
        "/api/v1/orgs",
        headers=admin,
        json={"id": "x", "abbr": "X", "name": "X", "nation": "USA", "colour": "red"},
    )
    assert extra.status_code == 422 and "colour" in extra.json()["detail"]


async def test_lowering_a_clearance_takes_effect_at_once(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    admin, member = await _admin_and_member(ctx, operator, client)
    await add_org(ctx, operator, "shared", marking="SECRET//REL TO USA, JPN")
    assert (await client.get("/api/v1/orgs/shared", headers=member)).status_code == 200
    sato = (await client.get("/api/v1/me", headers=member)).json()
    changed = await client.patch(
        f"/api/v1/people/{sato['id']}", headers=admin, json={"clearance": "HI"}
    )
    assert changed.status_code == 200 and changed.json()["clearance"] == "HI"
    assert (await client.get("/api/v1/orgs/shared", headers=member)).status_code == 404
    async with ctx.db.transaction(write=False) as tx:
        updates = [r async for r in tx.audit.walk() if r.entry.action == "person.update"]
    assert updates[-1].entry.details["changes"]["clearance"] == ["KIMITSU", "HI"]


async def test_a_person_changes_their_own_password(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await _admin_and_member(ctx, operator, client)
    session = await session_login(client, "sato")  # with a password: a token may not change it
    response = await client.put(
        "/api/v1/me/password",
        headers=session,
        json={"password": "a brand new password", "current_password": PASSWORD},
    )
    assert response.status_code == 204
    login = await client.post(
        "/api/v1/auth/login", json={"username": "sato", "password": "a brand new password"}
    )
    assert login.status_code == 200
