"""The operational picture over HTTP: feeds, labelled tracks, filters, stale expiry, history."""

from __future__ import annotations

from datetime import timedelta

import httpx

from kyodo.domain.tracks import TrackReport
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person, bearer


async def _setup(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> tuple[dict[str, dict[str, str]], str]:
    await add_person(ctx, operator, "admin", clearance="TOP SECRET", roles=("admin",))
    await add_person(ctx, operator, "us", clearance="SECRET")
    await add_person(ctx, operator, "jp", nation="JPN", clearance="GOKUHI")
    await add_person(ctx, operator, "outsider", clearance="UNCLASSIFIED")
    h = {n: await bearer(client, n) for n in ("admin", "us", "jp", "outsider")}
    feed = await client.post(
        "/api/v1/feeds",
        headers=h["admin"],
        json={
            "name": "7th Fleet surface picture",
            "ceiling": "SECRET//NOFORN",
            "entry": "SECRET//REL TO USA, JPN",
            "default_label": "SECRET//REL TO USA, JPN",
        },
    )
    assert feed.status_code == 201, feed.text
    return h, feed.json()["id"]


def _track(feed_id: str, uid: str, **extra: object) -> dict[str, object]:
    return {
        "uid": uid,
        "type": "a-f-S-C-L-CC",
        "callsign": uid.upper(),
        "feed_id": feed_id,
        "lat": 35.29,
        "lon": 139.67,
        "course": 90.0,
        "speed": 7.5,
    } | extra


async def test_tracks_carry_symbols_and_the_feed_default_label(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, feed_id = await _setup(ctx, operator, client)
    created = await client.post("/api/v1/tracks", headers=h["us"], json=_track(feed_id, "ddg-1"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["sidc"] == "SFSPCLCC-------"
    assert body["label"]["marking"] == "SECRET//REL TO USA, JPN"
    assert body["stale"] > body["start"]


async def test_a_japanese_reader_never_sees_a_noforn_track(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, feed_id = await _setup(ctx, operator, client)
    await client.post("/api/v1/tracks", headers=h["us"], json=_track(feed_id, "shared"))
    us_only = await client.post(
        "/api/v1/tracks", headers=h["us"], json=_track(feed_id, "us-only", label="SECRET//NOFORN")
    )
    assert us_only.status_code == 201
    us = {t["uid"] for t in (await client.get("/api/v1/tracks", headers=h["us"])).json()}
    jp = {t["uid"] for t in (await client.get("/api/v1/tracks", headers=h["jp"])).json()}
    assert us == {"shared", "us-only"} and jp == {"shared"}
    assert (await client.get("/api/v1/tracks", headers=h["outsider"])).json() == []
    hidden = await client.get("/api/v1/tracks/us-only/history", headers=h["jp"])
    assert hidden.status_code == 404


async def test_a_label_above_the_feed_ceiling_is_refused_and_logged(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, feed_id = await _setup(ctx, operator, client)
    refused = await client.post(
        "/api/v1/tracks",
        headers=h["admin"],
        json=_track(feed_id, "sub-1", label="TOP SECRET//NOFORN"),
    )
    assert refused.status_code == 403
    assert "above the ceiling" in refused.json()["reasons"][0]
    async with ctx.db.transaction(write=False) as tx:
        refusals = [r async for r in tx.audit.walk() if r.entry.action == "track.refused"]
    assert refusals and refusals[0].entry.object_id == "sub-1"
    bad = await client.post("/api/v1/tracks", headers=h["us"], json=_track(feed_id, "x", lat=91.0))
    assert bad.status_code == 422
    no_feed = await client.post("/api/v1/tracks", headers=h["us"], json=_track("nope", "x"))
    assert no_feed.status_code == 422


async def test_filters_by_bbox_type_and_feed(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, feed_id = await _setup(ctx, operator, client)
    await client.post("/api/v1/tracks", headers=h["us"], json=_track(feed_id, "yokosuka"))
    await client.post(
        "/api/v1/tracks",
        headers=h["us"],
        json=_track(feed_id, "naha", type="a-f-A-M-F", lat=26.2, lon=127.65),
    )
    south = await client.get("/api/v1/tracks", headers=h["us"], params={"bbox": "122,24,131,28"})
    assert [t["uid"] for t in south.json()] == ["naha"]
    air = await client.get("/api/v1/tracks", headers=h["us"], params={"types": "a-f-A"})
    assert [t["uid"] for t in air.json()] == ["naha"]
    by_feed = await client.get("/api/v1/tracks", headers=h["us"], params={"feed": feed_id})
    assert len(by_feed.json()) == 2
    bad = await client.get("/api/v1/tracks", headers=h["us"], params={"bbox": "1,2,3"})
    assert bad.status_code == 422


async def test_stale_tracks_leave_the_picture_and_stay_in_history(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, feed_id = await _setup(ctx, operator, client)
    for n in range(3):
        await client.post(
            "/api/v1/tracks",
            headers=h["us"],
            json=_track(feed_id, "ship", lat=35.0 + n / 10, stale_seconds=60),
        )
    real = ctx.clock
    ctx.clock = lambda: real() + timedelta(minutes=5)
    try:
        live = await client.get("/api/v1/tracks", headers=h["us"])
        assert live.json() == []
        everything = await client.get(
            "/api/v1/tracks", headers=h["us"], params={"include_stale": True}
        )
        assert [t["uid"] for t in everything.json()] == ["ship"]
        history = await client.get("/api/v1/tracks/ship/history", headers=h["us"])
        assert [p["lat"] for p in history.json()["positions"]] == [35.0, 35.1, 35.2]
    finally:
        ctx.clock = real


async def test_history_is_bounded(ctx: ServiceContext, operator: Actor) -> None:
    from datetime import UTC, datetime

    from kyodo.domain.tracks import Position
    from kyodo.labels import parse_marking
    from kyodo.services import tracks
    from kyodo.services.actor import person_actor
    from kyodo.services.identity import find_person

    from tests.support.factories import add_person as add

    admin = person_actor(
        await add(ctx, operator, "boss", clearance="SECRET", roles=("admin",)), "api"
    )
    feed = await tracks.create_feed(
        ctx, admin, name="f", ceiling=parse_marking("SECRET//NOFORN", ctx.registry)
    )
    now = datetime.now(UTC)
    ctx.track_history_limit = 5  # the `track_history` setting
    for n in range(12):
        await tracks.report_track(
            ctx,
            admin,
            feed.id,
            TrackReport(
                uid="t",
                type="a-f-G",
                callsign="T",
                position=Position(10.0 + n, 20.0, now),
                start=now,
                stale=now + timedelta(minutes=5),
            ),
            wait=n % 2 == 0,  # CoT reports are written behind their delivery, in order
        )
    await ctx.group_commit.flush()
    _, positions = await tracks.track_history(ctx, admin, "t")
    assert [p.lat for p in positions] == [17.0, 18.0, 19.0, 20.0, 21.0]
    assert (await find_person(ctx, "boss")).username == "boss"
