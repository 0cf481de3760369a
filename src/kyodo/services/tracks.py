"""Feeds and tracks of the common operational picture: labelled, ceiling-checked, history kept."""

from __future__ import annotations

import re
import uuid
from functools import partial
from typing import TYPE_CHECKING

from kyodo.bus.events import TrackChanged, TrackDeleted
from kyodo.domain.identity import Role
from kyodo.domain.symbols import sidc_for
from kyodo.domain.tracks import Feed, Position, Track, TrackReport, valid_type
from kyodo.errors import InvalidInput, NotFound
from kyodo.labels import join_all, render_marking
from kyodo.policy import Action, Decision, Resource
from kyodo.policy.tracks import TrackFacts, may_delete_track
from kyodo.services.access import audit_entry, enforce, require, require_role
from kyodo.services.track_writes import Outcome, Report, log_failed_write, write_reports

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from datetime import datetime

    from kyodo.domain.tracks import LatLon
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import UnitOfWork

_UID = re.compile(r"^[\w.:\-@/]{1,200}$")


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
    received: object = None,
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
    Any other report waits for its write and is published only if it was stored.

    `received` is the report as its transport parsed it: it rides on the `TrackChanged`, for
    that transport to pass on as sent (`bus.events.TrackChanged`)."""
    if not _UID.match(report.uid):
        raise InvalidInput("a track uid is 1-200 letters, digits or . : - _ @ /")
    if not valid_type(report.type):
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
        source_xml=report.source_xml,
    )
    # Positions are not audited one by one (a feed sends many per second); the first sighting
    # and every refusal are.
    first = audit_entry(
        ctx, actor, "track.create", "track", track.uid, label, feed=feed.name, type=track.type
    )
    owners = ctx.track_owners
    facts = TrackFacts(label, feed.container(), actor.subject.id)
    published = not wait and owners.settled(track.uid, facts)
    changed = TrackChanged(track, origin=origin, received=received)
    item = Report(track, facts, actor, first, published, changed)

    async def write(batch: Sequence[Report]) -> list[Outcome]:
        return await write_reports(ctx, batch)

    if published:
        # The originator's own position, as this process last committed it: on the bus at
        # once, written behind (the one event published before its commit; a failed write
        # loses a position, never a refusal).
        stored = ctx.group_commit.enqueue("track.report", write, item)
        stored.add_done_callback(log_failed_write)
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


# What someone who may read a track but not delete it is told (the one rule they can fail).
DELETE_REFUSED = ("only the track's originator or a writer of its feed may delete it",)


async def delete_track(
    ctx: ServiceContext,
    actor: Actor,
    uid: str,
    *,
    origin: str | None = None,
    received: object = None,
) -> Track:
    """Take a track off the picture: whoever may update it as stored may delete it
    (`policy.may_delete_track`: reads it; its originator or a writer of its feed). Its row and
    history are kept and the delete is audited (`track.delete`); after the commit a
    `TrackDeleted` goes on the bus, for the transports to tell those who may read the track.
    A refusal is audited and answered, to someone who may not read the track, exactly as a
    missing track is (NotFound).

    A deleted uid stays its originator's: a later report for it is checked like any update
    (`policy.may_update_track` against the row as stored) and, if allowed, brings the track
    back, as TAK Server shows a deleted marker again when it is sent again; one made before the
    delete but written after it (written behind) is dropped (`track_writes`).

    `received` is the delete as its transport parsed it (`TrackDeleted.received`)."""
    missing = f"no track {uid!r}"
    owners = ctx.track_owners
    # Nothing for this uid is published before its write while the delete is in flight, and
    # the next report after it waits for its batch (published after the delete's commit).
    owners.unsettle(uid)
    try:
        async with ctx.db.transaction() as tx:
            row = (await tx.tracks.stored([uid])).get(uid)
            if row is None or row.deleted:
                raise NotFound(missing)
            track = await tx.tracks.get(uid)
            feed = await _feed_in(ctx, tx, row.feed_id)
            facts = TrackFacts(row.label, feed.container(), row.originator)
            decision = may_delete_track(actor.subject, facts)
            if decision.allowed:
                await tx.tracks.delete(uid, actor.subject.id, ctx.clock())
                await tx.audit.append(
                    audit_entry(ctx, actor, "track.delete", "track", uid, row.label, feed=feed.name)
                )
                tx.publish(TrackDeleted(track, actor.subject.id, origin, received))
                tx.after_commit(partial(owners.forget, uid))
    finally:
        owners.settle(uid)
    if not decision.allowed:
        # Audited in its own transaction, once the one above has ended.
        await enforce(
            ctx,
            actor,
            decision,
            audit_action="track.delete",
            object_type="track",
            object_id=uid,
            label=row.label,
            hide=not ctx.decisions.can_read(actor.subject, row.label),
            not_found=missing,
            answer=DELETE_REFUSED,
            message=f"track {uid} may not be deleted",
            feed=feed.name,
        )
    return track


async def _feed_in(ctx: ServiceContext, tx: UnitOfWork, feed_id: str) -> Feed:
    cached = ctx.reads.feeds.get(feed_id)
    if isinstance(cached, Feed):
        return cached
    return await tx.feeds.get(feed_id)


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


MAX_LOOKUPS = 1000  # waypoints looked up for one answer (a route has tens)


async def readable_positions(
    ctx: ServiceContext, actor: Actor, uids: Collection[str]
) -> dict[str, LatLon]:
    """Where those of `uids` are that are on the picture and that the actor may read (a
    route's waypoints named by uid alone); the others are left out, as if absent."""
    found: dict[str, LatLon] = {}
    can_read = ctx.decisions.can_read
    async with ctx.db.transaction(write=False) as tx:
        for uid in sorted(uids)[:MAX_LOOKUPS]:
            try:
                track = await tx.tracks.get(uid)
            except NotFound:
                continue
            if can_read(actor.subject, track.label):
                found[uid] = (track.position.lat, track.position.lon)
    return found
