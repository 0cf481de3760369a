"""What a client's events do: positions reported, receipts relayed, pings answered, deletes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from kyodo.cot import (
    CotError,
    Event,
    Point,
    event_to_message,
    frame_stream,
    read_label,
    serialise_event,
)
from kyodo.cot.delete import DELETE_TYPE, deleted_uid
from kyodo.cot.event import UNKNOWN, unknown
from kyodo.cot.geometry import geometry
from kyodo.cot.keepalive import PING_TYPE, pong
from kyodo.cot.labelling import LABEL_TAG
from kyodo.cot.receipt import read_receipt
from kyodo.domain.tracks import Position, TrackReport
from kyodo.errors import NotFound
from kyodo.services import messages, tracks
from kyodo.takserver.encoding import Encoded

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kyodo.domain.tracks import Feed
    from kyodo.labels import Label
    from kyodo.services.context import ServiceContext
    from kyodo.takserver.client import CotClient

log = structlog.get_logger("kyodo.cot")
PONG_INTERVAL = 1.0  # at most one answer a second to a client's pings


async def control(ctx: ServiceContext, client: CotClient, event: Event) -> None:
    """TAK's control events (`t-…`), never stored nor relayed: a ping is answered (at most
    once a second: a client that pings faster gains nothing), the others are dropped, as
    TAK Server drops those it does not act on; a delete (`t-x-d-d`) deletes."""
    if event.type == DELETE_TYPE:
        await delete(ctx, client, event)
    elif event.type == PING_TYPE:
        now = asyncio.get_running_loop().time()
        if now - client.last_pong >= PONG_INTERVAL:
            client.last_pong = now
            offer_event(client, pong(ctx.clock()))


async def delete(ctx: ServiceContext, client: CotClient, event: Event) -> None:
    """A TAK delete: the item leaves the picture if the client's person may delete it;
    the delete reaches the others through the bus (`fanout.track_deleted`)."""
    uid = deleted_uid(event)
    if uid is None:
        # pytak greets with a bare t-x-d-d: nothing to delete, and no misbehaviour to count.
        log.debug("cot delete naming no item", peer=client.peer)
        return
    try:
        await tracks.delete_track(ctx, client.actor, uid, origin=client.id, received=event)
    except NotFound:
        # Clients delete items Kyodo never kept (or that are gone): nothing to do, and no
        # misbehaviour to count. A hidden track's refusal was audited by the service.
        log.debug("cot delete of an unknown item", peer=client.peer, uid=uid)


def offer_event(client: CotClient, event: Event) -> None:
    """A server-made event, in the client's format."""
    if client.proto:
        client.offer(frame_stream(event_to_message(event)))
    else:
        client.offer(serialise_event(event))


async def receipt(
    ctx: ServiceContext,
    feed: Feed | None,
    clients: Iterable[CotClient],
    client: CotClient,
    event: Event,
) -> None:
    """A chat receipt (`b-t-f-d` delivered, `b-t-f-r` read): recorded against the message it
    acknowledges (if Kyodo keeps it, and the client is a person who may read it: else refused
    and audited by the service), then passed on as sent, labelled (its own label, else the
    feed's default), to the other clients that may read it. Never a track. Refused, like a
    position, above the feed's ceiling or the sender's clearance."""
    label = _relayable(ctx, feed, client, event, "receipt")
    said = read_receipt(event)
    if said is not None:
        await messages.record_receipt(ctx, client.actor, said.message_id, said.kind, ctx.clock())
    _relay(ctx, clients, client, event, label)


def unplaced(
    ctx: ServiceContext,
    feed: Feed | None,
    clients: Iterable[CotClient],
    client: CotClient,
    event: Event,
) -> None:
    """An event whose point is no place on the Earth (NaN, or a latitude or longitude out of
    range): relayed as TAK Server relays it (it checks no coordinate), to the other clients
    that may read it, labelled, but not kept: there is no place to put it on the picture.
    Refused, like a position, above the feed's ceiling or the sender's clearance."""
    label = _relayable(ctx, feed, client, event, "event")
    point = event.point
    log.warning(
        "cot event relayed but not kept: its point is no place on the earth",
        peer=client.peer,
        actor=client.actor.audit_name,
        uid=event.uid,
        reason=point.unplaced_reason() if point is not None else "no point",
    )
    _relay(ctx, clients, client, event, label)


