"""Over CoT: a report for a stored uid may not take its track over, and a peer sending refused
events is dropped and audited as counts, not one record per event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kyodo.domain.tracks import Position, Track, TrackReport
from kyodo.labels import parse_marking
from kyodo.services import tracks
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.takserver.server import TakServer

from tests.support.factories import add_person
from tests.takserver.test_tak_server import cot, plain, tak, tls

__all__ = ["tak"]


async def _victims(ctx: ServiceContext, operator: Actor) -> dict[str, Track]:
    """A SECRET//NOFORN track reported by an American, a 極秘//日本限り one by a Japanese
    officer, each in a feed of its own (as the demo's USS Blue Ridge and Amami)."""
    us = person_actor(await add_person(ctx, operator, "us.src", clearance="SECRET"), "api")
    jp = person_actor(
        await add_person(ctx, operator, "jp.src", nation="JPN", clearance="GOKUHI"), "api"
    )
    now = datetime.now(UTC)
    found: dict[str, Track] = {}
    for actor, feed_name, ceiling, uid in (
        (us, "USFJ", "SECRET//NOFORN", "blue-ridge"),
        (jp, "JSDF", "極秘//日本限り", "amami"),
    ):
        feed = await tracks.create_feed(
            ctx, operator, name=feed_name, ceiling=parse_marking(ceiling, ctx.registry)
        )
        found[uid] = await tracks.report_track(
            ctx,
            actor,
            feed.id,
            TrackReport(
                uid=uid,
                type="a-f-S-C-L-CC",
                callsign=uid.upper(),
                position=Position(35.29, 139.67, now),
                start=now,
                stale=now + timedelta(hours=1),
                label=parse_marking(ceiling, ctx.registry),
            ),
        )
    return found


async def _stored(ctx: ServiceContext) -> dict[str, Track]:
    async with ctx.db.transaction(write=False) as tx:
        return {uid: await tx.tracks.get(uid) for uid in ("blue-ridge", "amami")}


Denial = tuple[str, str, str, dict[str, Any]]


async def _audit(ctx: ServiceContext) -> list[Denial]:
    async with ctx.db.transaction(write=False) as tx:
        return [
            (r.entry.actor, r.entry.action, r.entry.object_id, r.entry.details)
            async for r in tx.audit.walk()
            if r.entry.decision == "deny"
        ]


async def _eventually(
    ctx: ServiceContext, wanted: Callable[[Denial], bool], count: int
) -> list[Denial]:
    """The deny records `wanted` picks, once there are `count` of them (written behind)."""
    async with asyncio.timeout(10):
        while True:
            found = [a for a in await _audit(ctx) if wanted(a)]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)


async def test_cot_reports_cannot_hijack_tracks_their_sender_may_not_update(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    victims = await _victims(ctx, operator)
    await add_person(ctx, operator, "us.watch", clearance="SECRET")
    await add_person(ctx, operator, "jp.watch", nation="JPN", clearance="GOKUHI")
    await add_person(ctx, operator, "us.other", clearance="SECRET")
    await add_person(ctx, operator, "jp.other", nation="JPN", clearance="GOKUHI")
    us_watch = await tls(tak, tmp_path, "us.watch", ctx, operator)
    jp_watch = await tls(tak, tmp_path, "jp.watch", ctx, operator)
    await us_watch.expect(1), await jp_watch.expect(1)  # the snapshot: the track each may read
    us_other = await tls(tak, tmp_path, "us.other", ctx, operator)
    jp_other = await tls(tak, tmp_path, "jp.other", ctx, operator)
    anyone = await plain(tak)

    # An unauthenticated client (USA, UNCLASSIFIED), and cleared people of the other nation,
    # each in the CoT feed, hostile, somewhere else.
    anyone.send(cot("blue-ridge", lat=10.0).replace(b"a-f-S", b"a-h-S"))
    anyone.send(cot("amami", lat=10.0))
    jp_other.send(cot("blue-ridge", lat=11.0, access="SECRET", relto="USA JPN"))
    us_other.send(cot("amami", lat=12.0, access="SECRET", relto="USA JPN"))
    for peer in (anyone, jp_other, us_other):
        await peer.writer.drain()
    await us_watch.quiet(), await jp_watch.quiet()  # no fake reached a cleared reader

    await ctx.group_commit.flush()
    assert await _stored(ctx) == victims
    for peer in (anyone, jp_other, us_other, us_watch, jp_watch):
        peer.close()
    updates = await _eventually(ctx, lambda a: a[1] == "track.update", 3)
    # One record per refusal for each person; the plain client's second is in a count.
    assert sorted((actor, uid) for actor, _, uid, _ in updates) == [
        ("cot:plain", "blue-ridge"),
        ("jp.other", "blue-ridge"),
        ("us.other", "amami"),
    ]
    counted = await _eventually(ctx, lambda a: a[1] == "refusals.counted", 1)
    assert [(a[0], a[3]["count"]) for a in counted] == [("cot:plain", 1)]


async def test_a_flood_of_refused_events_is_dropped_and_audited_as_counts(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    await _victims(ctx, operator)
    limit = tak.settings.cot_max_refusals
    flooder = await plain(tak)
    for n in range(300):  # refused by policy: above what plain TCP may write, or a hijack
        flooder.send(cot(f"s{n}", access="SECRET") if n % 2 else cot("blue-ridge"))
    await flooder.writer.drain()
    async with asyncio.timeout(5):
        while await flooder.reader.read(65536):
            pass  # the server closes the connection
    flooder.close()
    await _eventually(ctx, lambda a: a[1] == "refusals.counted", 1)
    records = [a for a in await _audit(ctx) if a[0] == "cot:plain"]
    # The first refusal in full, the rest counted in one record, and nothing beyond the limit.
    assert len(records) == 2
    first, counted = records
    assert first[1] == "track.update" and first[3]["connection"] == counted[2]
    assert counted[1] == "refusals.counted"
    assert 1 + counted[3]["count"] == limit
    assert sum(counted[3]["actions"].values()) == counted[3]["count"]


async def test_counts_are_written_per_interval(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    tak.settings = tak.settings.model_copy(
        update={"cot_refusal_audit_seconds": 1.0, "cot_max_refusals": 100}
    )
    await _victims(ctx, operator)
    peer = await plain(tak)
    try:
        for interval in range(1, 4):
            for _ in range(5):
                peer.send(cot("blue-ridge"))
            await peer.writer.drain()
            # The interval's count is written when it ends, without waiting for more refusals;
            # waiting for it (not for a fixed time) keeps the test true on a loaded machine.
            await _eventually(
                ctx, lambda a: a[0] == "cot:plain" and a[1] == "refusals.counted", interval
            )
        records = [a for a in await _audit(ctx) if a[0] == "cot:plain"]
        assert [a[1] for a in records] == ["track.update", "refusals.counted"] * 3
        assert sum(1 + a[3]["count"] for a in records if a[1] == "refusals.counted") == 15
    finally:
        peer.close()
