"""Which net a GeoChat goes to: configured rooms, All Chat Rooms, nets by name, direct nets."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from kyodo.domain.nets import NetRole
from kyodo.errors import Conflict, KyodoError, NotFound, PermissionDenied
from kyodo.labels import parse_marking, render_marking
from kyodo.services import identity, nets
from kyodo.takserver.geochat.answers import ChatRefused
from kyodo.takserver.geochat.contacts import clients_named

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from kyodo.cot.chat import GeoChat
    from kyodo.domain.identity import Person
    from kyodo.domain.nets import Net
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.takserver.client import CotClient
    from kyodo.takserver.geochat.contacts import Contact

ALL_CHAT_ROOMS = "All Chat Rooms"  # ATAK's room for everyone on the server
# ATAK's team colours: each is a chat room of the team's members.
TEAM_ROOMS = frozenset(
    (
        "White", "Yellow", "Orange", "Magenta", "Red", "Maroon", "Purple",
        "Dark Blue", "Blue", "Cyan", "Teal", "Green", "Dark Green", "Brown",
    )
)  # fmt: skip
DIRECT_PREFIX = "DM "
DIRECT_PURPOSE = "Direct messages (GeoChat)"
_NET_NAME = re.compile(r"[\w][\w .\-/()]{0,99}")  # what a net's name may be (nets.create_net)


def direct_net_name(usernames: Iterable[str]) -> str:
    """The one name of the direct conversation of these people (any order): "DM a / b",
    or, when that is too long for a net's name, "DM " and a digest of the usernames."""
    names = sorted(set(usernames))
    name = DIRECT_PREFIX + " / ".join(names)
    if _NET_NAME.fullmatch(name):
        return name
    return DIRECT_PREFIX + hashlib.sha256("\n".join(names).encode()).hexdigest()[:32]


def is_direct(net: Net) -> bool:
    """Whether a net is a direct conversation made by this bridge."""
    return net.name.startswith(DIRECT_PREFIX) and net.purpose == DIRECT_PURPOSE


class RoomResolver:
    """The net of a person's GeoChat: the net `rooms` (`cot_chat_rooms`) names for the room; for
    "All Chat Rooms", the sender's default net (`default_nets`, `cot_chat_default_nets`); else the
    net named like the room; else the direct conversation of its sender and addressees."""

    def __init__(
        self,
        ctx: ServiceContext,
        clients: set[CotClient],
        contacts: dict[str, Contact],
        rooms: Mapping[str, str],
        default_nets: Mapping[str, str],
    ) -> None:
        self.ctx = ctx
        self.clients = clients
        self.contacts = contacts  # the bridge's own, shared
        self.rooms = rooms
        self.default_nets = default_nets

    async def net_for(
        self, client: CotClient, person: Person, chat: GeoChat, label: Label | None
    ) -> Net:
        """The net a person's GeoChat is posted in (a room's, else a direct conversation)."""
        net = await self.room_net(client.actor, person, chat)
        if net is None:
            net = await self.direct_net(client, person, chat, label)
        return net

    def _clients_named(self, callsigns: Iterable[str], uids: Iterable[str]) -> list[CotClient]:
        return clients_named(self.clients, self.contacts, callsigns, uids)

    async def room_net(self, actor: Actor, person: Person, chat: GeoChat) -> Net | None:
        """The net of a chat room: configured, the default for All Chat Rooms, or named like
        the room; None for a room that may be a direct conversation."""
        name = self.rooms.get(chat.room) or self.rooms.get(chat.room_id)
        if name is None and chat.room == ALL_CHAT_ROOMS:
            name = self._default_net(person, chat.room)
        if name is not None:
            return await self._named(actor, name, chat.room)
        try:
            return await nets.find_net(self.ctx, actor, chat.room)
        except NotFound:
            pass
        if chat.room in TEAM_ROOMS and not chat.addressed:
            # A team colour no net is configured for: the team's chat goes where the sender's
            # All Chat Rooms goes (its readers still only those the label allows).
            return await self._named(actor, self._default_net(person, chat.room), chat.room)
        if chat.addressed or self._clients_named([chat.room], [chat.room_id]):
            return None
        raise ChatRefused(f"no net matches chat room {chat.room!r}", "no_net", room=chat.room)

    def _default_net(self, person: Person, room: str) -> str:
        """The sender's default net (`cot_chat_default_nets`), or the refusal saying none is."""
        name = (
            self.default_nets.get(person.username)
            or self.default_nets.get(f"nation:{person.nation}")
            or self.default_nets.get("*")
        )
        if name is None:
            raise ChatRefused(f"no net is configured for {room!r}", "no_default", room=room)
        return name

    async def _named(self, actor: Actor, name: str, room: str) -> Net:
        try:
            return await nets.find_net(self.ctx, actor, name)
        except NotFound:
            raise ChatRefused(f"no net {name!r} for chat room", "no_net", room=room) from None

    async def direct_net(
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
