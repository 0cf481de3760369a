"""The TrackStore contract (services/ports.py), on each back-end: upserts keep the latest state, the
received bytes and the first reporter, the history is bounded and label-filtered, the list filters
in the query, and a deleted track leaves the picture but keeps its row and history until an upsert
brings it back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from kyodo.domain.tracks import Position, Track
from kyodo.errors import NotFound
from kyodo.policy import may_read
from kyodo.services.context import ServiceContext

from tests.store.contract import NOW, label, reader
from tests.store.test_feed_store import feed


def track(
    ctx: ServiceContext,
    uid: str,
    *,
    lat: float = 35.0,
    lon: float = 139.0,
    marking: str = "UNCLASSIFIED",
    minutes: int = 0,
    type: str = "a-f-S-C-L",
    feed_id: str = "f-tracks",
    originator: str = "reporter-1",
    source_xml: bytes | None = None,
) -> Track:
    at = NOW + timedelta(minutes=minutes)
    return Track(
        uid=uid,
        type=type,
        sidc="SFSPCL----",
        callsign=uid.upper(),
        position=Position(lat, lon, at, 10.0, 5.0, 5.0, 90.0, 3.5),
        start=at,
        stale=at + timedelta(minutes=10),
        label=label(ctx, marking),
        feed_id=feed_id,
        remarks=f"remarks of {uid}",
        how="m-g",
        detail_xml="<contact callsign='X'/>",
        updated_at=at,
        originator=originator,
        source_xml=source_xml,
    )


@pytest.fixture
async def feed_ready(ctx: ServiceContext) -> ServiceContext:
    async with ctx.db.transaction() as tx:
        await tx.feeds.add(feed(ctx, "f-tracks", "tracks"), NOW)
        await tx.feeds.add(feed(ctx, "f-other", "other"), NOW)
    return ctx


async def test_upsert_reports_first_sightings_and_keeps_the_originator(
    feed_ready: ServiceContext,
) -> None:
    ctx = feed_ready
    async with ctx.db.transaction() as tx:
        before = await tx.tracks.count()
        first = await tx.tracks.upsert_many(
            [track(ctx, "t1"), track(ctx, "t2"), track(ctx, "t1", lat=35.1, minutes=1)], 10
        )
    assert first == [True, True, False]  # t1's second report in the batch is an update
    # The received bytes are kept exactly (any byte, not only UTF-8 text).
    received = b"<?xml version='1.0'?>\n<event uid='t1'  time=\"x\">\xe6\x97\xa5\x00\xff</event>"
    moved = track(
        ctx,
        "t1",
        lat=36.0,
        minutes=2,
        marking="SECRET//NOFORN",
        originator="other",
        source_xml=received,
    )
    async with ctx.db.transaction() as tx:
        assert await tx.tracks.upsert_many([moved], 10) == [False]
        stored = await tx.tracks.stored(["t1", "t2", "missing"])
        assert await tx.tracks.count() == before + 2
    assert set(stored) == {"t1", "t2"}
    assert stored["t1"].label == label(ctx, "SECRET//NOFORN")
    assert stored["t1"].originator == "reporter-1" and stored["t1"].feed_id == "f-tracks"
    async with ctx.db.transaction(write=False) as tx:
        got = await tx.tracks.get("t1")
        with pytest.raises(NotFound):
            await tx.tracks.get("missing")
    assert got == replace(moved, originator="reporter-1")
    assert got.source_xml == received
    async with ctx.db.transaction() as tx:  # a report from the API: no received bytes
        await tx.tracks.upsert_many([track(ctx, "t1", minutes=3, marking="SECRET//NOFORN")], 10)
        assert (await tx.tracks.get("t1")).source_xml is None


async def test_history_is_bounded_oldest_first_and_filtered_by_label(
    feed_ready: ServiceContext,
) -> None:
    ctx = feed_ready
    markings = ["UNCLASSIFIED", "SECRET//NOFORN"]
    reports = [track(ctx, "h1", lat=30.0 + n, minutes=n, marking=markings[n % 2]) for n in range(6)]
    async with ctx.db.transaction() as tx:
        for report in reports:  # one at a time, as positions come in
            await tx.tracks.upsert_many([report], 4)
    us, jp = reader(ctx), reader(ctx, "JPN", "KIMITSU")
    async with ctx.db.transaction(write=False) as tx:
        everything = await tx.tracks.history("h1", us, 100)
        newest_two = await tx.tracks.history("h1", us, 2)
        japanese = await tx.tracks.history("h1", jp, 100)
        assert await tx.tracks.history("missing", us, 100) == []
    assert [p.lat for p in everything] == [32.0, 33.0, 34.0, 35.0]  # the newest 4, oldest first
    assert [p.lat for p in newest_two] == [34.0, 35.0]
    assert [p.lat for p in japanese] == [32.0, 34.0]  # the UNCLASSIFIED ones
    assert everything[-1] == replace(
        reports[-1].position, ce=everything[-1].ce, le=everything[-1].le
    )


async def test_list_filters_by_label_staleness_box_type_feed_and_time(
    feed_ready: ServiceContext,
) -> None:
    ctx = feed_ready
    made = [
        track(ctx, "l-a", lat=35.0, lon=139.0, marking="UNCLASSIFIED"),
        track(ctx, "l-b", lat=35.5, lon=139.5, marking="SECRET//NOFORN", type="a-h-G"),
        track(ctx, "l-c", lat=36.5, lon=140.5, marking="SECRET//REL TO USA, JPN", minutes=5),
        track(ctx, "l-d", lat=35.2, lon=139.2, minutes=-30, feed_id="f-other"),  # stale by NOW
    ]
    async with ctx.db.transaction() as tx:
        await tx.tracks.upsert_many(made, 10)
    us, jp = reader(ctx), reader(ctx, "JPN", "KIMITSU")

    async def uids(subject: object = us, **kw: object) -> list[str]:
        async with ctx.db.transaction(write=False) as tx:
            found = await tx.tracks.list(subject, now=NOW, **kw)  # type: ignore[arg-type]
        return [t.uid for t in found if t.uid.startswith("l-")]

    assert await uids() == ["l-a", "l-b", "l-c"]  # by uid; the stale one left out
    assert await uids(include_stale=True) == ["l-a", "l-b", "l-c", "l-d"]
    assert await uids(jp) == [t.uid for t in made[:3] if may_read(jp, t.label)] == ["l-a", "l-c"]
    assert await uids(bbox=(138.9, 34.9, 139.6, 35.6)) == ["l-a", "l-b"]
    assert await uids(type_prefixes=("a-h",)) == ["l-b"]
    assert await uids(type_prefixes=("a-h", "a-f-S")) == ["l-a", "l-b", "l-c"]
    assert await uids(include_stale=True, feed_id="f-other") == ["l-d"]
    assert await uids(since=NOW + timedelta(minutes=1)) == ["l-c"]
    assert await uids(limit=2) == ["l-a", "l-b"]


async def test_a_deleted_track_leaves_the_picture_and_keeps_its_row_and_history(
    feed_ready: ServiceContext,
) -> None:
    ctx = feed_ready
    async with ctx.db.transaction() as tx:
        await tx.tracks.upsert_many([track(ctx, "d1"), track(ctx, "d1", lat=35.5, minutes=1)], 10)
        await tx.tracks.upsert_many([track(ctx, "d2")], 10)
        before = await tx.tracks.count()
    us = reader(ctx)
    async with ctx.db.transaction() as tx:
        assert await tx.tracks.delete("d1", "deleter-1", NOW + timedelta(minutes=2))
        assert not await tx.tracks.delete("d1", "deleter-1", NOW)  # deleted already
        assert not await tx.tracks.delete("missing", "deleter-1", NOW)
    async with ctx.db.transaction(write=False) as tx:
        with pytest.raises(NotFound):
            await tx.tracks.get("d1")
        listed = [t.uid for t in await tx.tracks.list(us, now=NOW, include_stale=True)]
        stored = await tx.tracks.stored(["d1", "d2"])
        history = await tx.tracks.history("d1", us, 10)
        assert await tx.tracks.count() == before  # the row is kept
    assert "d1" not in listed and "d2" in listed
    assert stored["d1"].deleted and not stored["d2"].deleted
    assert stored["d1"].originator == "reporter-1"  # the uid is still its originator's
    assert [p.lat for p in history] == [35.0, 35.5]

    # An upsert of the uid (the service has checked it may update it) brings it back.
    async with ctx.db.transaction() as tx:
        assert await tx.tracks.upsert_many([track(ctx, "d1", lat=35.7, minutes=3)], 10) == [False]
    async with ctx.db.transaction(write=False) as tx:
        back = await tx.tracks.get("d1")
        assert not (await tx.tracks.stored(["d1"]))["d1"].deleted
        assert [p.lat for p in await tx.tracks.history("d1", us, 10)] == [35.0, 35.5, 35.7]
    assert back.position.lat == 35.7 and back.originator == "reporter-1"
