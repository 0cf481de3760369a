"""CoT listeners (TCP and TLS), the per-client fan-out of tracks, and the GeoChat bridge.

Every event goes through the same services as the REST API: a position report through
`tracks.report_track` (feed ceiling, policy, audit), a GeoChat message through
`messages.post_message` (membership, label, spillage guard). The fan-out asks the (cached) policy
for each client and serialises each track once per wire format, not once per client.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import structlog

from kyodo.bus.events import TrackChanged
from kyodo.cot import (
    CotError,
    Detail,
    Event,
    Point,
    apply_label,
    event_to_message,
    frame_stream,
    protocol_offer,
    protocol_response,
    read_label,
    requested_version,
    serialise_event,
)
from kyodo.cot.labelling import LABEL_TAG
from kyodo.cot.tak import REQUEST_TYPE
from kyodo.domain.tracks import Position
from kyodo.errors import KyodoError, NotFound
from kyodo.labels import parse_marking
from kyodo.policy import make_subject
from kyodo.services import auth, messages, tracks
from kyodo.services.actor import Actor
from kyodo.takserver.client import CotClient

if TYPE_CHECKING:
    from kyodo.bus.events import Event as BusEvent
    from kyodo.domain.tracks import Feed, Track
    from kyodo.services.context import ServiceContext
    from kyodo.settings import Settings

log = structlog.get_logger("kyodo.cot")
PLAIN_ID = "cot:plain"
_Accept = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


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


class Encoded:
    """One track's bytes on the wire, made at most once per format for all clients."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self._xml: bytes | None = None
        self._proto: bytes | None = None

    def bytes_for(self, client: CotClient) -> bytes:
        if client.proto:
            if self._proto is None:
                self._proto = frame_stream(event_to_message(self.event))
            return self._proto
        if self._xml is None:
            self._xml = serialise_event(self.event)
        return self._xml


