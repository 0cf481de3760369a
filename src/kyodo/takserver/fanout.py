"""What goes out: each track change or delete to every other client that may read it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.cot import Event
from kyodo.cot.delete import delete_event
from kyodo.takserver.encoding import Encoded, track_event

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kyodo.bus.events import TrackChanged, TrackDeleted
    from kyodo.services.context import ServiceContext
    from kyodo.takserver.client import CotClient


def track_changed(ctx: ServiceContext, clients: Iterable[CotClient], event: TrackChanged) -> None:
    received = event.received
    # What a TAK client sent is passed on as it came (relabelled); anything else, written
    # from the track.
    cot = received if isinstance(received, Event) else track_event(event.track)
    label, origin = event.label, event.origin  # read once, not once per client
    encoded = Encoded(cot, label, ctx.registry)
    can_read = ctx.decisions.can_read
    for client in tuple(clients):
        if client.id != origin and can_read(client.actor.subject, label):
            client.offer(encoded.bytes_for(client))


def track_deleted(ctx: ServiceContext, clients: Iterable[CotClient], event: TrackDeleted) -> None:
    # A delete from a TAK client is passed on as it came (relabelled with the deleted
    # item's label); one from the API is written as TAK clients write theirs.
    # One that names more than the item deleted here is written anew: its other links
    # would delete, on the receivers' maps, items the sender was not allowed to delete.
    received = event.received
    track = event.track
    cot = (
        received
        if isinstance(received, Event) and len(received.detail.findall("link")) == 1
        else delete_event(track.uid, track.type, ctx.clock())
    )
    encoded = Encoded(cot, event.label, ctx.registry)
    can_read = ctx.decisions.can_read
    for client in tuple(clients):
        if client.id != event.origin and can_read(client.actor.subject, event.label):
            client.offer(encoded.bytes_for(client))
