"""GeoChat: the TAK chat message (`b-t-f`) read from a CoT event's detail.

A GeoChat event has the uid `GeoChat.<senderUid>.<room>.<messageId>` and, in `<detail>`:
`<__chat chatroom id senderCallsign messageId><chatgrp uid0 uid1 id/></__chat>`,
`<link uid relation="p-p"/>` (the sender), `<remarks source to time>text</remarks>`, and
`<marti><dest callsign/></marti>` (ATAK, WinTAK) or `<dest uid/>` (iTAK, CloudTAK) for each
addressee of a direct message. A direct message's room is the addressee's callsign and its id
their uid; ATAK before 2022 wrote no `senderCallsign` (the `<contact>`, else the uid, stands in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.cot import xmltext
from kyodo.cot.detail import Detail
from kyodo.cot.errors import CotError

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

GEOCHAT_TYPE = "b-t-f"
_PREFIX = "GeoChat."


@dataclass(frozen=True, slots=True)
class GeoChat:
    """One chat message: `room` is the chat room's name (`All Chat Rooms`, a group, or a
    callsign for a direct message), `room_id` its id, `recipients` the callsigns and
    `recipient_uids` the uids of the `marti` addressees."""

    room: str
    room_id: str
    sender_uid: str
    sender_callsign: str
    message_id: str
    text: str
    recipients: tuple[str, ...] = ()
    recipient_uids: tuple[str, ...] = ()

    @property
    def addressed(self) -> bool:
        """Whether the message names its addressees (`<marti><dest>`)."""
        return bool(self.recipients or self.recipient_uids)


def read_geochat(uid: str, detail: Detail) -> GeoChat:
    """The chat message of a `b-t-f` event; CotError names what is missing."""
    chat = detail.find("__chat")
    if chat is None:
        raise CotError(f"GeoChat event {uid!r} has no <__chat> in its detail")
    room = chat.get("chatroom")
    if not room:
        raise CotError(f"GeoChat event {uid!r}: <__chat> has no chatroom")
    from_uid = _uid_parts(uid)
    message_id = chat.get("messageId") or (from_uid[1] if from_uid else None)
    if not message_id:
        raise CotError(f"GeoChat event {uid!r}: no messageId (in <__chat> or the uid)")
    sender_uid = _sender_uid(detail, chat) or (from_uid[0] if from_uid else None)
    if not sender_uid:
        raise CotError(f"GeoChat event {uid!r}: no sender uid (<link>, <chatgrp uid0> or uid)")
    # Older clients name the sender only in the event's <contact>, if at all.
    sender_callsign = chat.get("senderCallsign") or detail.callsign or sender_uid
    return GeoChat(
        room=room,
        room_id=chat.get("id") or room,
        sender_uid=sender_uid,
        sender_callsign=sender_callsign,
        message_id=message_id,
        text=detail.remarks or "",
        recipients=detail.recipients,
        recipient_uids=tuple(
            dest_uid
            for marti in detail.findall("marti")
            for dest in marti.iter("dest")
            # iTAK also names itself in <dest uid> on what it sends to a mission.
            if (dest_uid := dest.get("uid")) and not dest.get("callsign") and dest_uid != sender_uid
        ),
    )


def geochat_uid(chat: GeoChat) -> str:
    """The uid ATAK gives a chat message: `GeoChat.<senderUid>.<room id>.<messageId>`."""
    return f"{_PREFIX}{chat.sender_uid}.{chat.room_id}.{chat.message_id}"


def geochat_detail(chat: GeoChat, time: str) -> Detail:
    """The `<detail>` of a chat message to a room, as ATAK writes one (`time` is the CoT text
    of when it was sent); `read_geochat` reads back the same message, but for characters XML
    cannot carry, which become U+FFFD."""

    def a(value: str) -> str:
        return xmltext.attribute(xmltext.scrub(value))

    room, room_id, sender = a(chat.room), a(chat.room_id), a(chat.sender_uid)
    return Detail(
        f'<__chat parent="RootContactGroup" groupOwner="false" messageId="{a(chat.message_id)}"'
        f' chatroom="{room}" id="{room_id}" senderCallsign="{a(chat.sender_callsign)}">'
        f'<chatgrp uid0="{sender}" uid1="{room_id}" id="{room_id}"/></__chat>'
        f'<link uid="{sender}" type="a-f-G-U-C" relation="p-p"/>'
        f'<remarks source="KYODO.{sender}" to="{room_id}" time="{a(time)}">'
        f"{xmltext.text(xmltext.scrub(chat.text))}</remarks>"
    )


def _sender_uid(detail: Detail, chat: ET.Element) -> str | None:
    for link in detail.findall("link"):
        if link.get("relation") == "p-p" and link.get("uid"):
            return link.get("uid")
    group = chat.find("chatgrp")
    return None if group is None else (group.get("uid0") or None)


def _uid_parts(uid: str) -> tuple[str, str] | None:
    """(sender uid, message id) from `GeoChat.<sender>.<room>.<id>`; the room may hold dots,
    so only the first and last parts are taken."""
    if not uid.startswith(_PREFIX):
        return None
    sender, _, rest = uid[len(_PREFIX) :].partition(".")
    _, _, message_id = rest.rpartition(".")
    return (sender, message_id) if sender and message_id else None
