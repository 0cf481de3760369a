"""Feeds and tracks of the common operational picture: labelled, ceiling-checked, history kept."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import structlog

from kyodo.bus.events import TrackChanged
from kyodo.domain.identity import Role
from kyodo.domain.symbols import sidc_for
from kyodo.domain.tracks import Feed, Position, Track
from kyodo.errors import InvalidInput, NotFound
from kyodo.labels import join_all, label_to_dict, render_marking
from kyodo.policy import Action, Decision, Resource
from kyodo.policy.tracks import TrackFacts, may_update_track
from kyodo.services.access import audit_entry, enforce, refusal_entry, require, require_role

log = structlog.get_logger(__name__)

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Sequence
    from datetime import datetime

    from kyodo.audit.chain import AuditEntry
    from kyodo.labels import Label
    from kyodo.policy import Container
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import UnitOfWork

_TYPE = re.compile(r"^[a-zA-Z0-9]+(-[a-zA-Z0-9.]+)*$")
_UID = re.compile(r"^[\w.:\-@/]{1,200}$")


def track_payload(ctx: ServiceContext, track: Track) -> dict[str, Any]:
    """A track as clients see it (the API's and the live stream's form)."""
    p = track.position
    return {
        "uid": track.uid,
        "type": track.type,
        "sidc": track.sidc,
        "callsign": track.callsign,
        "lat": p.lat,
        "lon": p.lon,
        "hae": p.hae,
        "ce": p.ce,
        "le": p.le,
        "course": p.course,
        "speed": p.speed,
        "time": p.time.isoformat(),
        "start": track.start.isoformat(),
        "stale": track.stale.isoformat(),
        "how": track.how,
        "remarks": track.remarks,
        "feed_id": track.feed_id,
        "label": label_to_dict(track.label, ctx.registry),
    }


async def create_feed(
    ctx: ServiceContext,
    actor: Actor,
    *,
    name: str,
    ceiling: Label,
    entry: Label | None = None,
    default_label: Label | None = None,
    description: str = "",
) -> Feed:
    """Admins add a feed; they must be able to read its ceiling."""
    entry = entry or ceiling
    default_label = default_label or entry
    if not ceiling.dominates(entry) or not ceiling.dominates(default_label):
        raise InvalidInput("the entry and default labels must be dominated by the ceiling")
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("a feed name has 1-100 characters")
    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action="feed.create",
        object_type="feed",
        object_id=name,
        label=ceiling,
    )
    feed = Feed(uuid.uuid4().hex, name, ceiling, entry, default_label, description)
    async with ctx.db.transaction() as tx:
        await tx.feeds.add(feed, ctx.clock())
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "feed.create",
                "feed",
                feed.id,
                ceiling,
                name=name,
                default=render_marking(default_label, ctx.registry),
            )
        )
    return feed


async def list_feeds(ctx: ServiceContext, actor: Actor) -> Sequence[Feed]:
    """Feeds whose entry label the actor may read."""
    async with ctx.db.transaction(write=False) as tx:
        found = await tx.feeds.list()
    return [f for f in found if ctx.decisions.can_read(actor.subject, f.entry)]


async def find_feed(ctx: ServiceContext, name_or_id: str) -> Feed:
    """A feed by name or id (NotFound otherwise)."""
    async with ctx.db.transaction(write=False) as tx:
        try:
            return await tx.feeds.get_by_name(name_or_id)
        except NotFound:
            return await tx.feeds.get(name_or_id)


@dataclass(frozen=True, slots=True)
class TrackReport:
    """A position report, from the API or a CoT event."""

    uid: str
    type: str
    callsign: str
    position: Position
    start: datetime
    stale: datetime
    label: Label | None = None
    remarks: str = ""
    how: str = "m-g"
    detail_xml: str = ""


# What a reporter is told when a report may not update the track of its uid: the same words
# whichever rule failed and whatever is stored, so a refusal tells nothing about the track.
UPDATE_REFUSED = ("the report may not update the track with this uid",)


async def report_track(
    ctx: ServiceContext,
    actor: Actor,
    feed_id: str,
    report: TrackReport,
    *,
    origin: str | None = None,
    wait: bool = True,
) -> Track:
    """Store a position report in a feed: the feed's default label if none is given, refused
    (and audited) above the feed's ceiling or if the reporter cannot read the label, and,
    for a uid already stored, unless `policy.may_update_track` allows the reporter to update
    that track (checked against the stored track in the write's transaction).

    With `wait` the report is stored before it is published. Without (CoT feeds), a position
    from the track's own originator, with the label and feed it has (`TrackOwners`), is
    published at once and written with the next batch: a position is live for seconds, and
    waiting for the disk would put the database between every sender and every receiver.
    Any other report waits for its write and is published only if it was stored."""
    if not _UID.match(report.uid):
        raise InvalidInput("a track uid is 1-200 letters, digits or . : - _ @ /")
    if not _TYPE.match(report.type) or len(report.type) > 100:
        raise InvalidInput(f"{report.type!r} is not a CoT type (e.g. a-f-S-C-L-CC)")
    if report.stale < report.start:
        raise InvalidInput("stale must not be before start")
    feed = await _feed(ctx, feed_id)
    # The refusals below name the feed and its ceiling: only to those who may read the feed.
    withheld = None if ctx.decisions.can_read(actor.subject, feed.entry) else UPDATE_REFUSED
    label = report.label or feed.default_label
    if not feed.ceiling.dominates(label):
        reason = f"label is above the ceiling of feed {feed.name}"
        await enforce(
            ctx,
            actor,
            Decision(False, (reason,), ("ceiling",)),
            audit_action="track.refused",
            object_type="track",
            object_id=report.uid,
            label=ctx.registry.fit(join_all(label, feed.entry)),  # it names the feed
            message=f"track {report.uid} refused",
            answer=withheld,
            feed=feed.name,
        )
    await enforce(
        ctx,
        actor,
        ctx.decisions.decide(
            actor.subject, Action.WRITE, Resource(label, container=feed.container())
        ),
        audit_action="track.report",
        object_type="track",
        object_id=report.uid,
        label=ctx.registry.fit(join_all(label, feed.entry)),
        answer=withheld,
    )
    track = Track(
        uid=report.uid,
        type=report.type,
        sidc=sidc_for(report.type),
        callsign=report.callsign[:200],
        position=report.position,
        start=report.start,
        stale=report.stale,
        label=label,
        feed_id=feed.id,
        remarks=report.remarks,
        how=report.how,
        detail_xml=report.detail_xml,
        updated_at=ctx.clock(),
        originator=actor.subject.id,
    )
    # Positions are not audited one by one (a feed sends many per second); the first sighting
    # and every refusal are.
    first = audit_entry(
        ctx, actor, "track.create", "track", track.uid, label, feed=feed.name, type=track.type
    )
    owners = ctx.track_owners
    facts = TrackFacts(label, feed.container(), actor.subject.id)
    published = not wait and owners.settled(track.uid, facts)
    changed = TrackChanged(track.uid, label, track_payload(ctx, track), track, origin=origin)
    item = _Report(track, facts, actor, first, published, changed)

    async def write(batch: Sequence[_Report]) -> list[_Outcome]:
        return await _write_reports(ctx, batch)

    if published:
        # The originator's own position, as this process last committed it: on the bus at
        # once, written behind (the one event published before its commit; a failed write
        # loses a position, never a refusal).
        stored = ctx.group_commit.enqueue("track.report", write, item)
        stored.add_done_callback(_log_failed_write)
        await ctx.bus.publish(changed)
        return track
    owners.unsettle(track.uid)
    try:
        outcome = await ctx.group_commit.enqueue("track.report", write, item)
    finally:
        owners.settle(track.uid)
    if outcome.refused is not None:
        await enforce(
            ctx,
            actor,
            outcome.refused,
            audit_action="track.update",
            object_type="track",
            object_id=track.uid,
            label=outcome.stored_label or label,
            answer=UPDATE_REFUSED,
            feed=facts.feed.name,
            reported=render_marking(facts.label, ctx.registry),
        )
    return track  # published by the write's transaction, after its commit


@dataclass(frozen=True, slots=True)
class _Report:
    track: Track
    facts: TrackFacts  # the track's label and feed as reported, and who reports it
    actor: Actor
    first_sighting: AuditEntry  # appended only if the uid is new
    published: bool  # already on the bus: a refusal is audited with the write
    changed: TrackChanged  # what the bus gets once the write has committed (unless published)


@dataclass(frozen=True, slots=True)
class _Outcome:
    created: bool = False
    refused: Decision | None = None  # may_update_track's refusal
    stored_label: Label | None = None  # the label of the track it would have updated


async def _write_reports(ctx: ServiceContext, batch: Sequence[_Report]) -> list[_Outcome]:
    """One transaction: each report checked, in order, against the track as stored (and as
    the reports before it in the batch left it), then the allowed ones written."""
    uids = list(dict.fromkeys(r.track.uid for r in batch))
    outcomes: list[_Outcome] = []
    allowed: list[_Report] = []
    async with ctx.db.transaction() as tx:
        stored = await tx.tracks.stored(uids)
        known = set(stored)
        current: dict[str, TrackFacts] = {}
        for uid, row in stored.items():
            current[uid] = TrackFacts(
                row.label, await _container(ctx, tx, row.feed_id), row.originator
            )
        refusals: list[AuditEntry] = []
        for item in batch:
            uid = item.track.uid
            before = current.get(uid)
            if before is None:  # a first sighting: the reporter becomes the originator
                current[uid] = item.facts
                outcomes.append(_Outcome(created=True))
                allowed.append(item)
                continue
            decision = may_update_track(item.actor.subject, before, item.facts)
            if not decision.allowed:
                outcomes.append(_Outcome(refused=decision, stored_label=before.label))
                if item.published:  # nobody waits for it: audit the refusal with the write
                    refusals.append(
                        refusal_entry(
                            ctx,
                            item.actor,
                            decision,
                            audit_action="track.update",
                            object_type="track",
                            object_id=uid,
                            label=before.label,
                            feed=item.facts.feed.name,
                            reported=render_marking(item.facts.label, ctx.registry),
                        )
                    )
                continue
            current[uid] = TrackFacts(item.facts.label, before.feed, before.originator)
            outcomes.append(_Outcome())
            allowed.append(item)
        created = await tx.tracks.upsert_many(
            [r.track for r in allowed], ctx.track_history_limit, known
        )
        firsts = [r.first_sighting for r, new in zip(allowed, created, strict=True) if new]
        if firsts or refusals:
            await tx.audit.append_many([*firsts, *refusals])
        for item in allowed:
            if not item.published:
                tx.publish(item.changed)
        tx.after_commit(partial(_remember_owners, ctx, batch, outcomes, allowed, current))
    return outcomes


def _remember_owners(
    ctx: ServiceContext,
    batch: Sequence[_Report],
    outcomes: Sequence[_Outcome],
    allowed: Sequence[_Report],
    current: dict[str, TrackFacts],
) -> None:
    owners = ctx.track_owners
    for item, outcome in zip(batch, outcomes, strict=True):
        if outcome.refused is not None:
            owners.forget(item.track.uid)
    for uid in {r.track.uid for r in allowed}:
        owners.stored(uid, current[uid])


async def _container(ctx: ServiceContext, tx: UnitOfWork, feed_id: str) -> Container:
    cached = ctx.reads.feeds.get(feed_id)
    if isinstance(cached, Feed):
        return cached.container()
    return (await tx.feeds.get(feed_id)).container()


def _log_failed_write(stored: asyncio.Future[_Outcome]) -> None:
    if stored.cancelled():
        return
    error = stored.exception()
    if error is not None:
        log.error("a position report could not be stored", error=str(error))
    elif stored.result().refused is not None:
        log.warning("a published position report was refused when written")


async def _feed(ctx: ServiceContext, feed_id: str) -> Feed:
    return await ctx.reads.feeds.fetch(feed_id, lambda: _read_feed(ctx, feed_id))


async def _read_feed(ctx: ServiceContext, feed_id: str) -> Feed:
    async with ctx.db.transaction(write=False) as tx:
        try:
            return await tx.feeds.get(feed_id)
        except NotFound:
            raise InvalidInput(f"no feed {feed_id!r}") from None


async def list_tracks(
    ctx: ServiceContext,
    actor: Actor,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    types: Sequence[str] = (),
    feed_id: str | None = None,
    since: datetime | None = None,
    include_stale: bool = False,
    limit: int = 1000,
) -> Sequence[Track]:
    """The live picture (or, with include_stale, every track) the actor may read."""
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise InvalidInput("bbox is min_lon,min_lat,max_lon,max_lat within -180..180/-90..90")
    if not 1 <= limit <= 5000:
        raise InvalidInput("limit must be between 1 and 5000")
    async with ctx.db.transaction(write=False) as tx:
        return await tx.tracks.list(
            actor.subject,
            now=ctx.clock(),
            include_stale=include_stale,
            bbox=bbox,
            type_prefixes=types,
            feed_id=feed_id,
            since=since,
            limit=limit,
        )


async def track_history(
    ctx: ServiceContext, actor: Actor, uid: str, limit: int = 500
) -> tuple[Track, Sequence[Position]]:
    """A readable track and its newest positions (those the actor may read), oldest first."""
    if not 1 <= limit <= 10000:
        raise InvalidInput("limit must be between 1 and 10000")
    async with ctx.db.transaction(write=False) as tx:
        try:
            track = await tx.tracks.get(uid)
        except NotFound:
            raise NotFound(f"no track {uid!r}") from None
    await require(
        ctx,
        actor,
        Action.READ,
        Resource(track.label),
        audit_action="track.read",
        object_type="track",
        object_id=uid,
        hide=True,
    )
    async with ctx.db.transaction(write=False) as tx:
        return track, await tx.tracks.history(uid, actor.subject, limit)
