"""Position reports written in batches: latest state per uid, every position kept, one audit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from kyodo.domain.tracks import Position, TrackReport
from kyodo.labels import parse_marking, render_marking
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

    def report(uid: str, n: int) -> TrackReport:
        return TrackReport(
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


async def test_a_hijack_in_the_same_batch_as_the_first_sighting_is_refused(
    ctx: ServiceContext, operator: Actor
) -> None:
    from kyodo.bus.events import Event, TrackChanged
    from kyodo.errors import PermissionDenied
    from kyodo.policy import make_subject

    us = person_actor(await add_person(ctx, operator, "us.src", clearance="SECRET"), "api")
    plain = Actor(
        make_subject(ctx.registry, id="cot:plain", nation="USA", clearance="UNCLASSIFIED"),
        "cot:plain",
        "cot",
    )
    feed = await tracks.create_feed(
        ctx, operator, name="race", ceiling=parse_marking("SECRET//NOFORN", ctx.registry)
    )
    now = datetime.now(UTC)
    published: list[Event] = []
    ctx.bus.subscribe(published.append)

    def report(label: str, lat: float) -> TrackReport:
        return TrackReport(
            uid="contested",
            type="a-f-S-C",
            callsign="C",
            position=Position(lat, 130.0, now),
            start=now,
            stale=now + timedelta(minutes=5),
            label=parse_marking(label, ctx.registry),
        )

    # Both are queued before either is written: they go in one batch, in this order, and the
    # second is checked against what the first stores (not against the empty table).
    outcomes = await asyncio.gather(
        tracks.report_track(ctx, us, feed.id, report("SECRET//NOFORN", 30.0), wait=False),
        tracks.report_track(ctx, plain, feed.id, report("UNCLASSIFIED", 10.0), wait=False),
        return_exceptions=True,
    )
    assert not isinstance(outcomes[0], BaseException)
    assert isinstance(outcomes[1], PermissionDenied)
    await ctx.group_commit.flush()
    async with ctx.db.transaction(write=False) as tx:
        stored = await tx.tracks.get("contested")
        actions = [(r.entry.actor, r.entry.action) async for r in tx.audit.walk()]
    assert render_marking(stored.label, ctx.registry) == "SECRET//NOFORN"
    assert stored.position.lat == 30.0
    assert [e.track.position.lat for e in published if isinstance(e, TrackChanged) and e.track] == [
        30.0
    ]
    assert ("cot:plain", "track.update") in actions


async def test_the_originators_position_is_published_before_it_is_written(
    ctx: ServiceContext, operator: Actor
) -> None:
    from kyodo.bus.events import Event, TrackChanged

    us = person_actor(await add_person(ctx, operator, "us.fast", clearance="SECRET"), "api")
    feed = await tracks.create_feed(
        ctx, operator, name="fast", ceiling=parse_marking("SECRET//NOFORN", ctx.registry)
    )
    now = datetime.now(UTC)
    published: list[Event] = []
    ctx.bus.subscribe(published.append)

    def report(lat: float, label: str = "SECRET//NOFORN") -> TrackReport:
        return TrackReport(
            uid="own",
            type="a-f-S-C",
            callsign="OWN",
            position=Position(lat, 130.0, now),
            start=now,
            stale=now + timedelta(minutes=5),
            label=parse_marking(label, ctx.registry),
        )

    await tracks.report_track(ctx, us, feed.id, report(1.0), wait=False)  # first: waits
    batches = ctx.group_commit.batches
    await tracks.report_track(ctx, us, feed.id, report(2.0), wait=False)
    # Published at once: the batch has not even started.
    assert ctx.group_commit.batches == batches
    assert [e.track.position.lat for e in published if isinstance(e, TrackChanged) and e.track] == [
        1.0,
        2.0,
    ]
    # Another label is not the hot path: it waits for the write, which refuses a lower one.
    from kyodo.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        await tracks.report_track(
            ctx, us, feed.id, report(3.0, "SECRET//REL TO USA, JPN"), wait=False
        )
    await ctx.group_commit.flush()
    async with ctx.db.transaction(write=False) as tx:
        assert (await tx.tracks.get("own")).position.lat == 2.0
