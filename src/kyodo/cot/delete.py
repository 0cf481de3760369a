"""TAK's delete (`t-x-d-d`): which item an event deletes, and the event that deletes an item."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from kyodo.cot import xmltext
from kyodo.cot.detail import Detail
from kyodo.cot.event import Event, Point

if TYPE_CHECKING:
    from datetime import datetime

DELETE_TYPE = "t-x-d-d"
# How ATAK marks a delete it sends (a human, on a GUI, by a plain gesture).
_HOW = "h-g-i-g-o"
_LIFETIME = timedelta(minutes=1)


def deleted_uid(event: Event) -> str | None:
    """The uid of the item a `t-x-d-d` event deletes: its first `<link uid>` (ATAK, WinTAK and
    iTAK put the item there, with relation "none" or "p-p", beside `<__forcedelete/>`; the
    event's own uid is the sender's or a fresh one). None for other events or without a link."""
    if event.type != DELETE_TYPE:
        return None
    for link in event.detail.findall("link"):
        uid = link.get("uid")
        if uid and uid.strip():
            return uid
    return None


def delete_event(uid: str, item_type: str, at: datetime) -> Event:
    """A `t-x-d-d` event deleting item `uid` (of CoT type `item_type`), as TAK clients send
    one: a link to the item and `<__forcedelete/>`, at 0,0 (a delete has no position)."""
    link = (
        f'<link uid="{xmltext.attribute(uid)}" relation="none"'
        f' type="{xmltext.attribute(item_type)}"/><__forcedelete/>'
    )
    return Event(
        uid=str(uuid.uuid4()),
        type=DELETE_TYPE,
        how=_HOW,
        time=at,
        start=at,
        stale=at + _LIFETIME,
        point=Point(0.0, 0.0),
        detail=Detail(link),
    )
