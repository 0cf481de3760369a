"""The GeoChat bridge: TAK chat rooms in and out of Kyodo nets of the same name.

A GeoChat message from a TAK client is posted in the net named like its room, through
`messages.post_message` (membership, label, spillage guard). A message posted in a net goes, as
GeoChat in the net's room, to the TAK clients of its members that may read it; the roster comes
from `nets.net_roster` (the read cache), so a change of membership holds from the next message.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from kyodo.cot import CotError, Event, Point, read_label
from kyodo.cot.chat import GEOCHAT_TYPE, GeoChat, geochat_detail, geochat_uid
from kyodo.cot.event import format_time
from kyodo.errors import NotFound
from kyodo.services import messages, nets
from kyodo.takserver.encoding import Encoded

if TYPE_CHECKING:
    from datetime import datetime

    from kyodo.bus.events import MessageChanged
    from kyodo.services.context import ServiceContext
    from kyodo.takserver.client import CotClient

log = structlog.get_logger("kyodo.cot")
MAX_CHAT_QUEUE = 10_000
CHAT_STALE = timedelta(days=1)  # how long ATAK keeps a chat message's event


class GeoChatBridge:
    """GeoChat between the TAK clients of one server (`clients`, shared with it) and the nets."""

    def __init__(self, ctx: ServiceContext, clients: set[CotClient]) -> None:
        self.ctx = ctx
        self.clients = clients
        # Posted messages, sent in bus order by one task (the bus handler cannot wait on the
        # database for a roster).
        self._queue: asyncio.Queue[MessageChanged] = asyncio.Queue(MAX_CHAT_QUEUE)

    async def receive(self, client: CotClient, event: Event) -> None:
        """Post a client's GeoChat message in the net named like its room."""
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
        encoded: Encoded | None = None
        can_read = self.ctx.decisions.can_read
        for client in tuple(self.clients):
            if (
                _chat_reader(client, event)
                and client.actor.subject.id in roster
                and can_read(client.actor.subject, event.label)
            ):
                if encoded is None:
                    chat = _geochat(event, net.name, text, self.ctx.clock())
                    encoded = Encoded(chat, event.label, self.ctx.registry)
                client.offer(encoded.bytes_for(client))


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
