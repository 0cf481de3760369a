"""TAK protocol version 1: a TakMessage ⇄ an Event.

`TakMessage { TakControl takControl = 1; CotEvent cotEvent = 2; }` is the `takproto`
package's generated class. A CotEvent has the event's attributes (times in milliseconds since
the epoch), the point, and a Detail whose typed fields (contact, group, precisionLocation,
status, takv, track) are used, as ATAK does, only for an element that carries exactly their
attributes and nothing else, with values they hold exactly; every other element of `<detail>`
goes, as received, into `xmlDetail`. takproto's CotEvent has no `caveat` and `releasableTo`
fields (TAK Server's .proto numbers them 16 and 17): through protocol 1, Kyodo's label travels
in the 4774 element inside `xmlDetail` and `access`; the two other attributes are not carried.

Negotiation is in `kyodo.cot.negotiation`, framing in `kyodo.cot.framing`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from takproto.proto import TakMessage  # type: ignore[import-untyped]

from kyodo.cot import xmltext
from kyodo.cot.detail import Detail
from kyodo.cot.errors import CotError
from kyodo.cot.event import Event, Point

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


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
