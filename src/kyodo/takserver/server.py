"""CoT listeners (TCP and TLS), the per-client fan-out of tracks, and the GeoChat bridge.

Every event goes through the same services as the REST API: a position report through
`tracks.report_track` (feed ceiling, policy, audit), a GeoChat message through
`messages.post_message` (membership, label, spillage guard). The fan-out asks the (cached) policy
for each client and serialises each track once per wire format, not once per client. A position
received as CoT XML reaches XML clients as its sender wrote it, but for its label
(`kyodo.cot.passthrough`); one from the REST API is written from the track. Messages posted in a
net go to the TAK clients of its members that may read them, as GeoChat in the net's room.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from kyodo.bus.events import MembershipChanged, MessageChanged, SubjectChanged, TrackChanged
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
from kyodo.cot.chat import GEOCHAT_TYPE, GeoChat, geochat_detail, geochat_uid
from kyodo.cot.event import format_time
from kyodo.cot.labelling import LABEL_TAG
from kyodo.cot.passthrough import relabelled_xml
from kyodo.cot.tak import REQUEST_TYPE
from kyodo.domain.tracks import Position
from kyodo.errors import KyodoError, NotFound
from kyodo.labels import parse_marking
from kyodo.policy import make_subject
from kyodo.services import auth, messages, nets, tracks
from kyodo.services.access import CountedRefusals
from kyodo.services.actor import Actor
from kyodo.takserver.client import CotClient

if TYPE_CHECKING:
    from kyodo.bus.events import Event as BusEvent
    from kyodo.domain.tracks import Feed, Track
    from kyodo.labels import Label, SchemeRegistry
    from kyodo.services.context import ServiceContext
    from kyodo.settings import Settings

log = structlog.get_logger("kyodo.cot")
PLAIN_ID = "cot:plain"
# Position reports in flight between `_position` and the fan-out: a handful at a time; the bound
# only matters if a report is published much later than it is made, or never.
MAX_ORIGINALS = 4096
MAX_CHAT_QUEUE = 10_000
MAX_NETS = 4096
CHAT_STALE = timedelta(days=1)  # how long ATAK keeps a chat message's event
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
        if client.proto:
            if self._proto is None:
                self._proto = frame_stream(event_to_message(self.labelled))
            return self._proto
        if self._xml is None:
            self._xml = relabelled_xml(self.event, self.label, self.registry)
            if self._xml is None:
                self._xml = serialise_event(self.labelled)
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
        # uid -> (the client that reported it, the event as received), until the fan-out.
        self._originals: dict[str, tuple[str, Event]] = {}
        # Posted messages and membership changes, handled in bus order by one task (the bus
        # handler cannot wait on the database).
        self._chat_queue: asyncio.Queue[MessageChanged | MembershipChanged] = asyncio.Queue(
            MAX_CHAT_QUEUE
        )
        # net id -> (when to read it again, its name, its members' person ids)
        self._nets: dict[str, tuple[float, str, set[str]]] = {}

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
        chat = asyncio.create_task(self._chat_out())
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
                await self._chat(client, event)
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
        # The fan-out passes on this event as received rather than rebuild it from the track.
        kept = (client.id, event)
        originals = self._originals
        originals.pop(event.uid, None)
        originals[event.uid] = kept
        if len(originals) > MAX_ORIGINALS:
            del originals[next(iter(originals))]
        try:
            await tracks.report_track(
                self.ctx, client.actor, self.feed_id, report, origin=client.id, wait=False
            )
        except BaseException:
            if originals.get(event.uid) is kept:
                del originals[event.uid]
            raise

    async def _chat(self, client: CotClient, event: Event) -> None:
        chat = event.chat
        if chat is None or client.actor.person is None:
            raise CotError("GeoChat needs a client certificate registered to a person")
        try:
            net = (await nets.find_net(self.ctx, client.actor, chat.room)).id
        except NotFound:
            raise CotError(f"no net matches chat room {chat.room!r}") from None
        reading = read_label(event, self.ctx.registry)
        await messages.post_message(
            self.ctx, client.actor, net, chat.text, label=reading.label, origin=client.id
        )

    def handle(self, event: BusEvent) -> None:
        """The bus handler: each track change to every client that may read it; a person's new
        clearance to their clients; posted messages and membership changes to the chat task."""
        if isinstance(event, TrackChanged):
            self._track_changed(event)
        elif isinstance(event, SubjectChanged):
            # A lowered clearance (or a deactivated person) holds from the next event on, not
            # from the next connection.
            for client in self.clients:
                if client.actor.subject.id == event.subject.id:
                    client.actor = replace(client.actor, subject=event.subject)
        elif isinstance(event, MembershipChanged) or (
            isinstance(event, MessageChanged) and event.kind == "posted"
        ):
            try:
                self._chat_queue.put_nowait(event)
            except asyncio.QueueFull:
                # Only if the database stalls for long; the message stays in its net.
                log.warning("net message not sent to tak clients: chat queue full")
                if isinstance(event, MembershipChanged):
                    self._nets.clear()  # a lost change must not leave a stale member list

    def _track_changed(self, event: TrackChanged) -> None:
        original: Event | None = None
        if event.origin is not None:
            kept = self._originals.get(event.uid)
            if kept is not None and kept[0] == event.origin:
                del self._originals[event.uid]
                if event.track is not None and kept[1].time == event.track.position.time:
                    original = kept[1]
        if event.track is None or not self.clients:
            return
        cot = original if original is not None else track_event(event.track)
        encoded = Encoded(cot, event.label, self.ctx.registry)
        can_read = self.ctx.decisions.can_read
        for client in tuple(self.clients):
            if client.id != event.origin and can_read(client.actor.subject, event.label):
                client.offer(encoded.bytes_for(client))

    async def _chat_out(self) -> None:
        """The chat task: net messages to the TAK clients of members, in the order posted."""
        while True:
            item = await self._chat_queue.get()
            try:
                if isinstance(item, MembershipChanged):
                    self._membership_changed(item)
                else:
                    await self._send_message(item)
            except Exception:
                # One message that cannot be sent must not stop the next ones.
                log.exception("net message not sent to tak clients", net=item.net_id)

    def _membership_changed(self, event: MembershipChanged) -> None:
        cached = self._nets.get(event.net_id)
        if cached is None:
            return
        if event.joined:
            cached[2].add(event.person_id)
        else:
            cached[2].discard(event.person_id)

    async def _send_message(self, event: MessageChanged) -> None:
        text = None if event.message.deleted else event.message.text
        if not text or not any(_chat_reader(c, event) for c in self.clients):
            return
        name, members = await self._net(event.net_id)
        encoded: Encoded | None = None
        can_read = self.ctx.decisions.can_read
        for client in tuple(self.clients):
            if (
                _chat_reader(client, event)
                and client.actor.subject.id in members
                and can_read(client.actor.subject, event.label)
            ):
                if encoded is None:
                    chat = _geochat(event, name, text, self.ctx.clock())
                    encoded = Encoded(chat, event.label, self.ctx.registry)
                client.offer(encoded.bytes_for(client))

    async def _net(self, net_id: str) -> tuple[str, set[str]]:
        """A net's name and members, read again after the read cache's lifetime (changes made
        by another process are seen then; this process's arrive as MembershipChanged)."""
        now = time.monotonic()
        cached = self._nets.get(net_id)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        async with self.ctx.db.transaction(write=False) as tx:
            net = await tx.nets.get(net_id)
            members = {m.person_id for m in await tx.nets.members(net_id)}
        if len(self._nets) >= MAX_NETS:
            self._nets.clear()
        self._nets[net_id] = (now + self.settings.read_cache_seconds, net.name, members)
        return net.name, members


def _chat_reader(client: CotClient, event: MessageChanged) -> bool:
    # Plain-TCP clients are no person, so no member; the sender has its message already.
    return client.actor.person is not None and client.id != event.origin


def _geochat(event: MessageChanged, room: str, text: str, now: datetime) -> Event:
    """A net message as the GeoChat event ATAK shows in the chat room named like the net."""
    author_id = event.message.author_id or "unknown"
    chat = GeoChat(
        room=room,
        room_id=room,
        # A Kyodo person has no device uid: one made of their id stands in (without dots, the
        # separator of a GeoChat uid).
        sender_uid="KYODO-" + author_id.replace(".", "-"),
        sender_callsign=event.author or author_id,
        message_id=f"kyodo-{event.seq}",
        text=text,
    )
    return Event(
        uid=geochat_uid(chat),
        type=GEOCHAT_TYPE,
        how="h-g-i-g-o",
        time=now,
        start=now,
        stale=now + CHAT_STALE,
        point=Point(0.0, 0.0),
        detail=geochat_detail(chat, format_time(now)),
    )


def _bounded(value: float | None, high: float | None) -> float | None:
    if value is None or value < 0 or (high is not None and value > high):
        return None
    return value


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
