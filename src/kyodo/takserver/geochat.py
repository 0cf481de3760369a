"""The GeoChat bridge: TAK chat rooms and direct messages in and out of Kyodo nets."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from kyodo.cot import CotError, Event, Point, read_label
from kyodo.cot.chat import GEOCHAT_TYPE, GeoChat, geochat_detail, geochat_uid
from kyodo.cot.event import format_time
from kyodo.domain.nets import NetRole
from kyodo.errors import Conflict, GuardRefused, KyodoError, NotFound, PermissionDenied
from kyodo.labels import parse_marking, render_marking
from kyodo.policy import Action, Decision, Resource
from kyodo.services import identity, messages, nets
from kyodo.services.access import audit_refusal, refusal_entry, require
from kyodo.takserver.encoding import Encoded

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from kyodo.bus.events import MessageChanged, TrackChanged
    from kyodo.domain.identity import Person
    from kyodo.domain.nets import Member, Net
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.settings import Settings
    from kyodo.takserver.client import CotClient

log = structlog.get_logger("kyodo.cot")
MAX_CHAT_QUEUE = 10_000
CHAT_STALE = timedelta(days=1)  # how long ATAK keeps a chat message's event
ALL_CHAT_ROOMS = "All Chat Rooms"  # ATAK's room for everyone on the server
SERVER_CALLSIGN = "Kyodo"
SERVER_UID = "KYODO-SERVER"
DIRECT_PREFIX = "DM "
DIRECT_PURPOSE = "Direct messages (GeoChat)"
_NET_NAME = re.compile(r"[\w][\w .\-/()]{0,99}")  # what a net's name may be (nets.create_net)

# What a refused sender is told, in English and Japanese (the person's language, else Japanese
# for Japanese nationals). Every text Kyodo writes into a GeoChat is here.
ANSWERS: dict[str, dict[str, str]] = {
    "anonymous": {
        "en": "Not delivered: this plain TCP connection is no Kyodo person, so it cannot post "
        "in nets or send direct messages. Connect with your certificate (TLS).",
        "ja": "未配信: この平文TCP接続は Kyodo の利用者に紐付いていないため、ネットへの投稿や"
        "個別メッセージはできません。証明書(TLS)で接続してください。",
    },
    "no_net": {
        "en": "Not delivered: chat room “{room}” is not linked to a Kyodo net you belong to.",
        "ja": "未配信: チャットルーム「{room}」は、あなたが所属する Kyodo のネットに対応して"
        "いません。",
    },
    "no_default": {
        "en": "Not delivered: “All Chat Rooms” has no Kyodo net configured for you. Use a room "
        "named like one of your nets.",
        "ja": "未配信: 「All Chat Rooms」にはあなた用の Kyodo ネットが設定されていません。"
        "所属ネットと同名のルームを使ってください。",
    },
    "unknown_addressee": {
        "en": "Not delivered: {name} is not a Kyodo person you can write to.",
        "ja": "未配信: {name} は、あなたがメッセージを送れる Kyodo の利用者ではありません。",
    },
    "ambiguous": {
        "en": "Not delivered: more than one person uses the callsign {name}.",
        "ja": "未配信: コールサイン {name} を複数の利用者が使用しています。",
    },
    "addressee_label": {
        "en": "Not delivered: {name} may not read a message labelled {label}.",
        "ja": "未配信: {name} は {label} の表示があるメッセージを閲覧できません。",
    },
    "refused": {
        "en": "Not delivered: {reason}",
        "ja": "未配信: 権限により拒否されました ({reason})",
    },
    "guard": {
        "en": "Not delivered: the spillage guard refused it ({reason})",
        "ja": "未配信: 情報漏えい防止ガードにより拒否されました ({reason})",
    },
    "invalid": {
        "en": "Not delivered: {reason}",
        "ja": "未配信: {reason}",
    },
}


def answer_text(key: str, language: str, **values: str) -> str:
    """The answer `key` in `language` ("en" or "ja"), with its values filled in."""
    texts = ANSWERS[key]
    return texts.get(language, texts["en"]).format(**values)


def language_of(person: Person | None) -> str:
    """The language a person reads answers in: their chosen one, else Japanese for Japanese
    nationals, else English."""
    if person is not None and person.language in ("en", "ja"):
        return person.language
    return "ja" if person is not None and person.nation == "JPN" else "en"


class ChatRefused(CotError):
    """A GeoChat refused with an answer to its sender (`key` in ANSWERS, with `values`)."""

    def __init__(self, message: str, key: str, **values: str) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True)
class Contact:
    """What a TAK client says it is: its device uid and callsign."""

    uid: str
    callsign: str


def direct_net_name(usernames: Iterable[str]) -> str:
    """The one name of the direct conversation of these people (any order): "DM a / b",
    or, when that is too long for a net's name, "DM " and a digest of the usernames."""
    names = sorted(set(usernames))
    name = DIRECT_PREFIX + " / ".join(names)
    if _NET_NAME.fullmatch(name):
        return name
    return DIRECT_PREFIX + hashlib.sha256("\n".join(names).encode()).hexdigest()[:32]


