"""TAK protocol version 1: negotiation, stream and mesh framing, TakMessage ⇄ Event.

Every connection starts in XML. The server may offer `t-x-takp-v` with
`<TakControl><TakProtocolSupport version="1"/></TakControl>`; a client asks with `t-x-takp-q`
`<TakControl><TakRequest version="1"/></TakControl>`; the server answers `t-x-takp-r`
`<TakControl><TakResponse status="true"/></TakControl>`, and from then on both directions
use stream framing: `0xbf <varint length> <TakMessage>`. Mesh (UDP) framing is
`0xbf 0x01 0xbf <TakMessage>`, one message per datagram. (pytak with `TAK_PROTO=1` skips the
negotiation and sends stream frames at once, so a first byte of 0xbf means protocol 1.)

`TakMessage { TakControl takControl = 1; CotEvent cotEvent = 2; }` is the `takproto`
package's generated class. A CotEvent has the event's attributes (times in milliseconds since
the epoch), the point, and a Detail whose typed fields (contact, group, precisionLocation,
status, takv, track) are used, as ATAK does, only for an element that carries exactly their
attributes and nothing else, with values they hold exactly; every other element of `<detail>`
goes, as received, into `xmlDetail`. takproto's CotEvent has no `caveat` and `releasableTo`
fields (TAK Server's .proto numbers them 16 and 17): through protocol 1, Kyodo's label travels
in the 4774 element inside `xmlDetail` and `access`; the two other attributes are not carried.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from takproto.proto import TakMessage  # type: ignore[import-untyped]

from kyodo.cot import xmltext
from kyodo.cot.detail import Detail
from kyodo.cot.errors import CotError
from kyodo.cot.event import UNKNOWN, Event, Point
from kyodo.cot.refusal import Batch, refusal

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

__all__ = [
    "MAX_MESSAGE_BYTES",
    "FrameDecoder",
    "TakEventReader",
    "TakMessage",
    "event_to_message",
    "frame_mesh",
    "frame_stream",
    "message_to_event",
    "offered_versions",
    "protocol_offer",
    "protocol_request",
    "protocol_response",
    "requested_version",
    "response_status",
    "unframe_mesh",
]

MAGIC = 0xBF
MESH_HEADER = b"\xbf\x01\xbf"
MAX_MESSAGE_BYTES = 64 * 1024
# A declared length beyond this many times the cap is not an oversize message but noise:
# resynchronise at the next 0xbf rather than skip that many bytes.
_IMPLAUSIBLE = 16
_MAX_VARINT_BYTES = 5  # 35 bits: far above any length the cap allows
OFFER_TYPE = "t-x-takp-v"
REQUEST_TYPE = "t-x-takp-q"
RESPONSE_TYPE = "t-x-takp-r"
SUPPORTED_VERSIONS = (1,)
PROTOCOL_UID = "protouid"  # the uid TAK Server gives its negotiation events
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_NEGOTIATION_STALE = timedelta(minutes=1)


# Negotiation -------------------------------------------------------------------------------


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


# Framing -----------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if not value:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def frame_stream(message: Any) -> bytes:
    """A TakMessage in stream framing: `0xbf`, its length as a varint, the protobuf."""
    body: bytes = message.SerializeToString()
    return bytes((MAGIC,)) + _varint(len(body)) + body


def frame_mesh(message: Any) -> bytes:
    """A TakMessage in mesh framing (one UDP datagram): `0xbf 0x01 0xbf`, the protobuf."""
    body: bytes = message.SerializeToString()
    return MESH_HEADER + body


def unframe_mesh(datagram: bytes, *, max_message_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """The TakMessage of a mesh datagram; CotError says why it is refused."""
    if not datagram.startswith(MESH_HEADER):
        raise CotError("a mesh datagram starts with 0xbf 0x01 0xbf")
    body = datagram[len(MESH_HEADER) :]
    if len(body) > max_message_bytes:
        raise CotError(f"a TAK message of {len(body)} bytes; at most {max_message_bytes}")
    return _parse_message(body)


def _parse_message(body: bytes) -> Any:
    message = TakMessage()
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        raise CotError(f"not a TakMessage: {exc}") from None
    return message


class FrameDecoder:
    """Splits a TAK protocol 1 stream into TakMessages, whatever the reads look like.

    `feed` never raises: bytes that are not a frame, frames longer than the cap, and payloads
    that are not a TakMessage are refused (and counted in `refused`), and decoding resumes at
    the next frame.
    """

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_message_bytes = max_message_bytes
        self.refused = 0
        self._buffer = bytearray()
        self._skip = 0

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> Batch[Any]:
        """The TakMessages completed by `data`, and what was refused."""
        batch: Batch[Any] = Batch()
        buffer = self._buffer
        buffer += data
        pos, size = 0, len(buffer)
        while pos < size:
            if self._skip:
                dropped = min(self._skip, size - pos)
                pos += dropped
                self._skip -= dropped
                continue
            if buffer[pos] != MAGIC:
                found = buffer.find(MAGIC, pos)
                end = size if found < 0 else found
                self._refuse(batch, "bytes that are not a TAK frame (0xbf …)", buffer[pos:end])
                pos = end
                continue
            length, body_at = self._length(buffer, pos + 1, size)
            if length is None:
                if body_at - pos - 1 >= _MAX_VARINT_BYTES:
                    self._refuse(
                        batch, "a TAK frame length that is not a varint", buffer[pos:body_at]
                    )
                    pos += 1
                    continue
                break  # the length is not complete yet
            if length == 0:
                self._refuse(batch, "an empty TAK frame", buffer[pos:body_at])
                pos = body_at
                continue
            if length > self.max_message_bytes:
                if length > _IMPLAUSIBLE * self.max_message_bytes:
                    self._refuse(
                        batch, f"a TAK frame length of {length} bytes", buffer[pos:body_at]
                    )
                    pos += 1
                    continue
                self._refuse(
                    batch,
                    f"a TAK message of {length} bytes; at most {self.max_message_bytes}",
                    buffer[pos:body_at],
                )
                pos = body_at
                self._skip = length
                continue
            if size - body_at < length:
                break  # the body is not complete yet
            body = bytes(buffer[body_at : body_at + length])
            pos = body_at + length
            try:
                batch.items.append(_parse_message(body))
            except CotError as exc:
                self._refuse(batch, exc.message, body)
        del buffer[:pos]
        return batch

    @staticmethod
    def _length(buffer: bytearray, at: int, size: int) -> tuple[int | None, int]:
        """(length, where the body starts), or (None, where reading stopped)."""
        length = shift = 0
        while at < size and shift < 7 * _MAX_VARINT_BYTES:
            byte = buffer[at]
            at += 1
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return length, at
            shift += 7
        return None, at

    def _refuse(self, batch: Batch[Any], reason: str, data: bytes | bytearray) -> None:
        self.refused += 1
        batch.refusals.append(refusal(reason, data))


class TakEventReader:
    """A TAK protocol 1 stream read as Events: frames (`FrameDecoder`) converted with
    `message_to_event`; a message that is not a valid event is refused and counted, and a
    TakControl-only message is skipped."""

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.frames = FrameDecoder(max_message_bytes)
        self._converted_refused = 0

    @property
    def refused(self) -> int:
        """Refusals so far, of frames and of events."""
        return self.frames.refused + self._converted_refused

    def feed(self, data: bytes) -> Batch[Event]:
        """The events completed by `data`, and what was refused."""
        decoded = self.frames.feed(data)
        batch: Batch[Event] = Batch(refusals=decoded.refusals)
        for message in decoded.items:
            if not message.HasField("cotEvent"):
                continue
            try:
                batch.items.append(message_to_event(message))
            except CotError as exc:
                self._converted_refused += 1
                batch.refusals.append(refusal(exc.message, message.SerializeToString()))
        return batch


# TakMessage ⇄ Event ------------------------------------------------------------------------

# The typed Detail fields: element, its exact attribute set, the protobuf field.
_TYPED = (
    ("contact", frozenset({"callsign", "endpoint"}), "contact"),
    ("__group", frozenset({"name", "role"}), "group"),
    ("precisionlocation", frozenset({"geopointsrc", "altsrc"}), "precisionLocation"),
    ("status", frozenset({"battery"}), "status"),
    ("takv", frozenset({"device", "platform", "os", "version"}), "takv"),
    ("track", frozenset({"speed", "course"}), "track"),
)
_TYPED_BY_TAG = {tag: (names, field) for tag, names, field in _TYPED}
_EXTRA_FIELDS = ("qos", "opex")


def _millis(moment: datetime) -> int:
    return (moment - _EPOCH) // _MS


def _moment(millis: int, name: str) -> datetime:
    if not millis:
        raise CotError(f"the CotEvent has no {name}")
    try:
        return _EPOCH + millis * _MS
    except OverflowError:
        raise CotError(f"the CotEvent {name} {millis} is out of range") from None


def _typed_value(element: ET.Element) -> bool:
    """Whether an element goes into its typed field without losing anything."""
    names, _ = _TYPED_BY_TAG[element.tag]
    attributes = element.attrib
    if len(element) or (element.text or "").strip() or not set(attributes) <= names:
        return False
    if not all(attributes.values()):  # protobuf cannot tell "" from absent
        return False
    if element.tag == "contact":
        return "callsign" in attributes
    if set(attributes) != names:
        return False
    if element.tag == "status":
        battery = attributes["battery"]
        return battery.isdecimal() and str(int(battery)) == battery and int(battery) < 2**32
    if element.tag == "track":
        return all(_exact_float(attributes[name]) for name in names)
    return True


def _exact_float(text: str) -> bool:
    try:
        return xmltext.number(float(text)) == text
    except ValueError:
        return False


def event_to_message(event: Event) -> Any:
    """The event as a TakMessage (`cotEvent` set, no `takControl`)."""
    message = TakMessage()
    cot = message.cotEvent
    cot.type = event.type
    cot.uid = event.uid
    cot.how = event.how
    cot.sendTime = _millis(event.time)
    cot.startTime = _millis(event.start)
    cot.staleTime = _millis(event.stale)
    if event.access:
        cot.access = event.access
    extra = dict(event.extra)
    for name in _EXTRA_FIELDS:
        if extra.get(name):
            setattr(cot, name, extra[name])
    point = event.point or Point(0.0, 0.0)
    cot.lat, cot.lon, cot.hae, cot.ce, cot.le = point.lat, point.lon, point.hae, point.ce, point.le
    detail = cot.detail
    rest: list[str] = []
    used: set[str] = set()
    source = event.detail.escaped()  # xmlDetail too may reach a naive XML splitter
    for element in source.children():
        # As in ATAK, only the first element of a tag may take the typed field.
        first = element.tag in _TYPED_BY_TAG and element.tag not in used
        used.add(element.tag)
        if first and _typed_value(element):
            target = getattr(detail, _TYPED_BY_TAG[element.tag][1])
            for name, value in element.attrib.items():
                converted: object = value
                if element.tag == "track":
                    converted = float(value)
                elif element.tag == "status":
                    converted = int(value)
                setattr(target, name, converted)
        else:
            rest.append(source.child_xml(element))
    if rest:
        detail.xmlDetail = "".join(rest)
    if not event.detail.xml:
        cot.ClearField("detail")
    return message


def message_to_event(message: Any) -> Event:
    """The Event of a TakMessage; CotError says why it cannot be one (no cotEvent, missing
    times, bad values, an `xmlDetail` that is not well-formed or is unsafe)."""
    if not message.HasField("cotEvent"):
        raise CotError("the TakMessage has no cotEvent")
    cot = message.cotEvent
    parts: list[str] = []
    if cot.HasField("detail"):
        detail = cot.detail
        parts.append(detail.xmlDetail)
        for tag, names, field in _TYPED:
            if not detail.HasField(field):
                continue
            typed = getattr(detail, field)
            values: dict[str, str] = {}
            for name in sorted(names):
                value = getattr(typed, name)
                if tag == "track":
                    if not math.isfinite(value):
                        raise CotError(f"the CotEvent track {name} is {value}")
                    values[name] = xmltext.number(value)
                elif tag == "status":
                    values[name] = str(value)
                elif value:
                    values[name] = value
            attributes = "".join(f' {k}="{xmltext.attribute(v)}"' for k, v in values.items())
            parts.append(f"<{tag}{attributes}/>")
    extra = tuple((name, getattr(cot, name)) for name in _EXTRA_FIELDS if getattr(cot, name))
    return Event(
        uid=cot.uid,
        type=cot.type,
        how=cot.how,
        time=_moment(cot.sendTime, "sendTime"),
        start=_moment(cot.startTime, "startTime"),
        stale=_moment(cot.staleTime, "staleTime"),
        point=Point(cot.lat, cot.lon, cot.hae, cot.ce, cot.le),
        detail=Detail("".join(parts)),
        access=cot.access or None,
        extra=extra,
    )
