"""A report for a stored uid may not take the track over: refused, audited, nothing changed or
published, and the same answer whatever the stored track is."""

from __future__ import annotations

import httpx

from kyodo.bus.events import Event, TrackChanged
from kyodo.demo.loader import load_picture
from kyodo.domain.tracks import Track
from kyodo.labels import parse_marking
from kyodo.services import tracks
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person, bearer

BLUE_RIDGE, AMAMI = "demo.lcc19", "demo.amami"  # SECRET//NOFORN and 極秘//日本限り


async def _stored(ctx: ServiceContext, uid: str) -> Track:
    async with ctx.db.transaction(write=False) as tx:
        return await tx.tracks.get(uid)


async def _denials(ctx: ServiceContext) -> list[tuple[str, str, str]]:
    async with ctx.db.transaction(write=False) as tx:
        return [
            (r.entry.actor, r.entry.action, r.entry.object_id)
            async for r in tx.audit.walk()
            if r.entry.decision == "deny"
        ]


def _body(feed_id: str, uid: str, **extra: object) -> dict[str, object]:
    return {
        "uid": uid,
        "type": "a-h-S",  # hostile
        "callsign": "FAKE",
        "feed_id": feed_id,
        "lat": 10.0,
        "lon": 120.0,
        "label": "UNCLASSIFIED",
    } | extra


async def test_the_journalist_cannot_hijack_demo_tracks_over_rest(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await load_picture(ctx, operator)
    usfj = (await tracks.find_feed(ctx, "USFJ / 7th Fleet picture")).id
    jsdf = (await tracks.find_feed(ctx, "JSDF southwest islands picture")).id
    await add_person(ctx, operator, "journalist", clearance="UNCLASSIFIED")
    headers = await bearer(client, "journalist")
    before = {uid: await _stored(ctx, uid) for uid in (BLUE_RIDGE, AMAMI)}
    published: list[Event] = []
    ctx.bus.subscribe(published.append)

    answers = [
        await client.post("/api/v1/tracks", headers=headers, json=_body(feed, uid))
        for feed, uid in ((usfj, BLUE_RIDGE), (jsdf, AMAMI), (jsdf, BLUE_RIDGE), (usfj, AMAMI))
    ]

    assert [a.status_code for a in answers] == [403] * 4
    # Byte for byte the same answer, whichever track and whatever failed: nothing learnt.
    assert len({a.content for a in answers}) == 1
    assert b"NOFORN" not in answers[0].content and "限り" not in answers[0].text
    for uid, track in before.items():
        assert await _stored(ctx, uid) == track  # not moved, relabelled, retyped or refiled
    assert not [e for e in published if isinstance(e, TrackChanged)]
    denials = await _denials(ctx)
    assert denials == [
        ("journalist", "track.update", uid) for uid in (BLUE_RIDGE, AMAMI, BLUE_RIDGE, AMAMI)
    ]


async def test_a_cleared_reporter_may_not_lower_refile_or_overwrite_unreadable_tracks(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await load_picture(ctx, operator)
    usfj = (await tracks.find_feed(ctx, "USFJ / 7th Fleet picture")).id
    jsdf = (await tracks.find_feed(ctx, "JSDF southwest islands picture")).id
    await add_person(ctx, operator, "us.officer", clearance="TOP SECRET")
    await add_person(ctx, operator, "jp.officer", nation="JPN", clearance="KIMITSU")
    us, jp = await bearer(client, "us.officer"), await bearer(client, "jp.officer")
    wide = await tracks.create_feed(
        ctx, operator, name="wide", ceiling=parse_marking("TOP SECRET//NOFORN", ctx.registry)
    )
    blue_ridge = await _stored(ctx, BLUE_RIDGE)

    refused = [
        # lower SECRET//NOFORN to SECRET//REL TO USA, JPN
        await client.post(
            "/api/v1/tracks",
            headers=us,
            json=_body(usfj, BLUE_RIDGE, label="SECRET//REL TO USA, JPN"),
        ),
        # move it to another feed
        await client.post(
            "/api/v1/tracks", headers=us, json=_body(wide.id, BLUE_RIDGE, label="SECRET//NOFORN")
        ),
        # a Japanese officer above the track's level, but not of its nation
        await client.post(
            "/api/v1/tracks",
            headers=jp,
            json=_body(usfj, BLUE_RIDGE, label="SECRET//REL TO USA, JPN"),
        ),
        # an American officer on a Japan-only track
        await client.post(
            "/api/v1/tracks", headers=us, json=_body(jsdf, AMAMI, label="UNCLASSIFIED")
        ),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert len({r.json()["reasons"][0] for r in refused}) == 1
    assert await _stored(ctx, BLUE_RIDGE) == blue_ridge

    # A writer of the feed (cleared for its ceiling) may move it, at its label or above.
    moved = await client.post(
        "/api/v1/tracks", headers=us, json=_body(usfj, BLUE_RIDGE, label="SECRET//NOFORN")
    )
    assert moved.status_code == 201, moved.text
    stored = await _stored(ctx, BLUE_RIDGE)
    assert stored.position.lat == 10.0 and stored.originator == blue_ridge.originator
    assert [d[1:] for d in await _denials(ctx)] == [
        ("track.update", BLUE_RIDGE),
        ("track.update", BLUE_RIDGE),
        ("track.update", BLUE_RIDGE),
        ("track.update", AMAMI),
    ]


async def test_the_refusal_audit_names_what_was_refused(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await load_picture(ctx, operator)
    usfj = (await tracks.find_feed(ctx, "USFJ / 7th Fleet picture")).id
    await add_person(ctx, operator, "journalist", clearance="UNCLASSIFIED")
    headers = await bearer(client, "journalist")
    await client.post("/api/v1/tracks", headers=headers, json=_body(usfj, BLUE_RIDGE))
    async with ctx.db.transaction(write=False) as tx:
        (record,) = [r async for r in tx.audit.walk() if r.entry.action == "track.update"]
    entry = record.entry
    assert entry.decision == "deny" and entry.label is not None
    assert entry.label["marking"] == "SECRET//NOFORN"  # the stored track's label
    assert entry.details["reported"] == "UNCLASSIFIED"
    assert any("cannot read" in reason for reason in entry.reasons)
    assert any("would lower" in reason for reason in entry.reasons)
