"""CoT XML: one event parsed from bytes (hardened, see `safexml`) and written back to bytes.

What passes through unchanged: the content of `<detail>` byte for byte, every attribute of
`<event>` and its value, and the values of `<point>`. What is rewritten: the `<event>` tag
(attributes in Kyodo's order, times as `…T…Z` with milliseconds, or microseconds where the
sender gave them; finer fractions are cut), the `<point>` numbers (shortest exact form, so
`10` becomes `10.0`), and the releasability attribute (read from `releasableTo`,
`releaseableTo` or `rel_to`, written as `releasableTo`). What TAK Server accepts is accepted:
`NaN` in `hae`, `ce` or `le` (TAK's notation for unknown; kept, and written `NaN`), an event
without `how` (written without one), a type outside the atom grammar. Parse, write and parse
again gives the same `Event`. A parsed event also keeps the bytes it was read from
(`Event.source`), so that `kyodo.cot.passthrough` can pass it on exactly as received, but for its
label.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kyodo.cot import xmltext
from kyodo.cot.detail import EMPTY, Detail
from kyodo.cot.errors import CotError
from kyodo.cot.event import RELEASABLE_TO_NAMES, UNKNOWN, Event, Point, Source, parse_time
from kyodo.cot.refusal import printable
from kyodo.cot.safexml import parse_xml

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from kyodo.cot.safexml import Parsed

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_EVENT_BYTES = 64 * 1024
_XML_NS = "{http://www.w3.org/XML/1998/namespace}"
_REQUIRED = ("uid", "type", "time", "start", "stale")
_HANDLED = frozenset({*_REQUIRED, "how", "version", "access", "caveat", *RELEASABLE_TO_NAMES})
_NAN = "NaN"  # how TAK (Java) writes an unknown number


def parse_event(data: bytes, *, max_bytes: int = MAX_EVENT_BYTES) -> Event:
    """One `<event>` from UTF-8 bytes (an XML declaration may precede it); CotError says why
    it is refused: larger than `max_bytes`, malformed or unsafe XML, a missing attribute, a
    value out of range."""
    if len(data) > max_bytes:
        raise CotError(f"an event larger than {max_bytes} bytes")
    # Kyodo rewrites <event> and <point> and passes on the inside of <detail> as it is, so a
    # namespace declared on any of these three would be lost on the way.
    parsed = parse_xml(data, mark_depth=2, namespaces_from=2)
    root = parsed.root
    if root.tag != "event":
        # An XML name (no quotes or line breaks in it), cut short for the log.
        raise CotError(f"the root element is <{root.tag[:40]}>, not <event>")
    attributes = root.attrib
    missing = [name for name in _REQUIRED if not attributes.get(name)]
    if missing:
        raise CotError(f"<event> lacks {', '.join(missing)}")
    point: Point | None = None
    detail = EMPTY
    detail_element: ET.Element | None = None
    for child in root:
        if child.tag == "point" and point is None:
            point = _point(child)
        elif child.tag == "detail" and detail_element is None:
            detail_element = child
            detail = _detail(parsed, child)
        else:
            raise CotError(f"<event> may hold one <point> and one <detail>, not <{child.tag[:40]}>")
    time = parse_time(attributes["time"], "time")
    start = (
        time
        if attributes["start"] == attributes["time"]
        else parse_time(attributes["start"], "start")
    )
    event = Event(
        uid=attributes["uid"],
        type=attributes["type"],
        how=attributes.get("how", ""),
        time=time,
        start=start,
        stale=parse_time(attributes["stale"], "stale"),
        point=point,
        detail=detail,
        access=attributes.get("access"),
        caveat=attributes.get("caveat"),
        releasable_to=_releasability(attributes),
        version=attributes.get("version") or "2.0",
        extra=tuple(
            (name.replace(_XML_NS, "xml:"), value)
            for name, value in attributes.items()
            if name not in _HANDLED
        ),
    )
    object.__setattr__(event, "source", Source(parsed, detail_element))
    return event


def serialise_event(event: Event, *, declaration: bool = False) -> bytes:
    """The event as UTF-8 XML, with an XML declaration first if asked for."""
    attributes = "".join(f' {name}="{xmltext.attribute(v)}"' for name, v in event.attributes())
    point = ""
    if event.point is not None:
        p = event.point
        point = (
            f'<point lat="{_number(p.lat)}" lon="{_number(p.lon)}" '
            f'hae="{_number(p.hae)}" ce="{_number(p.ce)}" le="{_number(p.le)}"/>'
        )
    # Never markup a naive splitter would cut the event at (CDATA holding "</event>"…).
    xml = event.detail.escaped().xml
    detail = f"<detail>{xml}</detail>" if xml else "<detail/>"
    body = f"<event{attributes}>{point}{detail}</event>".encode()
    return DECLARATION + body if declaration else body


def _number(value: float) -> str:
    return _NAN if math.isnan(value) else xmltext.number(value)


def _releasability(attributes: dict[str, str]) -> str | None:
    found = {attributes[name] for name in RELEASABLE_TO_NAMES if name in attributes}
    if len(found) > 1:
        raise CotError(f"the releasability attributes disagree: {sorted(found)}")
    return found.pop() if found else None


def _point(element: ET.Element) -> Point:
    values: dict[str, float] = {}
    for name in ("lat", "lon", "hae", "ce", "le"):
        text = element.get(name)
        if text is None:
            if name in ("lat", "lon"):
                raise CotError(f"<point> lacks {name}")
            values[name] = UNKNOWN
            continue
        try:
            values[name] = float(text)
        except ValueError:
            # The value is the sender's: quoted shortened and printable, never raw, in the log.
            raise CotError(f"<point> {name} {printable(text)} is not a number") from None
    return Point(**values)


def _detail(parsed: Parsed, element: ET.Element) -> Detail:
    span = parsed.span(element)
    base = span.inner_start
    children = tuple(
        (child, s.start - base, s.end - base) for child in element for s in (parsed.span(child),)
    )
    return Detail(parsed.text(span.inner_start, span.inner_end), children)
