"""The operational picture over HTTP: feeds, tracks (filtered by what you may read), history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from kyodo.api.deps import Context, CurrentActor
from kyodo.api.labels_in import optional_label, to_label
from kyodo.api.params import iso_time
from kyodo.api.schemas import (
    FeedIn,
    FeedOut,
    LabelOut,
    PositionOut,
    TrackHistoryOut,
    TrackIn,
    TrackOut,
)
from kyodo.api.track_json import track_json
from kyodo.cot.geometry import route_uids
from kyodo.domain.tracks import Feed, Position, Track, TrackReport
from kyodo.errors import InvalidInput
from kyodo.services import tracks
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

router = APIRouter(tags=["picture"])


def _feed_out(ctx: ServiceContext, feed: Feed) -> FeedOut:
    return FeedOut(
        id=feed.id,
        name=feed.name,
        description=feed.description,
        ceiling=LabelOut.of(feed.ceiling, ctx.registry),
        entry=LabelOut.of(feed.entry, ctx.registry),
        default_label=LabelOut.of(feed.default_label, ctx.registry),
    )


@router.get("/feeds", response_model=list[FeedOut])
async def list_feeds(actor: CurrentActor, ctx: Context) -> list[FeedOut]:
    """Feeds whose entry label you may read."""
    return [_feed_out(ctx, f) for f in await tracks.list_feeds(ctx, actor)]


@router.post("/feeds", response_model=FeedOut, status_code=201)
async def create_feed(body: FeedIn, actor: CurrentActor, ctx: Context) -> FeedOut:
    """Add a feed (admins)."""
    feed = await tracks.create_feed(
        ctx,
        actor,
        name=body.name,
        description=body.description,
        ceiling=to_label(ctx, body.ceiling),
        entry=optional_label(ctx, body.entry),
        default_label=optional_label(ctx, body.default_label),
    )
    return _feed_out(ctx, feed)


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise InvalidInput("bbox is four numbers: min_lon,min_lat,max_lon,max_lat") from None
    if len(parts) != 4:
        raise InvalidInput("bbox is four numbers: min_lon,min_lat,max_lon,max_lat")
    return parts[0], parts[1], parts[2], parts[3]


@router.get("/tracks", response_model=list[TrackOut])
async def list_tracks(
    actor: CurrentActor,
    ctx: Context,
    bbox: Annotated[
        str | None, Query(max_length=100, description="min_lon,min_lat,max_lon,max_lat")
    ] = None,
    types: Annotated[
        list[str] | None, Query(max_length=20, description="CoT type prefixes")
    ] = None,
    feed: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    include_stale: bool = False,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[TrackOut]:
    """The live picture you may read; stale tracks only with include_stale."""
    found = await tracks.list_tracks(
        ctx,
        actor,
        bbox=_bbox(bbox),
        types=types or (),
        feed_id=feed,
        since=iso_time(since),
        include_stale=include_stale,
        limit=limit,
    )
    return await _rendered(ctx, actor, found)


async def _rendered(ctx: ServiceContext, actor: Actor, found: Sequence[Track]) -> list[TrackOut]:
    """The tracks as TrackOut, routes with the waypoints they name by uid alone placed where
    the caller may read them (the others are left out of the route's line)."""
    known = {t.uid: (t.position.lat, t.position.lon) for t in found}
    wanted = {uid for t in found if t.type == "b-m-r" for uid in route_uids(t.detail_xml)}
    if wanted - known.keys():
        known |= await tracks.readable_positions(ctx, actor, wanted - known.keys())
    return [TrackOut.model_validate(track_json(t, ctx.registry, known)) for t in found]


@router.post("/tracks", response_model=TrackOut, status_code=201)
async def report_track(body: TrackIn, actor: CurrentActor, ctx: Context) -> TrackOut:
    """Report a position (for programs without TAK): refused above the feed's ceiling."""
    now = ctx.clock()
    report = TrackReport(
        uid=body.uid,
        type=body.type,
        callsign=body.callsign,
        position=Position(
            body.lat, body.lon, now, body.hae, body.ce, body.le, body.course, body.speed
        ),
        start=now,
        stale=now + timedelta(seconds=body.stale_seconds),
        label=optional_label(ctx, body.label),
        remarks=body.remarks,
        how="h-e",
    )
    track = await tracks.report_track(ctx, actor, body.feed_id, report)
    (out,) = await _rendered(ctx, actor, [track])
    return out


@router.delete("/tracks/{uid}", status_code=204)
async def delete_track(
    uid: Annotated[str, Path(max_length=200)], actor: CurrentActor, ctx: Context
) -> None:
    """Take a track off the picture (its originator or a writer of its feed; 404 if you may
    not read it). Its history is kept; a new report for its uid brings it back."""
    await tracks.delete_track(ctx, actor, uid)


@router.get("/tracks/{uid}/history", response_model=TrackHistoryOut)
async def track_history(
    uid: str, actor: CurrentActor, ctx: Context, limit: Annotated[int, Query(ge=1, le=10000)] = 500
) -> TrackHistoryOut:
    """A track's positions, oldest first (404 if you may not read it)."""
    track, positions = await tracks.track_history(ctx, actor, uid, limit)
    return TrackHistoryOut(
        track=(await _rendered(ctx, actor, [track]))[0],
        positions=[
            PositionOut(
                lat=p.lat,
                lon=p.lon,
                hae=p.hae,
                course=p.course,
                speed=p.speed,
                time=p.time.isoformat(),
            )
            for p in positions
        ],
    )
