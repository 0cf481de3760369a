"""TAK's keep-alive: a client's ping (`t-x-c-t`) and the pong (`t-x-c-t-r`) that answers it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from kyodo.cot.event import UNKNOWN, Event, Point

if TYPE_CHECKING:
    from datetime import datetime

PING_TYPE = "t-x-c-t"
PONG_TYPE = "t-x-c-t-r"
PONG_UID = "takPong"
_PONG_STALE = timedelta(seconds=20)
_PING_STALE = timedelta(seconds=20)


def ping(now: datetime, *, uid: str) -> Event:
    """A client's ping, as ATAK sends it (uid `<device uid>-ping`)."""
    return Event(
        uid=uid,
        type=PING_TYPE,
        how="h-g-i-g-o",
        time=now,
        start=now,
        stale=now + _PING_STALE,
        point=Point(0.0, 0.0, 0.0, UNKNOWN, UNKNOWN),
    )


def pong(now: datetime) -> Event:
    """The server's answer to a ping, written as TAK Server writes it: uid `takPong`, how
    `h-g-i-g-o`, a point at 0,0 with unknown errors, stale 20 s after it was sent, no detail.

    ATAK pings after 15 s without traffic and reconnects after 25 s without any, so a server
    that never answers drops it every half minute (and sends it the snapshot again each time).
    """
    return Event(
        uid=PONG_UID,
        type=PONG_TYPE,
        how="h-g-i-g-o",
        time=now,
        start=now,
        stale=now + _PONG_STALE,
        point=Point(0.0, 0.0, 0.0, UNKNOWN, UNKNOWN),
    )
