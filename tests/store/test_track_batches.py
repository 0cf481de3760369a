"""Position reports written in batches: latest state per uid, every position kept, one audit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from kyodo.domain.tracks import Position
from kyodo.labels import parse_marking
from kyodo.services import tracks
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person


async def test_a_batch_with_repeated_and_new_uids(ctx: ServiceContext, operator: Actor) -> None:
    admin = person_actor(
        await add_person(ctx, operator, "feeder", clearance="SECRET", roles=("admin",)), "api"
    )
    feed = await tracks.create_feed(
        ctx, admin, name="batch feed", ceiling=parse_marking("SECRET", ctx.registry)
    )
    now = datetime.now(UTC)

    def report(uid: str, n: int) -> tracks.TrackReport:
        return tracks.TrackReport(
            uid=uid,
            type="a-f-S-C",
            callsign=uid.upper(),
            position=Position(30.0 + n / 100, 130.0, now + timedelta(seconds=n)),
            start=now,
            stale=now + timedelta(minutes=5),
        )

    await tracks.report_track(ctx, admin, feed.id, report("old", 0))
    before = ctx.group_commit.batches
    # Without waiting, as the CoT listener does: these queue and go in few transactions.
    for n in range(1, 31):
        await tracks.report_track(ctx, admin, feed.id, report(("old", "new")[n % 2], n), wait=False)
    await ctx.group_commit.flush()
    await asyncio.sleep(0)
    assert ctx.group_commit.batches - before < 30
    listed = {t.uid: t for t in await tracks.list_tracks(ctx, admin)}
    assert listed["old"].position.lat == 30.30  # the latest of each uid wins
    assert listed["new"].position.lat == 30.29
    _, old_positions = await tracks.track_history(ctx, admin, "old")
    _, new_positions = await tracks.track_history(ctx, admin, "new")
    assert len(old_positions) == 16 and len(new_positions) == 15
    async with ctx.db.transaction(write=False) as tx:
        created = [
            r.entry.object_id async for r in tx.audit.walk() if r.entry.action == "track.create"
        ]
    assert created == ["old", "new"]  # the first sighting of each, once
