"""Labelled nets end to end over HTTP: vetted membership, per-reader messages, records."""

from __future__ import annotations

import json

import httpx

from kyodo.services import identity
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person, bearer

MIXED = {
    "name": "J3 combined ops",
    "ceiling": "SECRET//NOFORN",
    "entry": "SECRET//REL TO USA, JPN",
    "default_label": "SECRET//REL TO USA, JPN",
}


async def _people(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> dict[str, dict[str, str]]:
    await add_person(ctx, operator, "us.owner", clearance="TOP SECRET", grants=("SI",))
    await add_person(ctx, operator, "jp.sato", nation="JPN", clearance="GOKUHI")
    await add_person(ctx, operator, "journalist", clearance="UNCLASSIFIED")
    await add_person(ctx, operator, "aus.liaison", nation="AUS", clearance="SECRET")
    await add_person(
        ctx, operator, "records", nation="JPN", clearance="KIMITSU", roles=("records_officer",)
    )
    await add_person(ctx, operator, "admin", clearance="TOP SECRET", roles=("admin",))
    return {
        name: await bearer(client, name)
        for name in ("us.owner", "jp.sato", "journalist", "aus.liaison", "records", "admin")
    }


async def _id(client: httpx.AsyncClient, h: dict[str, str]) -> str:
    return str((await client.get("/api/v1/me", headers=h)).json()["id"])


async def _mixed_net(client: httpx.AsyncClient, h: dict[str, dict[str, str]]) -> str:
    created = await client.post("/api/v1/nets", headers=h["us.owner"], json=MIXED)
    assert created.status_code == 201, created.text
    net_id = str(created.json()["id"])
    sato = await _id(client, h["jp.sato"])
    added = await client.post(
        f"/api/v1/nets/{net_id}/members", headers=h["us.owner"], json={"person_id": sato}
    )
    assert added.status_code == 201, added.text
    records = await _id(client, h["records"])
    await client.post(
        f"/api/v1/nets/{net_id}/members",
        headers=h["us.owner"],
        json={"person_id": records, "role": "read_only"},
    )
    return net_id


async def _post(
    client: httpx.AsyncClient, h: dict[str, str], net_id: str, text: str, label: str | None = None
) -> httpx.Response:
    body: dict[str, object] = {"text": text}
    if label:
        body["label"] = label
    return await client.post(f"/api/v1/nets/{net_id}/messages", headers=h, json=body)


async def test_uncleared_and_foreign_people_cannot_be_added_even_by_admins(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    admin_id = await _id(client, h["admin"])
    journalist = await _id(client, h["journalist"])
    refused = await client.post(
        f"/api/v1/nets/{net_id}/members", headers=h["us.owner"], json={"person_id": journalist}
    )
    assert refused.status_code == 403
    assert "clearance UNCLASSIFIED is below SECRET" in refused.json()["reasons"]
    aus = await _id(client, h["aus.liaison"])
    # An admin who is not even a member gets the same answer: no way around the rule.
    by_admin = await client.post(
        f"/api/v1/nets/{net_id}/members", headers=h["admin"], json={"person_id": aus}
    )
    assert by_admin.status_code == 403
    assert "nation AUS is not in REL TO USA, JPN" in by_admin.json()["reasons"]
    assert admin_id
    async with ctx.db.transaction(write=False) as tx:
        denials = [
            r
            async for r in tx.audit.walk()
            if r.entry.action == "net.add_member" and r.entry.decision == "deny"
        ]
    assert {d.entry.details["person"] for d in denials} == {"journalist", "aus.liaison"}
    members = await client.get(f"/api/v1/nets/{net_id}/members", headers=h["us.owner"])
    assert journalist not in {m["person_id"] for m in members.json()}


async def test_a_japanese_member_never_sees_a_noforn_message(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    shared = await _post(client, h["us.owner"], net_id, "Staff meeting moved to 1400.")
    assert shared.status_code == 201, shared.text
    noforn = await _post(client, h["us.owner"], net_id, "US-only planning note.", "SECRET//NOFORN")
    assert noforn.status_code == 201, noforn.text
    us_view = await client.get(f"/api/v1/nets/{net_id}/messages", headers=h["us.owner"])
    jp_view = await client.get(f"/api/v1/nets/{net_id}/messages", headers=h["jp.sato"])
    assert [m["text"] for m in us_view.json()["items"]] == [
        "Staff meeting moved to 1400.",
        "US-only planning note.",
    ]
    assert [m["text"] for m in jp_view.json()["items"]] == ["Staff meeting moved to 1400."]
    assert us_view.json()["banner"]["marking"] == "SECRET//NOFORN"
    assert jp_view.json()["banner"]["marking"] == "SECRET//REL TO USA, JPN"
    seq = noforn.json()["message"]["seq"]
    hidden = await client.get(f"/api/v1/messages/{seq}/versions", headers=h["jp.sato"])
    assert hidden.status_code == 404


async def test_labels_must_fit_the_ceiling_and_the_author(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    above = await _post(client, h["us.owner"], net_id, "x", "TOP SECRET//NOFORN")
    assert above.status_code == 403 and "above the ceiling" in above.json()["detail"]
    unreadable = await _post(client, h["jp.sato"], net_id, "x", "SECRET//NOFORN")
    assert unreadable.status_code == 403
    assert "nation JPN is not in REL TO USA" in unreadable.json()["reasons"]
    read_only = await _post(client, h["records"], net_id, "hello")
    assert read_only.status_code == 403


async def test_a_reply_carries_at_least_the_join_of_both_labels(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    first = await _post(client, h["us.owner"], net_id, "US-only.", "SECRET//NOFORN")
    reply = await client.post(
        f"/api/v1/nets/{net_id}/messages",
        headers=h["us.owner"],
        json={
            "text": "Agreed.",
            "label": "CONFIDENTIAL//REL TO USA, JPN",
            "reply_to": first.json()["message"]["seq"],
        },
    )
    assert reply.status_code == 201
    assert reply.json()["message"]["label"]["marking"] == "SECRET//NOFORN"


async def test_lowering_a_clearance_removes_the_member_at_once(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    sato = await _id(client, h["jp.sato"])
    changed = await client.patch(
        f"/api/v1/people/{sato}", headers=h["admin"], json={"clearance": "HI"}
    )
    assert changed.status_code == 200
    gone = await client.get(f"/api/v1/nets/{net_id}/messages", headers=h["jp.sato"])
    assert gone.status_code == 404
    async with ctx.db.transaction(write=False) as tx:
        removed = [r async for r in tx.audit.walk() if r.entry.action == "net.member_removed"]
    assert removed and "clearance HI is below SECRET" in removed[0].entry.reasons


async def test_edits_keep_versions_and_deletes_are_tombstones_in_the_export(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    posted = await _post(client, h["us.owner"], net_id, "Convoy brief at 0900.")
    seq = posted.json()["message"]["seq"]
    edit = await client.put(
        f"/api/v1/messages/{seq}", headers=h["us.owner"], json={"text": "Convoy brief at 1000."}
    )
    assert edit.status_code == 200 and edit.json()["version"] == 2
    not_author = await client.put(
        f"/api/v1/messages/{seq}", headers=h["jp.sato"], json={"text": "hijack"}
    )
    assert not_author.status_code == 403
    deleted = await client.delete(f"/api/v1/messages/{seq}", headers=h["us.owner"])
    assert deleted.status_code == 204
    view = await client.get(f"/api/v1/nets/{net_id}/messages", headers=h["jp.sato"])
    tombstone = view.json()["items"][0]
    assert tombstone["deleted"] and tombstone["text"] is None and tombstone["html"] is None
    versions = await client.get(f"/api/v1/messages/{seq}/versions", headers=h["records"])
    assert [v["text"] for v in versions.json()] == [
        "Convoy brief at 0900.",
        "Convoy brief at 1000.",
    ]
    refused = await client.get(f"/api/v1/nets/{net_id}/export", headers=h["jp.sato"])
    assert refused.status_code == 403
    export = await client.get(f"/api/v1/nets/{net_id}/export", headers=h["records"])
    assert export.status_code == 200
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert lines[0]["type"] == "banner" and lines[-1]["type"] == "banner"
    assert lines[0]["marking"] == "SECRET//REL TO USA, JPN"
    message = lines[1]
    assert message["deleted_at"] is not None and len(message["versions"]) == 2
    assert len(message["audit_refs"]) == 4  # post, edit, the refused edit, delete


async def test_ceiling_and_entry_changes_respect_what_is_stored(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    await _post(client, h["us.owner"], net_id, "US-only.", "SECRET//NOFORN")
    lower = await client.patch(
        f"/api/v1/nets/{net_id}", headers=h["admin"], json={"ceiling": "SECRET//REL TO USA, JPN"}
    )
    assert lower.status_code == 409 and "above the new ceiling" in lower.json()["detail"]
    raise_entry = await client.patch(
        f"/api/v1/nets/{net_id}", headers=h["admin"], json={"entry": "SECRET//NOFORN"}
    )
    assert raise_entry.status_code == 409 and "jp.sato" in raise_entry.json()["detail"]
    ok = await client.patch(
        f"/api/v1/nets/{net_id}", headers=h["us.owner"], json={"purpose": "combined planning"}
    )
    assert ok.status_code == 200


async def test_no_disappearing_messages_retention_has_a_floor(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    short = await client.post(
        "/api/v1/nets", headers=h["us.owner"], json=MIXED | {"retention_days": 1}
    )
    assert short.status_code == 422 and "at least 365 days" in short.json()["detail"]


async def test_search_returns_only_readable_messages(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    await _post(client, h["us.owner"], net_id, "Fuel resupply for the convoy tomorrow.")
    await _post(client, h["us.owner"], net_id, "Convoy route is US-only.", "SECRET//NOFORN")
    await _post(client, h["jp.sato"], net_id, "補給会議は明日の午後です。")
    us = await client.get("/api/v1/search", headers=h["us.owner"], params={"q": "convoy"})
    jp = await client.get("/api/v1/search", headers=h["jp.sato"], params={"q": "convoy"})
    assert len(us.json()) == 2 and len(jp.json()) == 1
    ja = await client.get("/api/v1/search", headers=h["us.owner"], params={"q": "補給会議"})
    assert [m["author"] for m in ja.json()] == ["jp.sato"]
    short = await client.get("/api/v1/search", headers=h["us.owner"], params={"q": "明日"})
    assert len(short.json()) == 1
    outsider = await client.get("/api/v1/search", headers=h["journalist"], params={"q": "convoy"})
    assert outsider.json() == []


async def test_nets_are_invisible_to_non_members(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    for path in (f"/api/v1/nets/{net_id}", f"/api/v1/nets/{net_id}/messages"):
        response = await client.get(path, headers=h["journalist"])
        assert response.status_code == 404, path
    assert (await client.get("/api/v1/nets", headers=h["journalist"])).json() == []


async def test_purge_is_for_records_officers_after_retention_only(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    from datetime import timedelta

    from kyodo.services import messages

    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    await _post(client, h["us.owner"], net_id, "An old note.")
    owner = await identity.find_person(ctx, "us.owner")
    records = await identity.find_person(ctx, "records")
    from kyodo.errors import PermissionDenied
    from kyodo.services.actor import person_actor

    try:
        await messages.purge_expired(ctx, person_actor(owner, "api"), net_id)
        raise AssertionError("a member purged messages")
    except PermissionDenied:
        pass
    assert await messages.purge_expired(ctx, person_actor(records, "api"), net_id) == 0
    real_clock = ctx.clock
    ctx.clock = lambda: real_clock() + timedelta(days=400)
    assert await messages.purge_expired(ctx, person_actor(records, "api"), net_id) == 1
    ctx.clock = real_clock
    view = await client.get(f"/api/v1/nets/{net_id}/messages", headers=h["us.owner"])
    assert view.json()["items"][0]["text"] == ""


async def test_the_read_marker_is_kept_per_member_and_only_moves_forward(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _mixed_net(client, h)
    posted = [(await _post(client, h["us.owner"], net_id, f"update {n}")).json() for n in range(3)]
    url = f"/api/v1/nets/{net_id}/read"
    assert (await client.get(url, headers=h["jp.sato"])).json() == {
        "net_id": net_id,
        "last_read": 0,
    }
    middle = posted[1]["message"]["seq"]
    moved = await client.put(url, headers=h["jp.sato"], json={"seq": middle})
    assert moved.status_code == 200 and moved.json()["last_read"] == middle
    # An older tab sending an older seq does not move it back.
    back = await client.put(url, headers=h["jp.sato"], json={"seq": 1})
    assert back.json()["last_read"] == middle
    # Another device of the same person sees the same marker; other members keep their own.
    assert (await client.get(url, headers=h["jp.sato"])).json()["last_read"] == middle
    assert (await client.get(url, headers=h["records"])).json()["last_read"] == 0
    # A seq past the newest message stops at it, so later messages still count as unread.
    ahead = await client.put(url, headers=h["jp.sato"], json={"seq": 1_000_000})
    assert ahead.json()["last_read"] == posted[-1]["message"]["seq"]
    assert (await client.get(url, headers=h["journalist"])).status_code == 404
    assert (await client.put(url, headers=h["journalist"], json={"seq": 5})).status_code == 404
    admin = await client.put(url, headers=h["admin"], json={"seq": 5})
    assert admin.status_code == 403 and "only members" in admin.text
    bad = await client.put(url, headers=h["jp.sato"], json={"seq": -1})
    assert bad.status_code == 422


async def test_a_reply_across_schemes_carries_a_writable_join(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    """A JPN-marked reply to a US SI message: the join holds SI, which only the US scheme
    writes, so the reply is stored and shown in it (not refused as unwritable)."""
    h = await _people(ctx, operator, client)
    created = await client.post(
        "/api/v1/nets",
        headers=h["us.owner"],
        json={**MIXED, "name": "SI cell", "ceiling": "TOP SECRET//SI//REL TO USA, JPN"},
    )
    assert created.status_code == 201, created.text
    net_id = created.json()["id"]
    parent = await _post(client, h["us.owner"], net_id, "Take it", "SECRET//SI//REL TO USA, JPN")
    assert parent.status_code == 201, parent.text
    reply = await client.post(
        f"/api/v1/nets/{net_id}/messages",
        headers=h["us.owner"],
        json={
            "text": "Understood",
            "label": "極秘//提供先 JPN、USA",
            "reply_to": parent.json()["message"]["seq"],
        },
    )
    assert reply.status_code == 201, reply.text
    label = reply.json()["message"]["label"]
    assert (label["policy"], label["marking"]) == ("USA", "SECRET//SI//REL TO USA, JPN")
