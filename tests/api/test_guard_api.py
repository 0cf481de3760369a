"""The spillage guard in the message path: refuse, explain, override with justification."""

from __future__ import annotations

import httpx

from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person, bearer

OPERATIONAL = "Tomahawk launch from USS Shiloh at 151200ZMAR25, TOT 1230Z, grid 52RCU1234567890."
LUNCH = "Lunch at the Yokota O-club at 1200 tomorrow? Bring your badge."


async def _setup(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> tuple[dict[str, dict[str, str]], str]:
    await add_person(ctx, operator, "us", clearance="TOP SECRET")
    await add_person(
        ctx, operator, "us.override", clearance="TOP SECRET", roles=("member", "may_override")
    )
    await add_person(ctx, operator, "jp", nation="JPN", clearance="GOKUHI")
    await add_person(ctx, operator, "jp.low", nation="JPN", clearance="HI")
    await add_person(ctx, operator, "aus", nation="AUS", clearance="SECRET")
    h = {n: await bearer(client, n) for n in ("us", "us.override", "jp", "jp.low", "aus")}
    net = await client.post(
        "/api/v1/nets",
        headers=h["us"],
        json={
            "name": "logistics",
            "ceiling": "SECRET//REL TO USA, JPN",
            "entry": "CONFIDENTIAL//REL TO USA, JPN",
            "default_label": "UNCLASSIFIED",
        },
    )
    assert net.status_code == 201, net.text
    net_id = net.json()["id"]
    for name in ("us.override", "jp", "jp.low"):
        me = (await client.get("/api/v1/me", headers=h[name])).json()
        added = await client.post(
            f"/api/v1/nets/{net_id}/members", headers=h["us"], json={"person_id": me["id"]}
        )
        assert added.status_code == 201, added.text
    return h, net_id


async def test_the_guard_refuses_an_operational_message_and_accepts_lunch(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, net_id = await _setup(ctx, operator, client)
    refused = await client.post(
        f"/api/v1/nets/{net_id}/messages",
        headers=h["us"],
        json={"text": OPERATIONAL, "label": "UNCLASSIFIED"},
    )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "guard_refused" and body["findings"]
    assert {"rule_id", "text", "minimum"} <= set(body["findings"][0])
    assert body["suggested"].startswith("SECRET") and body["overridable"] is False
    lunch = await client.post(
        f"/api/v1/nets/{net_id}/messages",
        headers=h["us"],
        json={"text": LUNCH, "label": "UNCLASSIFIED"},
    )
    assert lunch.status_code == 201, lunch.text
    listed = await client.get(f"/api/v1/nets/{net_id}/messages", headers=h["jp"])
    assert [m["text"] for m in listed.json()["items"]] == [LUNCH]
    async with ctx.db.transaction(write=False) as tx:
        actions = [r.entry.action async for r in tx.audit.walk()]
    assert "message.guard_refused" in actions


async def test_the_same_text_at_a_high_enough_label_passes(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, net_id = await _setup(ctx, operator, client)
    ok = await client.post(
        f"/api/v1/nets/{net_id}/messages",
        headers=h["us"],
        json={"text": OPERATIONAL, "label": "SECRET//REL TO USA, JPN"},
    )
    assert ok.status_code == 201, ok.text


async def test_an_override_needs_the_role_and_a_justification_and_is_audited(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, net_id = await _setup(ctx, operator, client)
    text = "The exercise serial starts at 0600; Tomahawk launch simulation only."
    first = await client.post(
        f"/api/v1/nets/{net_id}/messages",
        headers=h["us.override"],
        json={"text": text, "label": "UNCLASSIFIED"},
    )
    assert first.status_code == 422 and first.json()["overridable"] is True
    plain = await client.post(
        f"/api/v1/nets/{net_id}/messages",
        headers=h["us"],
        json={
            "text": text,
            "label": "UNCLASSIFIED",
            "override_justification": "exercise traffic, approved by the J3",
        },
    )
    assert plain.status_code == 422 and "may not override" in plain.json()["detail"]
    short = await client.post(
        f"/api/v1/nets/{net_id}/messages",
        headers=h["us.override"],
        json={"text": text, "label": "UNCLASSIFIED", "override_justification": "ok"},
    )
    assert short.status_code == 422
    done = await client.post(
        f"/api/v1/nets/{net_id}/messages",
        headers=h["us.override"],
        json={
            "text": text,
            "label": "UNCLASSIFIED",
            "override_justification": "exercise traffic, approved by the J3",
        },
    )
    assert done.status_code == 201 and done.json()["guard_findings"]
    async with ctx.db.transaction(write=False) as tx:
        posts = [r async for r in tx.audit.walk() if r.entry.action == "message.post"]
    override = posts[-1].entry.details["guard_override"]
    assert override["justification"] == "exercise traffic, approved by the J3"


async def test_no_override_above_the_ceiling(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, net_id = await _setup(ctx, operator, client)
    text = "Forwarding the portion (TS//NF) of the brief here."
    refused = await client.post(
        f"/api/v1/nets/{net_id}/messages",
        headers=h["us.override"],
        json={
            "text": text,
            "label": "SECRET//REL TO USA, JPN",
            "override_justification": "I know what I am doing, trust me",
        },
    )
    assert refused.status_code == 422
    assert refused.json()["overridable"] is False
    assert "another net" in refused.json()["detail"]


async def test_guard_check_shows_findings_and_who_will_see_it(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, net_id = await _setup(ctx, operator, client)
    draft = await client.post(
        "/api/v1/guard/check",
        headers=h["us"],
        json={"text": OPERATIONAL, "label": "UNCLASSIFIED", "net_id": net_id},
    )
    assert draft.status_code == 200
    assert draft.json()["refused"] is True and draft.json()["findings"]
    at_secret = await client.post(
        "/api/v1/guard/check",
        headers=h["us"],
        json={"text": LUNCH, "label": "SECRET//REL TO USA, JPN", "net_id": net_id},
    )
    body = at_secret.json()
    assert body["refused"] is False
    # jp.low (HI = CONFIDENTIAL) would not receive a SECRET message.
    assert {r["username"] for r in body["recipients"]} == {"us", "us.override", "jp"}
    assert body["recipients_by_nation"] == {"USA": 2, "JPN": 1}
    outsider = await client.post(
        "/api/v1/guard/check",
        headers=h["aus"],
        json={"text": LUNCH, "label": "UNCLASSIFIED", "net_id": net_id},
    )
    assert outsider.status_code == 404
