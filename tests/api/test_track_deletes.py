"""Deleting a track over REST: only who may update it, refusals audited and hidden from those who
may not read it, the track off the picture but its row and history kept, back on a new report."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx

from kyodo.bus.events import Event, TrackChanged, TrackDeleted
from kyodo.domain.tracks import Position, TrackReport
from kyodo.labels import parse_marking
from kyodo.policy import make_subject
from kyodo.policy.tracks import TrackFacts
from kyodo.services import tracks
from kyodo.services.access import audit_entry
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.services.track_writes import Report, write_reports

from tests.support.factories import add_person, bearer


async def _setup(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> tuple[dict[str, dict[str, str]], str]:
    await add_person(ctx, operator, "admin", clearance="TOP SECRET", roles=("admin",))
    await add_person(ctx, operator, "us", clearance="SECRET")  # the originator
    await add_person(ctx, operator, "us.writer", clearance="SECRET")  # cleared for the ceiling
    await add_person(ctx, operator, "jp", nation="JPN", clearance="GOKUHI")
    await add_person(ctx, operator, "outsider", clearance="UNCLASSIFIED")
    h = {n: await bearer(client, n) for n in ("admin", "us", "us.writer", "jp", "outsider")}
    feed = await client.post(
        "/api/v1/feeds",
        headers=h["admin"],
        json={
            "name": "surface",
            "ceiling": "SECRET//NOFORN",
            "entry": "UNCLASSIFIED",
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
    } | extra


async def _listed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get("/api/v1/tracks", headers=headers)
    assert response.status_code == 200, response.text
    return [t["uid"] for t in response.json()]


async def _audit(ctx: ServiceContext, action: str) -> list[tuple[str, str, str]]:
    async with ctx.db.transaction(write=False) as tx:
        return [
            (r.entry.actor, r.entry.decision, r.entry.object_id)
            async for r in tx.audit.walk()
            if r.entry.action == action
        ]


async def test_the_originator_deletes_a_track_and_a_new_report_brings_it_back(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, feed_id = await _setup(ctx, operator, client)
    for lat in (35.1, 35.2):
        made = await client.post(
            "/api/v1/tracks", headers=h["us"], json=_track(feed_id, "ddg-1", lat=lat)
        )
        assert made.status_code == 201, made.text
    published: list[Event] = []
    ctx.bus.subscribe(published.append)

    gone = await client.delete("/api/v1/tracks/ddg-1", headers=h["us"])

    assert gone.status_code == 204, gone.text
    assert await _listed(client, h["us"]) == await _listed(client, h["jp"]) == []
    history = await client.get("/api/v1/tracks/ddg-1/history", headers=h["us"])
    assert history.status_code == 404  # off the picture…
    reader = make_subject(ctx.registry, id="r", nation="USA", clearance="SECRET")
    async with ctx.db.transaction(write=False) as tx:  # …but its history is kept
        assert [p.lat for p in await tx.tracks.history("ddg-1", reader, 10)] == [35.1, 35.2]
    (deleted,) = [e for e in published if isinstance(e, TrackDeleted)]
    assert deleted.track.uid == "ddg-1" and deleted.track.position.lat == 35.2
    assert (await client.delete("/api/v1/tracks/ddg-1", headers=h["us"])).status_code == 404

    back = await client.post(
        "/api/v1/tracks", headers=h["us"], json=_track(feed_id, "ddg-1", lat=35.3)
    )
    assert back.status_code == 201, back.text
    assert await _listed(client, h["jp"]) == ["ddg-1"]
    assert await _audit(ctx, "track.delete") == [("us", "allow", "ddg-1")]
    # The first sighting and the return are both on record.
    assert await _audit(ctx, "track.create") == [("us", "allow", "ddg-1")] * 2


async def test_only_who_may_update_a_track_may_delete_it(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, feed_id = await _setup(ctx, operator, client)
    for uid, label in (("shared", "SECRET//REL TO USA, JPN"), ("noforn", "SECRET//NOFORN")):
        made = await client.post(
            "/api/v1/tracks", headers=h["us"], json=_track(feed_id, uid, label=label)
        )
        assert made.status_code == 201, made.text
    published: list[Event] = []
    ctx.bus.subscribe(published.append)

    # Reads it, but neither its originator nor cleared for the feed's ceiling.
    refused = await client.delete("/api/v1/tracks/shared", headers=h["jp"])
    # May not read it: answered as a missing track is, byte for byte.
    hidden = await client.delete("/api/v1/tracks/noforn", headers=h["jp"])
    missing = await client.delete("/api/v1/tracks/nofor0", headers=h["jp"])
    outsider = await client.delete("/api/v1/tracks/shared", headers=h["outsider"])

    assert refused.status_code == 403
    assert "NOFORN" not in refused.text and "surface" not in refused.text
    assert hidden.status_code == missing.status_code == outsider.status_code == 404
    assert hidden.content == missing.content.replace(b"nofor0", b"noforn")
    assert await _listed(client, h["us"]) == ["noforn", "shared"]  # both still there
    assert not [e for e in published if isinstance(e, TrackDeleted)]
    assert await _audit(ctx, "track.delete") == [
        ("jp", "deny", "shared"),
        ("jp", "deny", "noforn"),
        ("outsider", "deny", "shared"),
    ]

    # A writer of the feed (cleared for its ceiling) may delete what others reported.
    assert (await client.delete("/api/v1/tracks/noforn", headers=h["us.writer"])).status_code == 204
    assert await _listed(client, h["us"]) == ["shared"]


async def test_a_position_made_before_the_delete_does_not_bring_the_track_back(
    ctx: ServiceContext, operator: Actor
) -> None:
    # A CoT position from the originator is published at once and written behind: a delete
    # that commits before that write must win over it.
    feed = await tracks.create_feed(
        ctx, operator, name="behind", ceiling=parse_marking("SECRET//NOFORN", ctx.registry)
    )
    us = person_actor(await add_person(ctx, operator, "us", clearance="SECRET"), "cot")
    now = ctx.clock()
    report = TrackReport(
        "behind-1", "a-f-G", "B1", Position(35.0, 139.0, now), now, now + timedelta(minutes=5)
    )
    made = await tracks.report_track(ctx, us, feed.id, report)
    behind = replace(made, position=Position(35.1, 139.0, now), updated_at=ctx.clock())
    item = Report(
        behind,
        TrackFacts(made.label, feed.container(), us.subject.id),
        us,
        audit_entry(ctx, us, "track.create", "track", made.uid, made.label),
        True,
        TrackChanged(behind),
    )
    await tracks.delete_track(ctx, us, "behind-1")

    await write_reports(ctx, [item])  # the write behind, after the delete committed

    assert await tracks.list_tracks(ctx, operator) == []
    # A position made after the delete brings it back.
    await write_reports(ctx, [replace(item, track=replace(behind, updated_at=ctx.clock()))])
    assert [t.uid for t in await tracks.list_tracks(ctx, operator)] == ["behind-1"]
