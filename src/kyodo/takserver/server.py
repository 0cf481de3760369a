"""CoT listeners (TCP and TLS), each client's serve loop, and the per-client fan-out of tracks.

Every event goes through the same services as the REST API: a position report through
`tracks.report_track` (feed ceiling, policy, audit), a GeoChat message through the GeoChat
bridge (`kyodo.takserver.geochat`). The fan-out asks the (cached) policy for each client and
encodes each track once per wire format, not once per client (`kyodo.takserver.encoding`). A
position received as CoT XML reaches XML clients as its sender wrote it, but for its label
(`kyodo.cot.passthrough`): the parsed event rides on the `TrackChanged` (`received`); one from
the REST API is written from the track.

A connection's life: who it is (a TLS certificate registered to a person; else, where allowed,
the `<auth>` credentials it sends first; else the plain identity), the protocol offer, then the
snapshot of the tracks it may read once its format is known (after its protocol request, or at
its first other event, or when the negotiation window closes), and its events, each dispatched
on its type: negotiation, control (`t-…`: pings answered), GeoChat, position.
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

from kyodo.bus.events import MessageChanged, SubjectChanged, TrackChanged, TrackDeleted
from kyodo.cot import (
    CotError,
    Credentials,
    Event,
    event_to_message,
    frame_stream,
    protocol_offer,
    protocol_response,
    read_label,
    requested_version,
    serialise_event,
)
from kyodo.cot.delete import DELETE_TYPE, delete_event, deleted_uid
from kyodo.cot.event import UNKNOWN, unknown
from kyodo.cot.geometry import geometry
from kyodo.cot.keepalive import PING_TYPE, pong
from kyodo.cot.labelling import LABEL_TAG
from kyodo.cot.negotiation import REQUEST_TYPE
from kyodo.domain.tracks import Position, TrackReport
from kyodo.errors import KyodoError, NotFound, RateLimited, Unauthenticated
from kyodo.labels import parse_marking
from kyodo.policy import make_subject
from kyodo.services import auth, tracks
from kyodo.services.access import CountedRefusals
from kyodo.services.actor import Actor, operator_actor
from kyodo.services.tak_clients import ConnectedClient
from kyodo.takserver.client import CotClient
from kyodo.takserver.encoding import Encoded, snapshot_event, track_event
from kyodo.takserver.geochat import GeoChatBridge

if TYPE_CHECKING:
    from kyodo.bus.events import Event as BusEvent
    from kyodo.domain.tracks import Feed, Track
    from kyodo.services.context import ServiceContext
    from kyodo.settings import Settings

log = structlog.get_logger("kyodo.cot")
PLAIN_ID = "cot:plain"
_Accept = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
# TAK Server listens for a client's protocol request for 60 s after its offer; a client that
# has neither asked nor sent anything else by then gets its snapshot in XML.
NEGOTIATION_SECONDS = 60.0
# How long a TLS client whose certificate is registered to nobody has to send its <auth>.
CREDENTIALS_SECONDS = 15.0
PONG_INTERVAL = 1.0  # at most one answer a second to a client's pings
SNAPSHOT_LIMIT = 5000
# GeoChat receipts (delivered, read): relayed to the clients that may read them, never tracks.
RECEIPT_TYPES = frozenset({"b-t-f-d", "b-t-f-r"})


class TakServer:
    """The CoT TCP and TLS listeners of one Kyodo process."""

    def __init__(self, ctx: ServiceContext, settings: Settings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.clients: set[CotClient] = set()
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.feed_id = ""
        self.feed: Feed | None = None
        self.ports: dict[str, int] = {}
        self.geochat = GeoChatBridge(ctx, self.clients, settings)
        self.negotiation_seconds = NEGOTIATION_SECONDS
        self.credentials_seconds = CREDENTIALS_SECONDS

    async def start(self) -> None:
        """Ensure the CoT feed exists, open the listeners, and join the bus."""
        self.feed = await self._feed()
        self.feed_id = self.feed.id
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

    def connected_clients(self) -> list[ConnectedClient]:
        """Every identified connection and its own last report (`tak_clients.ClientSource`)."""
        return [
            ConnectedClient(
                connection=client.id,
                person=client.actor.person,
                uid=client.uid,
                callsign=client.callsign,
                label=client.own_label,
                last_event_time=client.last_event_time,
            )
            for client in self.clients
        ]

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
        await self._serve(reader, writer, self.plain_actor(), plain=True)

    async def _accept_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        peer = _peer(writer)
        if not der:
            log.warning("cot tls client without certificate refused", peer=peer)
            writer.close()
            return
        try:
            actor = await auth.certificate_actor(self.ctx, hashlib.sha256(der).hexdigest())
        except KyodoError as exc:
            log.warning("cot tls client refused", peer=peer, reason=exc.message)
            writer.close()
            return
        # A certificate registered to nobody: the client may still say who it is with <auth>.
        await self._serve(reader, writer, actor, plain=False)

    async def _serve(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        actor: Actor | None,
        *,
        plain: bool,
    ) -> None:
        client = CotClient(
            reader,
            writer,
            # A stand-in (named so in its log lines): nothing is served before it is replaced.
            actor or replace(self.plain_actor(), name="cot:unidentified"),
            peer=_peer(writer),
            max_queue=self.settings.cot_queue,
            max_refusals=self.settings.cot_max_refusals,
        )
        client.plain = plain
        early: list[Event | Credentials] = []
        if actor is None:
            identified = await self._identify(client)
            if identified is None:
                client.close("refused")
                return
            actor, early = identified
        self._act_as(client, actor)
        self.clients.add(client)
        log.info("cot client connected", peer=client.peer, actor=actor.audit_name)
        timer = asyncio.create_task(self._snapshot_later(client))
        self._tasks.add(timer)  # cancelled by `stop` too
        timer.add_done_callback(self._tasks.discard)
        try:
            client.offer(serialise_event(protocol_offer(self.ctx.clock())))
            for item in early:
                await self._receive(client, item)
            while client.closed is None:
                items = await client.read()
                if items is None:
                    break
                for item in items:
                    await self._receive(client, item)
                    if client.closed is not None or client.too_many_refusals():
                        break  # the rest of what it sent is not even looked at
                if client.refused >= client.max_refusals:
                    break
        finally:
            timer.cancel()
            self.clients.discard(client)
            client.close("disconnected")
            log.info("cot client left", peer=client.peer, reason=client.closed)
            if client.counted is not None:
                await client.counted.close()  # the count not yet written

    def _act_as(self, client: CotClient, actor: Actor) -> None:
        """Make the connection act as `actor`, its refusals audited per connection and interval
        (the first in full, the rest as a count): a peer can send refused events as fast as it
        can write."""
        counted = CountedRefusals(
            self.ctx, actor.audit_name, client.id, self.settings.cot_refusal_audit_seconds
        )
        client.counted = counted
        client.actor = replace(actor, refusals=counted)

    async def _identify(self, client: CotClient) -> tuple[Actor, list[Event | Credentials]] | None:
        """For a TLS client whose certificate is registered to nobody: the person its first
        item, an `<auth>`, names (and what it sent after it), or None (logged) if it sends
        none in time, something else first, or credentials that are refused. Nothing is sent
        to it meanwhile, and it is in no fan-out."""
        items: list[Event | Credentials] = []
        try:
            async with asyncio.timeout(self.credentials_seconds):
                while not items:
                    read = await client.read()
                    if read is None:
                        return None
                    items = read
        except TimeoutError:
            log.warning(
                "cot tls client refused: certificate not registered, no credentials sent",
                peer=client.peer,
            )
            return None
        first = items[0]
        if not isinstance(first, Credentials):
            log.warning(
                "cot tls client refused: certificate not registered, no credentials first",
                peer=client.peer,
            )
            return None
        client.items = 1
        actor = await self._login(client, first)
        return None if actor is None else (actor, items[1:])

    async def _login(self, client: CotClient, credentials: Credentials) -> Actor | None:
        """The person the credentials name, or None if refused (audited by the login; the log
        line names neither the username nor anything else the client sent)."""
        try:
            return await auth.login_stream(
                self.ctx,
                credentials.username,
                credentials.password,
                _host(client.writer),
                via="cot",
            )
        except (Unauthenticated, RateLimited) as exc:
            log.warning("cot credentials refused", peer=client.peer, reason=exc.message)
            return None

    async def _credentials(self, client: CotClient, credentials: Credentials) -> None:
        """An `<auth>` on a connection whose identity is settled: on plain TCP, as its first
        item and if the operator allows it, it makes the connection act as that person (a wrong
        password closes it); anywhere else it is ignored, unchecked."""
        first = client.items == 1
        if not first:
            log.warning("cot credentials ignored: only the first item may be one", peer=client.peer)
        elif not client.plain:
            log.info("cot credentials ignored: the client certificate decides", peer=client.peer)
        elif not self.settings.cot_plain_auth:
            log.warning(
                "cot credentials ignored on plain tcp",
                peer=client.peer,
                hint="set KYODO_COT_PLAIN_AUTH=true to let them name a person",
            )
        else:
            actor = await self._login(client, credentials)
            if actor is None:
                client.close("credentials refused")
                return
            if client.counted is not None:
                await client.counted.close()
            self._act_as(client, actor)
            log.info("cot client authenticated", peer=client.peer, actor=actor.audit_name)

    async def _receive(self, client: CotClient, item: Event | Credentials) -> None:
        """One item from the client, dispatched on what it is."""
        client.items += 1
        if isinstance(item, Credentials):
            await self._credentials(client, item)
            return
        event = item
        try:
            if event.type == REQUEST_TYPE:
                await self._negotiate(client, event)
                return
            if not client.snapshot_sent:
                # It did not negotiate first, so it will not (TAK clients ask at once): its
                # format is known, and it gets the picture before its own event is handled.
                await self._send_snapshot(client)
            if event.type.startswith("t-"):
                await self._control(client, event)
            elif event.chat is not None:
                await self.geochat.receive(client, event)
            elif event.type in RECEIPT_TYPES:
                self._receipt(client, event)
            else:
                await self._position(client, event)
        except KyodoError as exc:
            client.refuse(event.uid, exc.message)

    async def _negotiate(self, client: CotClient, event: Event) -> None:
        """Answer a protocol request (in XML), switch if accepted, then send the snapshot, if
        not sent yet, in the format agreed: all in one write, so that it follows the answer."""
        accepted = requested_version(event) == 1
        snapshot = None if client.snapshot_sent else await self._snapshot(client)
        client.offer(serialise_event(protocol_response(self.ctx.clock(), accepted=accepted)))
        if accepted:
            client.switch_to_protocol()
        if snapshot is not None:
            self._offer_snapshot(client, snapshot)

    async def _control(self, client: CotClient, event: Event) -> None:
        """TAK's control events (`t-…`), never stored nor relayed: a ping is answered (at most
        once a second: a client that pings faster gains nothing), the others are dropped, as
        TAK Server drops those it does not act on; a delete (`t-x-d-d`) deletes."""
        if event.type == DELETE_TYPE:
            await self._delete(client, event)
        elif event.type == PING_TYPE:
            now = asyncio.get_running_loop().time()
            if now - client.last_pong >= PONG_INTERVAL:
                client.last_pong = now
                self._offer_event(client, pong(self.ctx.clock()))

    async def _delete(self, client: CotClient, event: Event) -> None:
        """A TAK delete: the item leaves the picture if the client's person may delete it;
        the delete reaches the others through the bus (`_track_deleted`)."""
        uid = deleted_uid(event)
        if uid is None:
            # pytak greets with a bare t-x-d-d: nothing to delete, and no misbehaviour to count.
            log.debug("cot delete naming no item", peer=client.peer)
            return
        try:
            await tracks.delete_track(self.ctx, client.actor, uid, origin=client.id, received=event)
        except NotFound:
            # Clients delete items Kyodo never kept (or that are gone): nothing to do, and no
            # misbehaviour to count. A hidden track's refusal was audited by the service.
            log.debug("cot delete of an unknown item", peer=client.peer, uid=uid)

    def _offer_event(self, client: CotClient, event: Event) -> None:
        """A server-made event, in the client's format."""
        if client.proto:
            client.offer(frame_stream(event_to_message(event)))
        else:
            client.offer(serialise_event(event))

    async def _snapshot(self, client: CotClient) -> list[Track]:
        """The tracks the client may read, to send it once: marked sent before the read, so
        that the timer and the client's first event never both send it."""
        client.snapshot_sent = True
        return list(await tracks.list_tracks(self.ctx, client.actor, limit=SNAPSHOT_LIMIT))

    def _offer_snapshot(self, client: CotClient, snapshot: list[Track]) -> None:
        registry = self.ctx.registry
        for track in snapshot:
            # Replayed as received (relabelled), like the live fan-out.
            client.offer(Encoded(snapshot_event(track), track.label, registry).bytes_for(client))

    async def _send_snapshot(self, client: CotClient) -> None:
        snapshot = await self._snapshot(client)
        self._offer_snapshot(client, snapshot)

    async def _snapshot_later(self, client: CotClient) -> None:
        """The snapshot for a client that neither negotiates nor sends anything (a receiver
        only) once the negotiation window has closed."""
        await asyncio.sleep(self.negotiation_seconds)
        if client.closed is None and not client.snapshot_sent:
            try:
                await self._send_snapshot(client)
            except KyodoError as exc:
                log.warning("cot snapshot not sent", peer=client.peer, reason=exc.message)

    def _receipt(self, client: CotClient, event: Event) -> None:
        """A chat receipt (`b-t-f-d` delivered, `b-t-f-r` read): passed on as sent, labelled
        (its own label, else the feed's default), to the other clients that may read it, and
        not stored: it is not a track. Refused, like a position, above the feed's ceiling or
        the sender's clearance. Not recorded against the message it acknowledges (yet)."""
        feed = self.feed
        if feed is None:
            raise CotError("the CoT feed is not ready")
        label = read_label(event, self.ctx.registry).label or feed.default_label
        can_read = self.ctx.decisions.can_read
        if not feed.ceiling.dominates(label) or not can_read(client.actor.subject, label):
            raise CotError("receipt refused: its label is above what may be sent here")
        encoded = Encoded(event, label, self.ctx.registry)
        for other in tuple(self.clients):
            if other is not client and can_read(other.actor.subject, label):
                other.offer(encoded.bytes_for(other))

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
        lat, lon = point.lat, point.lon
        if lat == 0.0 and lon == 0.0:
            # Routes and telestrations are sent at 0,0: kept at their first vertex, where a
            # bounding box finds them (the event itself goes on as sent).
            shape = geometry(event.type, lat, lon, detail)
            lat, lon = shape.coordinates[0]
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
        if own or (not client.own_confirmed and client.uid in (None, event.uid)):
            client.own_confirmed = client.own_confirmed or own
            client.uid, client.callsign = event.uid, report.callsign
            client.own_label, client.last_event_time = reading.label, self.ctx.clock()
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
            self.geochat.track_seen(event)  # a client's own position names it for chat
        elif isinstance(event, TrackDeleted):
            self._track_deleted(event)
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

    def _track_deleted(self, event: TrackDeleted) -> None:
        if not self.clients:
            return
        # A delete from a TAK client is passed on as it came (relabelled with the deleted
        # item's label); one from the API is written as TAK clients write theirs.
        # One that names more than the item deleted here is written anew: its other links
        # would delete, on the receivers' maps, items the sender was not allowed to delete.
        received = event.received
        track = event.track
        cot = (
            received
            if isinstance(received, Event) and len(received.detail.findall("link")) == 1
            else delete_event(track.uid, track.type, self.ctx.clock())
        )
        encoded = Encoded(cot, event.label, self.ctx.registry)
        can_read = self.ctx.decisions.can_read
        for client in tuple(self.clients):
            if client.id != event.origin and can_read(client.actor.subject, event.label):
                client.offer(encoded.bytes_for(client))


def _bounded(value: float | None, high: float | None) -> float | None:
    if value is None or value < 0 or (high is not None and value > high):
        return None
    return value


def _host(writer: asyncio.StreamWriter) -> str:
    """The peer's address without its port: logins are throttled per address, as the web's."""
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) else str(peer)


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
