"""A second review's findings, each tried again: conferring more than one holds, feed names in
track refusals, net names in post records, lowering a net's own label, probing people."""

from __future__ import annotations

import httpx

from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person, bearer


async def _id(client: httpx.AsyncClient, h: dict[str, str]) -> str:
    return str((await client.get("/api/v1/me", headers=h)).json()["id"])


async def test_an_admin_cannot_create_or_raise_an_account_above_themselves(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "adm", clearance="SECRET", roles=("admin",))
    await add_person(ctx, operator, "plain", clearance="CONFIDENTIAL")
    adm = await bearer(client, "adm")
    sock = {
        "username": "sock",
        "name": "Sock Puppet",
        "nation": "USA",
        "password": "long enough password",
    }
    for extra in (
        {"clearance": "TOP SECRET"},
        {"clearance": "SECRET", "grants": ["SI"]},
        {"clearance": "SECRET", "roles": ["security_officer"]},
        {"clearance": "SECRET", "roles": ["may_downgrade"]},
    ):
        refused = await client.post("/api/v1/people", headers=adm, json={**sock, **extra})
        assert refused.status_code == 403, (extra, refused.text)
    plain = await _id(client, await bearer(client, "plain"))
    raised = await client.patch(
        f"/api/v1/people/{plain}", headers=adm, json={"clearance": "TOP SECRET"}
    )
    assert raised.status_code == 403
    within = await client.patch(
        f"/api/v1/people/{plain}", headers=adm, json={"clearance": "SECRET"}
    )
    assert within.status_code == 200, within.text


async def test_track_refusals_name_a_feed_only_to_its_readers(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "admin", clearance="TOP SECRET", roles=("admin",))
    await add_person(ctx, operator, "low", clearance="SECRET")
    admin = await bearer(client, "admin")
    low = await bearer(client, "low")
    feed = await client.post(
        "/api/v1/feeds",
        headers=admin,
        json={"name": "SPECIAL-FEED", "ceiling": {"marking": "TOP SECRET//NOFORN"}},
    )
    assert feed.status_code == 201, feed.text
    report = {
        "uid": "probe-1",
        "type": "a-f-G",
        "callsign": "PROBE",
        "lat": 35.0,
        "lon": 139.0,
        "feed_id": feed.json()["id"],
    }
    for marking in ("TOP SECRET//SI//NOFORN", "TOP SECRET//NOFORN", "TOP SECRET//REL TO USA, JPN"):
        refused = await client.post(
            "/api/v1/tracks", headers=low, json={**report, "label": {"marking": marking}}
        )
        assert refused.status_code == 403, refused.text
        assert "SPECIAL-FEED" not in refused.text and "ceiling" not in refused.text


async def test_a_nets_own_label_is_never_lowered_by_an_update(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "owner", clearance="TOP SECRET", grants=("SI",))
    owner = await bearer(client, "owner")
    created = await client.post(
        "/api/v1/nets",
        headers=owner,
        json={"name": "Cell", "ceiling": {"marking": "TOP SECRET//SI//NOFORN"}},
    )
    net_id = created.json()["id"]
    lowered = await client.patch(
        f"/api/v1/nets/{net_id}", headers=owner, json={"label": {"marking": "UNCLASSIFIED"}}
    )
    assert lowered.status_code == 403, lowered.text
    shown = await client.get(f"/api/v1/nets/{net_id}", headers=owner)
    assert shown.json()["label"]["marking"] == "TOP SECRET//SI//NOFORN"


async def test_adding_a_person_one_may_not_read_answers_like_a_missing_one(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    from kyodo.labels import parse_marking

    await add_person(ctx, operator, "owner", clearance="SECRET")
    hidden = await add_person(
        ctx,
        operator,
        "hidden",
        clearance="TOP SECRET",
        label=parse_marking("TOP SECRET//NOFORN", ctx.registry),
    )
    owner = await bearer(client, "owner")
    created = await client.post(
        "/api/v1/nets", headers=owner, json={"name": "Ops", "ceiling": {"marking": "SECRET"}}
    )
    net_id = created.json()["id"]
    probe = await client.post(
        f"/api/v1/nets/{net_id}/members", headers=owner, json={"person_id": hidden.id}
    )
    missing = await client.post(
        f"/api/v1/nets/{net_id}/members", headers=owner, json={"person_id": "nobody-at-all"}
    )
    assert probe.status_code == missing.status_code == 422
    assert probe.content == missing.content.replace(b"nobody-at-all", hidden.id.encode())
    assert b"hidden" not in probe.content.replace(hidden.id.encode(), b"")
