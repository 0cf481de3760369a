"""CoT listeners (TCP and TLS), each client's serve loop, and the dispatch of what it sends.

Every event goes through the same services as the REST API: a position report through
`tracks.report_track` (feed ceiling, policy, audit; `kyodo.takserver.intake`), a GeoChat
message through the GeoChat bridge (`kyodo.takserver.geochat`). The fan-out
(`kyodo.takserver.fanout`) asks the (cached) policy for each client and encodes each track once
per wire format, not once per client (`kyodo.takserver.encoding`). A position received as CoT
XML reaches XML clients as its sender wrote it, but for its label (`kyodo.cot.passthrough`): the
parsed event rides on the `TrackChanged` (`received`); one from the REST API is written from
the track.

A connection's life: who it is (`kyodo.takserver.identity`: a TLS certificate registered to a
person; else, where allowed, the `<auth>` credentials it sends first; else the plain identity),
the protocol offer, then the snapshot of the tracks it may read once its format is known
(`kyodo.takserver.snapshot`: after its protocol request, or at its first other event, or
`SNAPSHOT_SECONDS` after connecting), and its events, each dispatched on its type: negotiation,
control (`t-…`: pings answered), GeoChat, receipt, file share of a file Kyodo holds
(`kyodo.takserver.fileshare`), an event placed nowhere (relayed, not kept), position.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import structlog

from kyodo.bus.events import MessageChanged, SubjectChanged, TrackChanged, TrackDeleted
from kyodo.cot import Credentials, Event, protocol_offer, serialise_event
from kyodo.cot.negotiation import REQUEST_TYPE
from kyodo.cot.receipt import RECEIPT_TYPES
from kyodo.errors import KyodoError, NotFound
from kyodo.labels import parse_marking
from kyodo.pki.tls_context import server_context
from kyodo.services import auth, tracks
from kyodo.services.actor import Actor, operator_actor
from kyodo.services.tak_clients import ConnectedClient
from kyodo.takserver import fanout, fileshare, identity, intake, snapshot
from kyodo.takserver.client import CotClient
from kyodo.takserver.geochat import GeoChatBridge

if TYPE_CHECKING:
    import ssl

    from kyodo.bus.events import Event as BusEvent
    from kyodo.domain.tracks import Feed
    from kyodo.services.context import ServiceContext
    from kyodo.settings import Settings

log = structlog.get_logger("kyodo.cot")
_Accept = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
# TAK Server sends a new subscription its latest SA at once, in XML, before it even offers
# protocol 1 (SubmissionService: sendLatestReachableSA, then startProtocolNegotiation), and
# listens for a protocol request for 60 s. Kyodo waits this long for the request (ATAK and
# WinTAK ask within milliseconds of the offer), so that a negotiating client gets its snapshot
# in protocol 1; a client that has neither asked nor sent anything by then (a receiver only)
# gets it in XML, as from TAK Server, and may still negotiate later.
SNAPSHOT_SECONDS = 2.0
# How long a TLS client whose certificate is registered to nobody has to send its <auth>.
CREDENTIALS_SECONDS = 15.0


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
        self.snapshot_seconds = SNAPSHOT_SECONDS
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
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        # A snapshot being read finishes first (snapshot.send_later): wait for it, so that its
        # database connection is returned before the database is closed.
        await asyncio.gather(*tasks, return_exceptions=True)
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
        return server_context(s.cot_tls_cert, s.cot_tls_key, s.cot_tls_ca, client_certificate=True)

    def plain_actor(self) -> Actor:
        """Who a plain-TCP client is: a configured, by default uncleared, identity. Plain TCP
        proves nothing about the person at the other end, so it never sees more than that."""
        return identity.plain_actor(self.ctx, self.settings)

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
            identified = await identity.identify(self.ctx, client, self.credentials_seconds)
            if identified is None:
                client.close("refused")
                return
            actor, early = identified
        identity.act_as(self.ctx, self.settings, client, actor)
        self.clients.add(client)
        log.info("cot client connected", peer=client.peer, actor=actor.audit_name)
        timer = asyncio.create_task(snapshot.send_later(self.ctx, client, self.snapshot_seconds))
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

    async def _receive(self, client: CotClient, item: Event | Credentials) -> None:
        """One item from the client, dispatched on what it is."""
        client.items += 1
        if isinstance(item, Credentials):
            await identity.credentials(self.ctx, self.settings, client, item)
            return
        event = item
        try:
            if event.type == REQUEST_TYPE:
                await snapshot.negotiate(self.ctx, client, event)
                return
            if not client.snapshot_sent:
                # It did not negotiate first, so it will not (TAK clients ask at once): its
                # format is known, and it gets the picture before its own event is handled.
                await snapshot.send(self.ctx, client)
            if event.type.startswith("t-"):
                await intake.control(self.ctx, client, event)
            elif event.chat is not None:
                await self.geochat.receive(client, event)
            elif event.type in RECEIPT_TYPES:
                await intake.receipt(self.ctx, self.feed, self.clients, client, event)
            elif event.type == fileshare.FILESHARE_TYPE and await fileshare.share(
                self.ctx, self.feed, self.clients, client, event
            ):
                pass  # a share of a file Kyodo holds: relayed within the file's label
            elif event.point is not None and not event.point.placed:
                intake.unplaced(self.ctx, self.feed, self.clients, client, event)
            else:
                await self._position(client, event)
        except KyodoError as exc:
            # A chat (or its receipt) refused for what it says or where it goes is its user's
            # doing, answered to them, not a broken client's: it does not count toward dropping
            # the connection (TAK Server drops no client for what it refuses).
            users = event.chat is not None or event.type in RECEIPT_TYPES
            client.refuse(event.uid, exc.message, counted=not users)

    async def _position(self, client: CotClient, event: Event) -> None:
        # A method, not only `intake.position`, so that profiles (bench/cotbench) name it.
        await intake.position(self.ctx, self.feed_id, client, event)

    def handle(self, event: BusEvent) -> None:
        """The bus handler: each track change to every client that may read it; a person's new
        clearance to their clients; posted messages to the GeoChat bridge."""
        if isinstance(event, TrackChanged):
            self._track_changed(event)
            self.geochat.track_seen(event)  # a client's own position names it for chat
        elif isinstance(event, TrackDeleted):
            if self.clients:
                fanout.track_deleted(self.ctx, self.clients, event)
        elif isinstance(event, SubjectChanged):
            # A lowered clearance (or a deactivated person) holds from the next event on, not
            # from the next connection.
            for client in self.clients:
                if client.actor.subject.id == event.subject.id:
                    client.actor = replace(client.actor, subject=event.subject)
        elif isinstance(event, MessageChanged) and event.kind == "posted":
            self.geochat.posted(event)

    def _track_changed(self, event: TrackChanged) -> None:
        # A method, not only `fanout.track_changed`, so that profiles (bench/cotbench) name it.
        if self.clients:
            fanout.track_changed(self.ctx, self.clients, event)


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
