"""The `<detail>` of a CoT event: kept exactly as received, with what Kyodo reads from it."""

from __future__ import annotations

import copy
import math
import xml.etree.ElementTree as ET  # writes elements expat already parsed
from dataclasses import InitVar, dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from kyodo.cot import xmltext
from kyodo.cot.errors import CotError
from kyodo.cot.safexml import parse_xml

if TYPE_CHECKING:
    from collections.abc import Iterable

_WRAP_OPEN, _WRAP_CLOSE = b"<detail>", b"</detail>"

# One top-level child of <detail> and where its XML lies in the UTF-8 of `Detail.xml`.
Child = tuple["ET.Element", int, int]


@dataclass(frozen=True, slots=True)
class Detail:
    """The content of `<detail>` (`xml`, the text between the tags, byte for byte as received)
    and the fields Kyodo reads from it; the fields are always derived from `xml`.

    Read: `<contact callsign endpoint>`, `<__group name role>`, `<track course speed>` (a value
    that is not a finite number in range reads as None: the sender's text is still passed on),
    `<remarks>` text and the callsigns of `<marti><dest callsign/></marti>`.
    """

    xml: str = ""
    parsed: InitVar[tuple[Child, ...] | None] = None
    callsign: str | None = field(init=False, default=None)
    endpoint: str | None = field(init=False, default=None)
    group_name: str | None = field(init=False, default=None)
    group_role: str | None = field(init=False, default=None)
    course: float | None = field(init=False, default=None)
    speed: float | None = field(init=False, default=None)
    remarks: str | None = field(init=False, default=None)
    recipients: tuple[str, ...] = field(init=False, default=())
    _children: tuple[Child, ...] = field(init=False, default=(), repr=False, compare=False)

    def __post_init__(self, parsed: tuple[Child, ...] | None) -> None:
        # `parsed` lets the event parser hand over the children it already parsed, so a detail
        # is parsed once; otherwise `xml` is parsed here, so the fields never disagree with it.
        children = parsed if parsed is not None else _parse(self.xml)
        set_ = object.__setattr__
        set_(self, "_children", children)
        contact = self.find("contact")
        if contact is not None:
            set_(self, "callsign", contact.get("callsign"))
            set_(self, "endpoint", contact.get("endpoint"))
        group = self.find("__group")
        if group is not None:
            set_(self, "group_name", group.get("name"))
            set_(self, "group_role", group.get("role"))
        track = self.find("track")
        if track is not None:
            set_(self, "course", _number(track.get("course"), 0.0, 360.0))
            set_(self, "speed", _number(track.get("speed"), 0.0, math.inf))
        remarks = self.find("remarks")
        if remarks is not None:
            set_(self, "remarks", "".join(remarks.itertext()))
        set_(
            self,
            "recipients",
            tuple(
                callsign
                for marti in self.findall("marti")
                for dest in marti.iter("dest")
                if (callsign := dest.get("callsign"))
            ),
        )

    def children(self) -> tuple[ET.Element, ...]:
        """The top-level elements, in order (read-only: they belong to this detail)."""
        return tuple(element for element, _, _ in self._children)

    def find(self, tag: str) -> ET.Element | None:
        """The first top-level element with this tag (read-only), or None."""
        for element, _, _ in self._children:
            if element.tag == tag:
                return element
        return None

    def findall(self, tag: str) -> list[ET.Element]:
        """Every top-level element with this tag, in order (read-only)."""
        return [element for element, _, _ in self._children if element.tag == tag]

    def child_xml(self, element: ET.Element) -> str:
        """The XML of one top-level element, as received."""
        raw = self.xml.encode("utf-8")
        for child, start, end in self._children:
            if child is element:
                return raw[start:end].decode("utf-8")
        raise KeyError(element.tag)

    def without(self, tag: str) -> Detail:
        """This detail without its top-level elements of this tag; the rest unchanged."""
        if self.find(tag) is None:
            return self
        raw = self.xml.encode("utf-8")
        kept: list[bytes] = []
        children: list[Child] = []
        cursor = removed = 0
        for element, start, end in self._children:
            if element.tag == tag:
                kept.append(raw[cursor:start])
                cursor = end
                removed += end - start
            else:
                children.append((element, start - removed, end - removed))
        kept.append(raw[cursor:])
        return Detail(b"".join(kept).decode("utf-8"), tuple(children))

    def escaped(self) -> Detail:
        """This detail, or where it holds markup a naive splitter would take for an event
        boundary (`xmltext.looks_like_a_boundary`), a copy written again from what it means:
        the parts that hold such markup are re-serialised, so CDATA becomes escaped text and
        comments and processing instructions go; an element whose very name looks like a
        boundary (`<eventInfo>`) cannot be written safely and is left out. Other parts stay
        byte for byte."""
        if not xmltext.looks_like_a_boundary(self.xml):
            return self
        raw = self.xml.encode("utf-8")
        parts: list[str] = []
        cursor = 0
        for element, start, end in self._children:
            parts.append(_safe_between(raw[cursor:start].decode("utf-8")))
            child = raw[start:end].decode("utf-8")
            if xmltext.looks_like_a_boundary(child):
                child = _reserialised(element)
            parts.append(child)
            cursor = end
        parts.append(_safe_between(raw[cursor:].decode("utf-8")))
        return Detail("".join(parts))

    def appended(self, fragment: str) -> Detail:
        """This detail with `fragment` (well-formed XML, checked) added at its end."""
        shift = len(self.xml.encode("utf-8"))
        added = tuple((e, start + shift, end + shift) for e, start, end in _fragment(fragment))
        return Detail(self.xml + fragment, self._children + added)

    @classmethod
    def build(
        cls,
        *,
        callsign: str | None = None,
        endpoint: str | None = None,
        group_name: str | None = None,
        group_role: str | None = None,
        course: float | None = None,
        speed: float | None = None,
        remarks: str | None = None,
        recipients: Iterable[str] = (),
        extra: str = "",
    ) -> Detail:
        """A detail written by Kyodo from its fields (and `extra`, well-formed XML appended)."""
        parts: list[str] = []
        contact = _attributes(callsign=callsign, endpoint=endpoint)
        if contact:
            parts.append(f"<contact{contact}/>")
        group = _attributes(name=group_name, role=group_role)
        if group:
            parts.append(f"<__group{group}/>")
        if course is not None or speed is not None:
            track = _attributes(
                course=None if course is None else xmltext.number(course),
                speed=None if speed is None else xmltext.number(speed),
            )
            parts.append(f"<track{track}/>")
        if remarks is not None:
            parts.append(f"<remarks>{xmltext.text(remarks)}</remarks>")
        dests = "".join(f"<dest{_attributes(callsign=c)}/>" for c in recipients)
        if dests:
            parts.append(f"<marti>{dests}</marti>")
        return cls("".join(parts) + extra)