class GeoChatBridge:
    """GeoChat between the TAK clients of one server (`clients`, shared with it) and the nets.

    A GeoChat message from a TAK client is posted in a net through `messages.post_message`
    (membership, label, spillage guard), and passed on to the other TAK clients as its sender wrote
    it, relabelled. Which net (`_room_net`): the net `cot_chat_rooms` names for the
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
        self.rooms: Mapping[str, str] = settings.cot_chat_rooms if settings else {}
        self.default_nets: Mapping[str, str] = settings.cot_chat_default_nets if settings else {}
        # Each client's own uid and callsign, from its chats and its own position reports, to
        # find the clients a direct message names (by client id; gone clients are pruned).
        self.contacts: dict[str, Contact] = {}
        # Posted messages, sent in bus order by one task (the bus handler cannot wait on the
        # database for a roster).
        self._queue: asyncio.Queue[MessageChanged] = asyncio.Queue(MAX_CHAT_QUEUE)

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
                await self._relay_anonymous(client, event, chat)
            else:
                await self._post(client, person, event, chat)
        except KyodoError as exc:
            key, values = (exc.key, exc.values) if isinstance(exc, ChatRefused) else _refusal(exc)
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
        net = await self._room_net(actor, person, chat)
        if net is None:
            net = await self._direct_net(client, person, chat, label)
        await messages.post_message(
            self.ctx, actor, net.id, chat.text, label=label, origin=client.id, received=event
        )

    async def _room_net(self, actor: Actor, person: Person, chat: GeoChat) -> Net | None:
        """The net of a chat room: configured, the default for All Chat Rooms, or named like
        the room; None for a room that may be a direct conversation."""
        name = self.rooms.get(chat.room) or self.rooms.get(chat.room_id)
        if name is None and chat.room == ALL_CHAT_ROOMS:
            name = (
                self.default_nets.get(person.username)
                or self.default_nets.get(f"nation:{person.nation}")
                or self.default_nets.get("*")
            )
            if name is None:
                raise ChatRefused(f"no net is configured for {ALL_CHAT_ROOMS!r}", "no_default")
        if name is not None:
            try:
                return await nets.find_net(self.ctx, actor, name)
            except NotFound:
                raise ChatRefused(
                    f"no net {name!r} for chat room", "no_net", room=chat.room
                ) from None
        try:
            return await nets.find_net(self.ctx, actor, chat.room)
        except NotFound:
            pass
        if chat.addressed or self._clients_named([chat.room], [chat.room_id]):
            return None
        raise ChatRefused(f"no net matches chat room {chat.room!r}", "no_net", room=chat.room)

    async def _direct_net(
        self, client: CotClient, sender: Person, chat: GeoChat, label: Label | None
    ) -> Net:
        """The direct conversation of the sender and the people the message addresses: found
        by its name and members, or created by the sender with its addressees as owners."""
        actor = client.actor
        callsigns: tuple[str, ...] = chat.recipients
        uids: tuple[str, ...] = chat.recipient_uids
        if not chat.addressed:
            # A room named after its addressee: their uid (the room's id) if a client has it,
            # else their callsign (the room's name).
            by_uid = bool(self._clients_named([], [chat.room_id]))
            callsigns, uids = ((), (chat.room_id,)) if by_uid else ((chat.room,), ())
        people = await self._addressees(client, callsigns, uids)
        people.pop(sender.id, None)
        if not people:
            raise ChatRefused("a direct message to oneself", "unknown_addressee", name=chat.room)
        if label is not None:
            for person in people.values():
                if not self.ctx.decisions.can_read(person.subject(), label):
                    raise ChatRefused(
                        f"{person.username} may not read the message's label",
                        "addressee_label",
                        name=person.username,
                        label=render_marking(label, self.ctx.registry),
                    )
        name = direct_net_name([sender.username, *(p.username for p in people.values())])
        try:
            net = await nets.find_net(self.ctx, actor, name)
        except NotFound:
            net = await self._create_direct(actor, name, people, label)
        _, roster = await nets.net_roster(self.ctx, net.id)
        if sender.id not in roster or not set(roster) <= {sender.id, *people}:
            # A net of that name with other members is no direct conversation of these people.
            raise ChatRefused(f"net {name!r} has other members", "no_net", room=chat.room)
        for person_id in people.keys() - roster.keys():
            # One an earlier attempt could not add (the rules decide again now).
            await self._add(actor, net, people[person_id])
        if label is not None and not net.ceiling.dominates(label):
            # The conversation's ceiling follows its messages (its members are all owners).
            ceiling = self.ctx.registry.fit(net.ceiling.join(label))
            net = await nets.update_net(self.ctx, actor, net.id, ceiling=ceiling)
        return net

    async def _create_direct(
        self, actor: Actor, name: str, people: Mapping[str, Person], label: Label | None
    ) -> Net:
        entry = label or parse_marking("UNCLASSIFIED", self.ctx.registry)
        try:
            net = await nets.create_net(
                self.ctx,
                actor,
                name=name,
                ceiling=entry,
                entry=entry,
                purpose=DIRECT_PURPOSE,
            )
        except Conflict:
            # Created meanwhile by the other side's first message: theirs, if it is shared.
            try:
                return await nets.find_net(self.ctx, actor, name)
            except NotFound:
                raise ChatRefused(f"net {name!r} is not shared", "no_net", room=name) from None
        for person in people.values():
            await self._add(actor, net, person)
        return net

    async def _add(self, actor: Actor, net: Net, person: Person) -> None:
        """Add an addressee to a direct conversation by the ordinary membership rules."""
        try:
            await nets.add_member(self.ctx, actor, net.id, person.id, NetRole.OWNER)
        except PermissionDenied as exc:
            raise ChatRefused(
                str(exc),
                "addressee_label",
                name=person.username,
                label=render_marking(net.entry, self.ctx.registry),
            ) from None
        except KyodoError:
            raise ChatRefused(
                "addressee hidden", "unknown_addressee", name=person.username
            ) from None

    async def _addressees(
        self, client: CotClient, callsigns: Iterable[str], uids: Iterable[str]
    ) -> dict[str, Person]:
        """The people a direct message names, by person id: the person of the connected client
        with that callsign or uid, else the person whose username is the callsign."""
        found: dict[str, Person] = {}
        wanted = [(name, True) for name in callsigns] + [(name, False) for name in uids]
        for name, is_callsign in wanted:
            clients = self._clients_named(
                [name] if is_callsign else [], [] if is_callsign else [name]
            )
            usernames = {c.actor.person.username for c in clients if c.actor.person}
            if is_callsign:
                usernames.add(name)
            people = {}
            for username in usernames:
                # As stored now: a connection's record of its person may predate a change.
                try:
                    person = await identity.find_person(self.ctx, username)
                except NotFound:
                    continue
                # One answer for a person the sender may not know of and for none at all.
                if person.active and self.ctx.decisions.can_read(
                    client.actor.subject, person.label
                ):
                    people[person.id] = person
            if len(people) > 1:
                # A callsign two people use (or one a device uses and a username is): nobody is
                # sent what may be for the other.
                raise ChatRefused(f"callsign {name!r} is ambiguous", "ambiguous", name=name)
            if not people:
                raise ChatRefused(f"no person {name!r}", "unknown_addressee", name=name)
            found.update(people)
        return found

    def _clients_named(self, callsigns: Iterable[str], uids: Iterable[str]) -> list[CotClient]:
        """The connected clients whose contact has one of these callsigns or uids."""
        wanted_callsigns, wanted_uids = set(callsigns), set(uids)
        live = {c.id: c for c in tuple(self.clients)}
        for gone in self.contacts.keys() - live.keys():
            del self.contacts[gone]
        return [
            live[client_id]
            for client_id, contact in self.contacts.items()
            if contact.callsign in wanted_callsigns or contact.uid in wanted_uids
        ]

    async def _relay_anonymous(self, client: CotClient, event: Event, chat: GeoChat) -> None:
        """GeoChat between anonymous plain clients, as TAK Server relays it: the label must be
        one the plain identity may write (checked, refusals audited, like its positions); it
        goes only to the other anonymous clients that may read it (the addressed ones, if it
        names any), and is stored nowhere: there is no person to author it."""
        targets: set[str] | None = None
        if chat.addressed:
            named = self._clients_named(chat.recipients, chat.recipient_uids)
            targets = {c.id for c in named if c.actor.person is None}
            if not targets:
                raise ChatRefused("anonymous direct message to no anonymous client", "anonymous")
        registry = self.ctx.registry
        label = read_label(event, registry).label or parse_marking("UNCLASSIFIED", registry)
        await require(
            self.ctx,
            client.actor,
            Action.WRITE,
            Resource(label),
            audit_action="chat.relay",
            object_type="chat",
            object_id=event.uid,
        )
        encoded = Encoded(event, label, registry)
        can_read = self.ctx.decisions.can_read
        for other in tuple(self.clients):
            if (
                other.id != client.id
                and other.actor.person is None
                and (targets is None or other.id in targets)
                and can_read(other.actor.subject, label)
            ):
                other.offer(encoded.bytes_for(other))

    def answer(self, client: CotClient, chat: GeoChat, text: str) -> None:
        """A GeoChat from the server to this client alone, in the room of `chat`."""
        now = self.ctx.clock()
        reply = GeoChat(
            room=chat.room,
            room_id=chat.room_id,
            sender_uid=SERVER_UID,
            sender_callsign=SERVER_CALLSIGN,
            message_id=uuid.uuid4().hex,
            text=text,
        )
        event = _chat_event(reply, now)
        # Unclassified: it says only what the sender's own message was refused for.
        label = parse_marking("UNCLASSIFIED", self.ctx.registry)
        client.offer(Encoded(event, label, self.ctx.registry).bytes_for(client))

    # Contacts -------------------------------------------------------------------------------

    def track_seen(self, event: TrackChanged) -> None:
        """From the bus handler: a client's own position report (a `<contact>` with an
        endpoint, as ATAK, WinTAK and iTAK send for themselves) tells its uid and callsign."""
        received = event.received
        origin = event.origin
        if origin is None or not isinstance(received, Event):
            return
        detail = received.detail
        if detail.endpoint is None or not detail.callsign:
            return  # a marker or another item the client reports, not the client itself
        contact = self.contacts.get(origin)
        if contact is None or contact.uid != received.uid or contact.callsign != detail.callsign:
            self.contacts[origin] = Contact(received.uid, detail.callsign)

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
        direct = _is_direct(net)
        author = event.message.author_id
        # A message naming its addressees goes only to their clients (by callsign or uid).
        addressed: set[str] | None = None
        if chat is not None and chat.addressed:
            addressed = {c.id for c in self._clients_named(chat.recipients, chat.recipient_uids)}
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
                cot = received or _geochat(event, net, roster, text, self.ctx.clock())
                encoded = Encoded(cot, event.label, self.ctx.registry)
            client.offer(encoded.bytes_for(client))


def _refusal(exc: KyodoError) -> tuple[str, dict[str, str]]:
    """The answer to a refusal by a service: which text, and its values."""
    if isinstance(exc, GuardRefused):
        return "guard", {"reason": exc.message}
    if isinstance(exc, PermissionDenied):
        reason = "; ".join(exc.reasons) or exc.message
        return "refused", {"reason": reason}
    if isinstance(exc, NotFound):
        return "refused", {"reason": exc.message}
    return "invalid", {"reason": exc.message}


def _is_direct(net: Net) -> bool:
    """Whether a net is a direct conversation made by this bridge."""
    return net.name.startswith(DIRECT_PREFIX) and net.purpose == DIRECT_PURPOSE


def _chat_reader(client: CotClient, event: MessageChanged) -> bool:
    # Plain-TCP clients that are no person are no member; the sender has its message already.
    return client.actor.person is not None and client.id != event.origin


def _geochat(
    event: MessageChanged, net: Net, roster: Mapping[str, Member], text: str, now: datetime
) -> Event:
    """A net message as the GeoChat event ATAK shows in the chat room named like the net (in a
    direct conversation, the one-to-one chat with its author)."""
    author_id = event.message.author_id or "unknown"
    # A Kyodo person has no device uid: one made of their id stands in (without dots, the
    # separator of a GeoChat uid).
    sender_uid = "KYODO-" + author_id.replace(".", "-")
    callsign = event.author or author_id
    direct = _is_direct(net) and author_id in roster
    room = callsign if direct else net.name
    chat = GeoChat(
        room=room,
        room_id=sender_uid if direct else room,
        sender_uid=sender_uid,
        sender_callsign=callsign,
        message_id=f"kyodo-{event.seq}",
        text=text,
    )
    return _chat_event(chat, now)


def _chat_event(chat: GeoChat, now: datetime) -> Event:
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
