"""What a TAK client is sent: a track as a CoT event, and an event with its label as bytes.

Each event is encoded at most once per wire format, whatever the number of clients: the fan-out
of a track and of a GeoChat message asks `Encoded` for each client's bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.cot import (
    Detail,
    Event,
    Point,
    apply_label,
    event_to_message,
    frame_stream,
    parse_event,
    serialise_event,
)
from kyodo.cot.errors import CotError
from kyodo.cot.passthrough import relabelled_xml

if TYPE_CHECKING:
    from kyodo.domain.tracks import Track
    from kyodo.labels import Label, SchemeRegistry
    from kyodo.takserver.client import CotClient


def track_event(track: Track) -> Event:
    """A track as a CoT event: what its sender sent (its detail kept), or built from its fields."""
    p = track.position
    detail = (
        Detail(track.detail_xml)
        if track.detail_xml
        else Detail.build(
            callsign=track.callsign,
            course=p.course,
            speed=p.speed,
            remarks=track.remarks or None,
        )
    )
    return Event(
        uid=track.uid,
        type=track.type,
        how=track.how,
        time=p.time,
        start=track.start,
        stale=track.stale,
        point=Point(p.lat, p.lon, p.hae, p.ce, p.le),
        detail=detail,
    )


def snapshot_event(track: Track) -> Event:
    """What a client that connects is sent of a stored track: the latest report as its sender
    wrote it (its bytes parsed again, so `Encoded` passes them on relabelled, as the live
    fan-out does), or, for a track from the API, the track written from its fields."""
    source = track.source_xml
    if source is not None:
        try:
            return parse_event(source, max_bytes=max(len(source), 1))
        except CotError:
            pass  # stored by an older parser that was less strict: written from the fields
    return track_event(track)


class Encoded:
    """One event with its label, as bytes on the wire, made at most once per format for all
    clients. An event parsed from CoT XML goes to XML clients as it was received, relabelled;
    any other is written from its fields (and to protocol 1 clients, every event is)."""

    def __init__(self, event: Event, label: Label, registry: SchemeRegistry) -> None:
        self.event = event
        self.label = label
        self.registry = registry
        self._labelled: Event | None = None
        self._xml: bytes | None = None
        self._proto: bytes | None = None

    @property
    def labelled(self) -> Event:
        """The event carrying the label (attributes and element)."""
        if self._labelled is None:
            self._labelled = apply_label(self.event, self.label, self.registry)
        return self._labelled

    def bytes_for(self, client: CotClient) -> bytes:
        """The event as this client's wire format wants it (the same bytes for all alike)."""
        if client.proto:
            if self._proto is None:
                self._proto = frame_stream(event_to_message(self.labelled))
            return self._proto
        if self._xml is None:
            self._xml = relabelled_xml(self.event, self.label, self.registry)
            if self._xml is None:
                self._xml = serialise_event(self.labelled)
        return self._xml
