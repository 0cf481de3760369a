"""TAK protocol negotiation: the control events that switch a connection to protocol 1.

Every connection starts in XML. The server may offer `t-x-takp-v` with
`<TakControl><TakProtocolSupport version="1"/></TakControl>`; a client asks with `t-x-takp-q`
`<TakControl><TakRequest version="1"/></TakControl>`; the server answers `t-x-takp-r`
`<TakControl><TakResponse status="true"/></TakControl>`, and from then on both directions
use stream framing (`kyodo.cot.framing`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from kyodo.cot.detail import Detail
from kyodo.cot.errors import CotError
from kyodo.cot.event import UNKNOWN, Event, Point

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET
    from datetime import datetime

OFFER_TYPE = "t-x-takp-v"
REQUEST_TYPE = "t-x-takp-q"
RESPONSE_TYPE = "t-x-takp-r"
SUPPORTED_VERSIONS = (1,)
PROTOCOL_UID = "protouid"  # the uid TAK Server gives its negotiation events
_NEGOTIATION_STALE = timedelta(minutes=1)


def _control_event(kind: str, now: datetime, uid: str, control: str) -> Event:
    return Event(
        uid=uid,
        type=kind,
        how="m-g",
        time=now,
        start=now,
        stale=now + _NEGOTIATION_STALE,
        point=Point(0.0, 0.0, UNKNOWN, UNKNOWN, UNKNOWN),
        detail=Detail(f"<TakControl>{control}</TakControl>"),
    )


def protocol_offer(
    now: datetime, *, versions: tuple[int, ...] = SUPPORTED_VERSIONS, uid: str = PROTOCOL_UID
) -> Event:
    """The server's `t-x-takp-v`: the protocol versions it speaks."""
    support = "".join(f'<TakProtocolSupport version="{v:d}"/>' for v in versions)
    return _control_event(OFFER_TYPE, now, uid, support)


def protocol_request(now: datetime, *, version: int = 1, uid: str = PROTOCOL_UID) -> Event:
    """A client's `t-x-takp-q`: the version it asks for."""
    return _control_event(REQUEST_TYPE, now, uid, f'<TakRequest version="{version:d}"/>')


def protocol_response(now: datetime, *, accepted: bool, uid: str = PROTOCOL_UID) -> Event:
    """The server's `t-x-takp-r`: whether it switches to the version asked for."""
    status = "true" if accepted else "false"
    return _control_event(RESPONSE_TYPE, now, uid, f'<TakResponse status="{status}"/>')


def _control(event: Event, kind: str, child: str) -> list[ET.Element]:
    if event.type != kind:
        return []
    control = event.detail.find("TakControl")
    if control is None:
        raise CotError(f"a {kind} event without <TakControl>")
    return control.findall(child)


def _version(element: ET.Element) -> int:
    text = element.get("version", "")
    if not text.isdecimal() or len(text) > 4:
        raise CotError(f"TAK protocol version {text!r} is not a number")
    return int(text)


def offered_versions(event: Event) -> tuple[int, ...]:
    """The versions a `t-x-takp-v` offers (empty for any other event)."""
    return tuple(_version(e) for e in _control(event, OFFER_TYPE, "TakProtocolSupport"))


def requested_version(event: Event) -> int | None:
    """The version a client's `t-x-takp-q` asks for; None for any other event."""
    found = _control(event, REQUEST_TYPE, "TakRequest")
    if event.type == REQUEST_TYPE and not found:
        raise CotError("a t-x-takp-q event without <TakRequest version>")
    return _version(found[0]) if found else None


def response_status(event: Event) -> bool | None:
    """Whether a `t-x-takp-r` accepts; None for any other event."""
    found = _control(event, RESPONSE_TYPE, "TakResponse")
    if not found:
        if event.type == RESPONSE_TYPE:
            raise CotError("a t-x-takp-r event without <TakResponse status>")
        return None
    return found[0].get("status", "").strip().lower() == "true"