def _parse(xml: str) -> tuple[Child, ...]:
    if xmltext.xml_forbidden(xml):
        raise CotError("detail holds characters XML cannot carry")
    parsed = parse_xml(_WRAP_OPEN + xml.encode("utf-8") + _WRAP_CLOSE, mark_depth=1)
    offset = len(_WRAP_OPEN)
    return tuple(
        (element, span.start - offset, span.end - offset)
        for element in parsed.root
        for span in (parsed.span(element),)
    )


# The fragments Kyodo appends are few (one label element per distinct label): parse each once.
# The elements are shared by the details that hold them, which treat them as read-only.
_fragment = lru_cache(maxsize=256)(_parse)


def _safe_between(xml: str) -> str:
    """Content between top-level elements (text, CDATA, comments, PIs) as escaped text."""
    if not xmltext.looks_like_a_boundary(xml):
        return xml
    parsed = parse_xml(_WRAP_OPEN + xml.encode("utf-8") + _WRAP_CLOSE, mark_depth=0)
    return xmltext.text("".join(parsed.root.itertext()))


def _reserialised(element: ET.Element) -> str:
    """An element written again by ElementTree: text escaped, no CDATA, comments or PIs (the
    parser kept none); empty if its markup still looks like a boundary (its own name)."""
    alone = copy.copy(element)  # without its tail: the text after it is written on its own
    alone.tail = None
    written = ET.tostring(alone, encoding="unicode")
    return "" if xmltext.looks_like_a_boundary(written) else written


def _number(value: str | None, low: float, high: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def _attributes(**values: str | None) -> str:
    for name, value in values.items():
        if value is not None and xmltext.xml_forbidden(value):
            raise CotError(f"{name} holds characters XML cannot carry")
    return "".join(
        f' {name}="{xmltext.attribute(value)}"' for name, value in values.items() if value
    )


EMPTY = Detail()  # built last: it needs the helpers above