def _relayable(
    ctx: ServiceContext, feed: Feed | None, client: CotClient, event: Event, what: str
) -> Label:
    """The label an event is relayed under (its own, else the feed's default), if the feed
    takes it and its sender may write it."""
    if feed is None:
        raise CotError("the CoT feed is not ready")
    label = read_label(event, ctx.registry).label or feed.default_label
    if not feed.ceiling.dominates(label) or not ctx.decisions.can_read(client.actor.subject, label):
        raise CotError(f"{what} refused: its label is above what may be sent here")
    return label


def _relay(
    ctx: ServiceContext, clients: Iterable[CotClient], client: CotClient, event: Event, label: Label
) -> None:
    encoded = Encoded(event, label, ctx.registry)
    can_read = ctx.decisions.can_read
    for other in tuple(clients):
        if other is not client and can_read(other.actor.subject, label):
            other.offer(encoded.bytes_for(other))


async def position(ctx: ServiceContext, feed_id: str, client: CotClient, event: Event) -> None:
    """A position report, stored through the track service (feed ceiling, policy, audit)."""
    reading = read_label(event, ctx.registry)
    if reading.disagreement:
        log.warning(
            "cot label attributes and element disagree; the more restrictive wins",
            peer=client.peer,
            uid=event.uid,
            detail=reading.disagreement,
        )
    point = event.point or Point(0.0, 0.0)
    detail = event.detail.without(LABEL_TAG)
    lat, lon = point.lat, point.lon
    if lat == 0.0 and lon == 0.0:
        # Routes, telestrations and some shapes are sent at 0,0 (or with no point): kept
        # where they are drawn — a polygon at its centroid, a line at its first vertex —
        # where a bounding box finds them (the event itself goes on as sent).
        shape = geometry(event.type, lat, lon, detail)
        if event.point is None and shape.kind == "point":
            raise CotError("a position report needs a <point>")
        lat, lon = shape.anchor()
    report = TrackReport(
        uid=event.uid,
        type=event.type,
        callsign=event.callsign or event.uid,
        position=Position(
            lat,
            lon,
            event.time,
            # NaN (TAK's "unknown": file shares, acks) is stored as CoT's other unknown;
            # the event itself goes on as sent.
            UNKNOWN if unknown(point.hae) else point.hae,
            UNKNOWN if unknown(point.ce) else point.ce,
            UNKNOWN if unknown(point.le) else point.le,
            _bounded(event.course, 360.0),
            _bounded(event.speed, None),
        ),
        start=event.start,
        stale=event.stale,
        label=reading.label,
        remarks=event.remarks or "",
        how=event.how,
        detail_xml=detail.xml,
        # Kept so that a client connecting later is sent the event as it was received.
        source_xml=event.source.parsed.data if event.source is not None else None,
    )
    # Its own report: one with a contact endpoint (ATAK, WinTAK and iTAK send one for
    # themselves), else, until one comes, the first uid it reports (pytak and scripts).
    own = event.detail.endpoint is not None and bool(event.callsign)
    mine = own or (not client.own_confirmed and client.uid in (None, event.uid))
    if mine:
        client.own_confirmed = client.own_confirmed or own
        client.uid, client.callsign = event.uid, report.callsign
        client.own_label, client.last_event_time = reading.label, ctx.clock()
    # The fan-out passes on this event as received rather than rebuild it from the track.
    track = await tracks.report_track(
        ctx,
        client.actor,
        feed_id,
        report,
        origin=client.id,
        received=event,
        wait=False,
    )
    if mine:
        # The label it was stored under: an unlabelled report (all of ATAK's) has the feed's.
        client.own_label = track.label


def _bounded(value: float | None, high: float | None) -> float | None:
    if value is None or value < 0 or (high is not None and value > high):
        return None
    return value
