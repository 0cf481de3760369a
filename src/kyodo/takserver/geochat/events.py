"""The GeoChat events Kyodo writes: a net message as ATAK shows it, and any chat as an event."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from kyodo.cot import Event, Point
from kyodo.cot.chat import GEOCHAT_TYPE, GeoChat, geochat_detail, geochat_uid
from kyodo.cot.event import format_time
from kyodo.services.messages import chat_ref

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from kyodo.bus.events import MessageChanged
    from kyodo.domain.nets import Member, Net

CHAT_STALE = timedelta(days=1)  # how long ATAK keeps a chat message's event


def net_message_event(
    event: MessageChanged,
    net: Net,
    roster: Mapping[str, Member],
    text: str,
    now: datetime,
    *,
    direct_net: bool,
) -> Event:
    """A net message as the GeoChat event ATAK shows in the chat room named like the net (in a
    direct conversation, `direct_net`, the one-to-one chat with its author)."""
    author_id = event.message.author_id or "unknown"
    # A Kyodo person has no device uid: one made of their id stands in (without dots, the
    # separator of a GeoChat uid).
    sender_uid = "KYODO-" + author_id.replace(".", "-")
    callsign = event.author or author_id
    direct = direct_net and author_id in roster
    room = callsign if direct else net.name
    chat = GeoChat(
        room=room,
        room_id=sender_uid if direct else room,
        sender_uid=sender_uid,
        sender_callsign=callsign,
        message_id=chat_ref(event.seq),
        text=text,
    )
    return chat_event(chat, now)


def chat_event(chat: GeoChat, now: datetime) -> Event:
    """A GeoChat as the CoT event that carries it, sent now."""
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
