"""The guard's advice over HTTP: a label the author may use in the net, or where it belongs."""

from __future__ import annotations

from typing import Any

import httpx

from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person, bearer

OPERATIONAL = "Tomahawk launch from USS Shiloh at 151200ZMAR25, TOT 1230Z, grid 52RCU1234567890."
NOFORN_QUOTE = "Forwarding the portion (S//NF) of the brief here."

NETS = {
    # name: (ceiling, entry)
    "admin": ("UNCLASSIFIED", "UNCLASSIFIED"),
    "j3": ("SECRET//NOFORN", "SECRET//REL TO USA, JPN"),
    "logistics": ("SECRET//REL TO USA, JPN", "SECRET//REL TO USA, JPN"),
}


async def _world(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    await add_person(ctx, operator, "us", clearance="TOP SECRET")
    await add_person(ctx, operator, "jp", nation="JPN", clearance="KIMITSU")
    await add_person(
        ctx, operator, "us.over", clearance="TOP SECRET", roles=("member", "may_override")
    )
    h = {n: await bearer(client, n) for n in ("us", "jp", "us.over")}
    ids = {}
    for name, (ceiling, entry) in NETS.items():
        made = await client.post(
            "/api/v1/nets",
            headers=h["us"],
            json={"name": name, "ceiling": ceiling, "entry": entry, "default_label": entry},
        )
        assert made.status_code == 201, made.text
        ids[name] = made.json()["id"]
        for member in ("jp", "us.over"):
            me = (await client.get("/api/v1/me", headers=h[member])).json()
            added = await client.post(
                f"/api/v1/nets/{ids[name]}/members", headers=h["us"], json={"person_id": me["id"]}
            )
            assert added.status_code == 201, added.text
    return h, ids


async def _check(
    client: httpx.AsyncClient, headers: dict[str, str], net_id: str, text: str, label: str
) -> dict[str, Any]:
    answer = await client.post(
        "/api/v1/guard/check",
        headers=headers,
        json={"text": text, "label": label, "net_id": net_id},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _refusals(ctx: ServiceContext) -> int:
    async with ctx.db.transaction(write=False) as tx:
        return len([r async for r in tx.audit.walk() if r.entry.action == "message.guard_refused"])


async def test_an_unclassified_net_says_where_the_text_belongs_and_audits_the_refusal(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, ids = await _world(ctx, operator, client)
    body = await _check(client, h["us"], ids["admin"], OPERATIONAL, "UNCLASSIFIED")
    assert body["refused"] is True and body["findings"]
    assert body["suggested"] is None  # nothing in an UNCLASSIFIED net covers it
    assert body["above_ceiling"] is True and body["in_net"] is False
    levels = []
    for finding in body["findings"]:
        parsed = await client.post(
            "/api/v1/labels/parse", json={"marking": finding["minimum"]}, headers=h["us"]
        )
        levels.append(parsed.json()["level"])
    top = max(levels)
    reason = body["reason"]
    assert reason["code"] == "guard.above_ceiling"
    assert reason["params"]["net"] == "admin"
    assert reason["params"]["level"]["level"] == top >= 20
    assert body["overridable"] is False  # us holds no may_override
    # Where it may go instead: the author's nets that can carry it, each with its label.
    assert {p["name"] for p in body["elsewhere"]} == {"j3", "logistics"}
    assert all(set(p["suggested"]["releasable_to"]) == {"USA", "JPN"} for p in body["elsewhere"])
    # A preview is not audited; the refused post is.
    before = await _refusals(ctx)
    assert before == 0
    posted = await client.post(
        f"/api/v1/nets/{ids['admin']}/messages",
        headers=h["us"],
        json={"text": OPERATIONAL, "label": "UNCLASSIFIED"},
    )
    assert posted.status_code == 422, posted.text
    problem = posted.json()
    assert problem["code"] == "guard_refused" and problem["findings"]
    assert problem["suggested"] is None and problem["needed"]
    assert problem["reason"]["code"] == "guard.above_ceiling"
    assert "belongs in another net" in problem["detail"]
    assert await _refusals(ctx) == 1


async def test_an_override_is_offered_in_an_unclassified_net_for_those_who_may(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, ids = await _world(ctx, operator, client)
    body = await _check(client, h["us.over"], ids["admin"], OPERATIONAL, "UNCLASSIFIED")
    assert body["overridable"] is True
    done = await client.post(
        f"/api/v1/nets/{ids['admin']}/messages",
        headers=h["us.over"],
        json={
            "text": OPERATIONAL,
            "label": "UNCLASSIFIED",
            "override_justification": "quoted from the public press release of the exercise",
        },
    )
    assert done.status_code == 201, done.text
    # A marking in the text above the net is the text's own claim: no override.
    marked = await _check(client, h["us.over"], ids["admin"], NOFORN_QUOTE, "UNCLASSIFIED")
    assert marked["refused"] is True and marked["overridable"] is False


async def test_in_a_bilateral_net_the_suggestion_keeps_the_partner_and_the_authors_scheme(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, ids = await _world(ctx, operator, client)
    for net in ("j3", "logistics"):
        us = await _check(client, h["us"], ids[net], OPERATIONAL, "UNCLASSIFIED")
        assert us["in_net"] is True and us["keeps_partners"] is True
        assert us["suggested"]["policy"] == "USA"
        assert set(us["suggested"]["releasable_to"]) == {"USA", "JPN"}
        assert us["reason"]["code"] == "guard.above_label"
        assert us["reason"]["params"]["suggested"]["marking"] == us["suggested"]["marking"]
        jp = await _check(client, h["jp"], ids[net], OPERATIONAL, "UNCLASSIFIED")
        assert jp["suggested"]["policy"] == "JPN"  # 極秘, not SECRET
        assert set(jp["suggested"]["releasable_to"]) == {"USA", "JPN"}
        # Raising the label to the suggestion passes the guard and the policy.
        for who, answer in (("us", us), ("jp", jp)):
            posted = await client.post(
                f"/api/v1/nets/{ids[net]}/messages",
                headers=h[who],
                json={"text": OPERATIONAL, "label": answer["suggested"]["marking"]},
            )
            assert posted.status_code == 201, posted.text


async def test_a_noforn_marking_is_not_suggested_to_a_partner_who_may_not_read_it(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, ids = await _world(ctx, operator, client)
    jp = await _check(client, h["jp"], ids["j3"], NOFORN_QUOTE, "UNCLASSIFIED")
    assert jp["suggested"] is None and jp["reason"]["code"] == "guard.not_for_author"
    us = await _check(client, h["us"], ids["j3"], NOFORN_QUOTE, "UNCLASSIFIED")
    assert us["suggested"]["releasable_to"] == ["USA"]  # the text says NOFORN: kept
    assert us["keeps_partners"] is False
    # The bilateral logistics net cannot hold NOFORN at all.
    logistics = await _check(client, h["us"], ids["logistics"], NOFORN_QUOTE, "UNCLASSIFIED")
    assert logistics["suggested"] is None
    assert logistics["reason"]["code"] == "guard.above_ceiling"
