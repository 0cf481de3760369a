"""CoT listeners (TCP and TLS), each client's serve loop, and the per-client fan-out of tracks.

Every event goes through the same services as the REST API: a position report through
`tracks.report_track` (feed ceiling, policy, audit), a GeoChat message through the GeoChat
bridge (`kyodo.takserver.geochat`). The fan-out asks the (cached) policy for each client and
encodes each track once per wire format, not once per client (`kyodo.takserver.encoding`). A
position received as CoT XML reaches XML clients as its sender wrote it, but for its label
(`kyodo.cot.passthrough`): the parsed event rides on the `TrackChanged` (`received`); one from
the REST API is written from the track.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import structlog

from kyodo.bus.events import MessageChanged, SubjectChanged, TrackChanged
from kyodo.cot import (
    CotError,
    Event,
    protocol_offer,
    protocol_response,
    read_label,
    requested_version,
    serialise_event,
)
from kyodo.cot.event import UNKNOWN, unknown
from kyodo.cot.labelling import LABEL_TAG
from kyodo.cot.negotiation import REQUEST_TYPE
from kyodo.domain.tracks import Position, TrackReport
from kyodo.errors import KyodoError, NotFound
from kyodo.labels import parse_marking
from kyodo.policy import make_subject
from kyodo.services import auth, tracks
from kyodo.services.access import CountedRefusals
from kyodo.services.actor import Actor, operator_actor
from kyodo.takserver.client import CotClient
from kyodo.takserver.encoding import Encoded, track_event
from kyodo.takserver.geochat import GeoChatBridge

if TYPE_CHECKING:
    from kyodo.bus.events import Event as BusEvent
    from kyodo.domain.tracks import Feed
    from kyodo.services.context import ServiceContext
    from kyodo.settings import Settings

log = structlog.get_logger("kyodo.cot")
PLAIN_ID = "cot:plain"
_Accept = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


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
        self.geochat = GeoChatBridge(ctx, self.clients)

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
        chat = asyncio.create_task(self.geochat.run())
        self._tasks.add(chat)
        self.ctx.bus.subscribe(self.handle)
        log.info("cot listening", host=host, **self.ports)

    async def stop(self) -> None:
        """Close the listeners and every client, and wait until what they reported is written."""
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
        await self.ctx.group_commit.flush()  # positions are written behind their delivery

    async def _feed(self) -> Feed:
        try:
            return await tracks.find_feed(self.ctx, self.settings.cot_feed)
        except NotFound:
            registry = self.ctx.registry
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
        # A peer can send refused events as fast as it can write: they are audited per
        # connection and interval (the first in full, the rest as a count), not one by one.
        refusals = CountedRefusals(
            self.ctx, actor.audit_name, client.id, self.settings.cot_refusal_audit_seconds
        )
        client.actor = replace(actor, refusals=refusals)
        self.clients.add(client)
        log.info("cot client connected", peer=client.peer, actor=actor.audit_name)
        try:
            client.offer(serialise_event(protocol_offer(self.ctx.clock())))
            registry = self.ctx.registry
            for track in await tracks.list_tracks(self.ctx, actor, limit=5000):
                client.offer(Encoded(track_event(track), track.label, registry).bytes_for(client))
            while client.closed is None:
                events = await client.read()
                if events is None:
                    break
                for event in events:
                    await self._receive(client, event)
                    if client.too_many_refusals():
                        break  # the rest of what it sent is not even looked at
                if client.too_many_refusals():
                    break
        finally:
            self.clients.discard(client)
            client.close("disconnected")
            log.info("cot client left", peer=client.peer, reason=client.closed)
            await refusals.close()  # the count not yet written

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
                await self.geochat.receive(client, event)
            else:
                await self._position(client, event)
        except KyodoError as exc:
            client.refuse(event.uid, exc.message)

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
        report = TrackReport(
            uid=event.uid,
            type=event.type,
            callsign=event.callsign or event.uid,
            position=Position(
                point.lat,
                point.lon,
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
        )
        # The fan-out passes on this event as received rather than rebuild it from the track.
        await tracks.report_track(
            self.ctx,
            client.actor,
            self.feed_id,
            report,
            origin=client.id,
            received=event,
            wait=False,
        )

    def handle(self, event: BusEvent) -> None:
        """The bus handler: each track change to every client that may read it; a person's new
        clearance to their clients; posted messages to the GeoChat bridge."""
        if isinstance(event, TrackChanged):
            self._track_changed(event)
        elif isinstance(event, SubjectChanged):
            # A lowered clearance (or a deactivated person) holds from the next event on, not
            # from the next connection.
            for client in self.clients:
                if client.actor.subject.id == event.subject.id:
                    client.actor = replace(client.actor, subject=event.subject)
        elif isinstance(event, MessageChanged) and event.kind == "posted":
            self.geochat.posted(event)

    def _track_changed(self, event: TrackChanged) -> None:
        if not self.clients:
            return
        received = event.received
        # What a TAK client sent is passed on as it came (relabelled); anything else, written
        # from the track.
        cot = received if isinstance(received, Event) else track_event(event.track)
        label, origin = event.label, event.origin  # read once, not once per client
        encoded = Encoded(cot, label, self.ctx.registry)
        can_read = self.ctx.decisions.can_read
        for client in tuple(self.clients):
            if client.id != origin and can_read(client.actor.subject, label):
                client.offer(encoded.bytes_for(client))


def _bounded(value: float | None, high: float | None) -> float | None:
    if value is None or value < 0 or (high is not None and value > high):
        return None
    return value


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