class TakServer:
    """The CoT TCP and TLS listeners of one Kyodo process."""

    def __init__(self, ctx: ServiceContext, settings: Settings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.clients: set[CotClient] = set()
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.feed_id = ""
        self.ports: dict[str, int] = {}

    async def start(self) -> None:
        """Ensure the CoT feed exists, open the listeners, and join the bus."""
        self.feed_id = (await self._feed()).id
        host = self.settings.host
        tls = self._tls_context()
        listeners: list[tuple[str, _Accept, int, ssl.SSLContext | None]] = [
            ("tcp", self._accept_plain, self.settings.cot_port, None)
        ]
        if tls is not None:
            listeners.append(("tls", self._accept_tls, self.settings.cot_tls_port, tls))
        for name, accept, port, context in listeners:
            if not port:
                continue
            try:
                server = await asyncio.start_server(accept, host, port, ssl=context)
            except OSError as exc:
                # The web server stays up; the operator sees why CoT is not there.
                log.error(
                    "cot listener not started",
                    listener=name,
                    port=port,
                    reason=exc.strerror,
                    hint="free the port or set KYODO_COT_PORT",
                )
                continue
            self._servers.append(server)
            self.ports[name] = server.sockets[0].getsockname()[1]
        self.ctx.bus.subscribe(self.handle)
        log.info("cot listening", host=host, **self.ports)

    async def stop(self) -> None:
        """Close the listeners and every client."""
        self.ctx.bus.unsubscribe(self.handle)
        for server in self._servers:
            server.close()
        for client in list(self.clients):
            client.close("server stopping")
        for task in list(self._tasks):
            task.cancel()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def _feed(self) -> Feed:
        try:
            return await tracks.find_feed(self.ctx, self.settings.cot_feed)
        except NotFound:
            registry = self.ctx.registry
            from kyodo.services.actor import operator_actor

            return await tracks.create_feed(
                self.ctx,
                operator_actor("kyodo", registry),
                name=self.settings.cot_feed,
                ceiling=parse_marking(self.settings.cot_feed_ceiling, registry),
                default_label=parse_marking(self.settings.cot_feed_default, registry),
                description="Position reports from TAK clients",
            )

    def _tls_context(self) -> ssl.SSLContext | None:
        s = self.settings
        if not (s.cot_tls_cert and s.cot_tls_key and s.cot_tls_ca):
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(s.cot_tls_ca))
        context.load_cert_chain(str(s.cot_tls_cert), str(s.cot_tls_key))
        context.verify_mode = ssl.CERT_REQUIRED
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def plain_actor(self) -> Actor:
        """Who a plain-TCP client is: a configured, by default uncleared, identity. Plain TCP
        proves nothing about the person at the other end, so it never sees more than that."""
        subject = make_subject(
            self.ctx.registry,
            id=PLAIN_ID,
            nation=self.settings.cot_plain_nation,
            clearance=self.settings.cot_plain_clearance,
        )
        return Actor(subject=subject, name=PLAIN_ID, via="cot")

    async def _accept_plain(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await self._serve(reader, writer, self.plain_actor())

    async def _accept_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        peer = _peer(writer)
        if not der:
            log.warning("cot tls client without certificate refused", peer=peer)
            writer.close()
            return
        try:
            actor = await auth.authenticate_certificate(self.ctx, hashlib.sha256(der).hexdigest())
        except KyodoError as exc:
            log.warning("cot tls client refused", peer=peer, reason=exc.message)
            writer.close()
            return
        await self._serve(reader, writer, actor)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, actor: Actor
    ) -> None:
        client = CotClient(
            reader,
            writer,
            actor,
            peer=_peer(writer),
            max_queue=self.settings.cot_queue,
            max_refusals=self.settings.cot_max_refusals,
        )
        self.clients.add(client)
        writing = asyncio.create_task(client.write_loop())
        self._tasks.add(writing)
        log.info("cot client connected", peer=client.peer, actor=actor.audit_name)
        try:
            client.offer(serialise_event(protocol_offer(self.ctx.clock())))
            for track in await tracks.list_tracks(self.ctx, actor, limit=5000):
                client.offer(Encoded(_labelled(self, track)).bytes_for(client))
            while client.closed is None:
                events = await client.read()
                if events is None:
                    break
                for event in events:
                    await self._receive(client, event)
                    # Let the receivers' writers run between events: a burst from one sender
                    # must not fill the queues of clients that read as fast as they can.
                    await asyncio.sleep(0)
        finally:
            self.clients.discard(client)
            client.close("disconnected")
            writing.cancel()
            self._tasks.discard(writing)
            log.info("cot client left", peer=client.peer, reason=client.closed)

    async def _receive(self, client: CotClient, event: Event) -> None:
        if event.type == REQUEST_TYPE:
            accepted = requested_version(event) == 1
            client.offer(serialise_event(protocol_response(self.ctx.clock(), accepted=accepted)))
            if accepted:
                client.switch_to_protocol()
            return
        if event.type.startswith("t-"):
            return  # pings and other control events need no answer
        try:
            if event.chat is not None:
                await self._chat(client, event)
            else:
                await self._position(client, event)
        except KyodoError as exc:
            log.warning(
                "cot event refused",
                peer=client.peer,
                actor=client.actor.audit_name,
                uid=event.uid,
                reason=exc.message,
            )

    async def _position(self, client: CotClient, event: Event) -> None:
        reading = read_label(event, self.ctx.registry)
        if reading.disagreement:
            log.warning(
                "cot label attributes and element disagree; the more restrictive wins",
                peer=client.peer,
                uid=event.uid,
                detail=reading.disagreement,
            )
        if event.point is None:
            raise CotError("a position report needs a <point>")
        point = event.point
        detail = event.detail.without(LABEL_TAG)
        report = tracks.TrackReport(
            uid=event.uid,
            type=event.type,
            callsign=event.callsign or event.uid,
            position=Position(
                point.lat,
                point.lon,
                event.time,
                point.hae,
                point.ce,
                point.le,
                _bounded(event.course, 360.0),
                _bounded(event.speed, None),
            ),
            start=event.start,
            stale=event.stale,
            label=reading.label,
            remarks=event.remarks or "",
            how=event.how,
            detail_xml=detail.xml,
        )
        await tracks.report_track(
            self.ctx, client.actor, self.feed_id, report, origin=client.id, wait=False
        )

    async def _chat(self, client: CotClient, event: Event) -> None:
        chat = event.chat
        if chat is None or client.actor.person is None:
            raise CotError("GeoChat needs a client certificate registered to a person")
        net = await _net_named(self.ctx, chat.room)
        reading = read_label(event, self.ctx.registry)
        await messages.post_message(self.ctx, client.actor, net, chat.text, label=reading.label)

    def handle(self, event: BusEvent) -> None:
        """The bus handler: each track change to every client that may read it."""
        if not isinstance(event, TrackChanged) or event.track is None or not self.clients:
            return
        encoded = Encoded(apply_label(track_event(event.track), event.label, self.ctx.registry))
        can_read = self.ctx.decisions.can_read
        for client in tuple(self.clients):
            if client.id != event.origin and can_read(client.actor.subject, event.label):
                client.offer(encoded.bytes_for(client))


def _labelled(server: TakServer, track: Track) -> Event:
    return apply_label(track_event(track), track.label, server.ctx.registry)


def _bounded(value: float | None, high: float | None) -> float | None:
    if value is None or value < 0 or (high is not None and value > high):
        return None
    return value


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)


async def _net_named(ctx: ServiceContext, room: str) -> str:
    async with ctx.db.transaction(write=False) as tx:
        try:
            return (await tx.nets.get_by_name(room)).id
        except NotFound:
            raise CotError(f"no net matches chat room {room!r}") from None
