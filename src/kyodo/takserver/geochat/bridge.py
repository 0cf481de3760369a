"""The GeoChat bridge: TAK chat rooms and direct messages in and out of Kyodo nets."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from kyodo.cot import CotError, Event, read_label
from kyodo.errors import KyodoError
from kyodo.policy import Decision
from kyodo.services import messages, nets
from kyodo.services.access import audit_refusal, refusal_entry
from kyodo.takserver.encoding import Encoded
from kyodo.takserver.geochat.answers import ChatRefused, answer_text, language_of, refusal
from kyodo.takserver.geochat.answers import answer as answer_with
from kyodo.takserver.geochat.contacts import Contact, clients_named, note_position
from kyodo.takserver.geochat.events import net_message_event
from kyodo.takserver.geochat.relay import relay_anonymous
from kyodo.takserver.geochat.rooms import RoomResolver, is_direct

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kyodo.bus.events import MessageChanged, TrackChanged
    from kyodo.cot.chat import GeoChat
    from kyodo.domain.identity import Person
    from kyodo.services.context import ServiceContext
    from kyodo.settings import Settings
    from kyodo.takserver.client import CotClient

log = structlog.get_logger("kyodo.cot")
MAX_CHAT_QUEUE = 10_000


class GeoChatBridge:
    """GeoChat between the TAK clients of one server (`clients`, shared with it) and the nets.

    A GeoChat message from a TAK client is posted in a net through `messages.post_message`
    (membership, label, spillage guard), and passed on to the other TAK clients as its sender wrote
    it, relabelled. Which net (`rooms.RoomResolver`): the net `cot_chat_rooms` names for the
    room; for "All Chat Rooms", the sender's default net (`cot_chat_default_nets`); else the net
    named like the room; else, for a direct message (`<marti><dest>`, or a room named like a
    contact's callsign), the direct conversation of its sender and addressees: a net of just them,
    named `direct_net_name`, created on first use by the sender (the addressees are added by the
    ordinary membership rules, so one not cleared for the message's label is never added). A refused
    message is answered, in the sender's language, by a GeoChat from "Kyodo" in the same room.

    A message posted in a net goes to the TAK clients of members that may read it; the roster comes
    from `nets.net_roster` (the read cache), so a change of membership holds from the next message.
    A direct message, or one naming its addressees, goes only to the addressed people's clients.

    Plain TCP is anonymous unless its identity is a person: between anonymous plain clients GeoChat
    is relayed as TAK Server does, checked against the plain identity's clearance like their
    positions, but it is no net's message and never reaches a TLS client.
    """

    def __init__(
        self, ctx: ServiceContext, clients: set[CotClient], settings: Settings | None = None
    ) -> None:
        self.ctx = ctx
        self.clients = clients
        # Each client's own uid and callsign, from its chats and its own position reports, to
        # find the clients a direct message names (by client id; gone clients are pruned).
        self.contacts: dict[str, Contact] = {}
        self.resolver = RoomResolver(
            ctx,
            clients,
            self.contacts,
            rooms=settings.cot_chat_rooms if settings else {},
            default_nets=settings.cot_chat_default_nets if settings else {},
        )
        # Posted messages, sent in bus order by one task (the bus handler cannot wait on the
        # database for a roster).
        self._queue: asyncio.Queue[MessageChanged] = asyncio.Queue(MAX_CHAT_QUEUE)

    # The room settings live in the resolver; here so that they can be set on the bridge.

    @property
    def rooms(self) -> Mapping[str, str]:
        """Chat room (name or id) to the name of its net (`cot_chat_rooms`)."""
        return self.resolver.rooms

    @rooms.setter
    def rooms(self, rooms: Mapping[str, str]) -> None:
        self.resolver.rooms = rooms

    @property
    def default_nets(self) -> Mapping[str, str]:
        """All Chat Rooms' net by username, `nation:XXX` or `*` (`cot_chat_default_nets`)."""
        return self.resolver.default_nets

    @default_nets.setter
    def default_nets(self, default_nets: Mapping[str, str]) -> None:
        self.resolver.default_nets = default_nets

    # In -----------------------------------------------------------------------------------

    async def receive(self, client: CotClient, event: Event) -> None:
        """Post a client's GeoChat in its net (or relay it between anonymous plain clients); a
        refusal is answered to the client in its room, then raised (logged and counted)."""
        chat = event.chat
        if chat is None:
            raise CotError("not a GeoChat event")
        self.contacts[client.id] = Contact(chat.sender_uid, chat.sender_callsign)
        try:
            person = client.actor.person
            if person is None:
                await relay_anonymous(self.ctx, self.clients, self.contacts, client, event, chat)
            else:
                await self._post(client, person, event, chat)
        except KyodoError as exc:
            key, values = refusal(exc)
            language = language_of(client.actor.person)
            self.answer(client, chat, answer_text(key, language, **values))
            if isinstance(exc, ChatRefused):
                # The services audit what they refuse; this refusal is the bridge's own.
                await self._audit(client, event, exc)
            raise

    async def _audit(self, client: CotClient, event: Event, exc: ChatRefused) -> None:
        try:
            label = read_label(event, self.ctx.registry).label
        except CotError:
            label = None
        actor = client.actor
        entry = refusal_entry(
            self.ctx,
            actor,
            Decision(False, (exc.message,)),
            audit_action="chat.post",
            object_type="chat",
            object_id=event.uid,
            label=label,
        )
        await audit_refusal(self.ctx, actor, entry)

    async def _post(self, client: CotClient, person: Person, event: Event, chat: GeoChat) -> None:
        actor = client.actor
        label = read_label(event, self.ctx.registry).label
        net = await self.resolver.net_for(client, person, chat, label)
        await messages.post_message(
            self.ctx,
            actor,
            net.id,
            chat.text,
            label=label,
            origin=client.id,
            received=event,
            chat_ref=chat.message_id,  # its receipts name it so
        )

    def answer(self, client: CotClient, chat: GeoChat, text: str) -> None:
        """A GeoChat from the server to this client alone, in the room of `chat`."""
        answer_with(self.ctx, client, chat, text)

    # Contacts -------------------------------------------------------------------------------

    def track_seen(self, event: TrackChanged) -> None:
        """From the bus handler: a client's own position report (a `<contact>` with an
        endpoint, as ATAK, WinTAK and iTAK send for themselves) tells its uid and callsign."""
        note_position(self.contacts, event)

    # Out ------------------------------------------------------------------------------------

    def posted(self, event: MessageChanged) -> None:
        """From the bus handler: queue a posted message for the TAK clients (never waits)."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            # Only if the database stalls for long; the message stays in its net.
            log.warning("net message not sent to tak clients: chat queue full")

    async def run(self) -> None:
        """The chat task: net messages to the TAK clients of members, in the order posted."""
        while True:
            item = await self._queue.get()
            try:
                await self._send_message(item)
            except Exception:
                # One message that cannot be sent must not stop the next ones.
                log.exception("net message not sent to tak clients", net=item.net_id)

    async def _send_message(self, event: MessageChanged) -> None:
        text = None if event.message.deleted else event.message.text
        if not text or not any(_chat_reader(c, event) for c in self.clients):
            return
        net, roster = await nets.net_roster(self.ctx, event.net_id)
        received = event.received if isinstance(event.received, Event) else None
        chat = received.chat if received is not None else None
        direct = is_direct(net)
        author = event.message.author_id
        # A message naming its addressees goes only to their clients (by callsign or uid).
        addressed: set[str] | None = None
        if chat is not None and chat.addressed:
            named = clients_named(self.clients, self.contacts, chat.recipients, chat.recipient_uids)
            addressed = {c.id for c in named}
        encoded: Encoded | None = None
        can_read = self.ctx.decisions.can_read
        for client in tuple(self.clients):
            subject = client.actor.subject
            if not (
                _chat_reader(client, event)
                and subject.id in roster
                and can_read(subject, event.label)
            ):
                continue
            if direct and subject.id == author:
                continue  # a direct conversation: the author's own devices are not addressed
            if addressed is not None and not direct and client.id not in addressed:
                continue
            if encoded is None:
                cot = received or net_message_event(
                    event, net, roster, text, self.ctx.clock(), direct_net=direct
                )
                encoded = Encoded(cot, event.label, self.ctx.registry)
            client.offer(encoded.bytes_for(client))


def _chat_reader(client: CotClient, event: MessageChanged) -> bool:
    # Plain-TCP clients that are no person are no member; the sender has its message already.
    return client.actor.person is not None and client.id != event.origin
