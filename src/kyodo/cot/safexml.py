"""Hardened XML parsing for CoT: no DTD, no entities, no external references, UTF-8, byte spans.

The parser is expat (pyexpat) hardened the way defusedxml hardens it, with handlers that refuse
a DOCTYPE (before its internal subset is read), any entity declaration and any external entity
reference; parameter entities are never parsed and the encoding is UTF-8 only (a declared
`encoding` other than UTF-8 or ASCII is refused, and so is UTF-16 or UTF-32, with or without a
byte order mark). Without a DTD expat refuses every entity but the five predefined ones and
character references, so neither entity expansion ("billion laughs") nor external entities
(XXE) can happen. Nesting deeper than `MAX_DEPTH` is refused, and so are
namespace declarations on the first levels (see `parse_xml`).

defusedxml's own ElementTree parser runs expat through the pure-Python XMLParser; driving
pyexpat directly with the same protections builds the same tree (with the C TreeBuilder) two to
three times faster, and expat itself says where each element starts and ends in the input
bytes, so a `<detail>` can be passed on exactly as it was received.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # the element type and the C TreeBuilder; expat parses
from dataclasses import dataclass
from typing import NoReturn
from xml.parsers.expat import XML_PARAM_ENTITY_PARSING_NEVER, ExpatError, ParserCreate

from kyodo.cot.errors import CotError

MAX_DEPTH = 32
_UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_DECLARED_ENCODING = re.compile(
    rb"\s*(?:\xef\xbb\xbf)?<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']"
)
# A start tag of well-formed XML: a name, attributes with quoted values (which may hold '>'),
# and an optional '/' for an empty element.
_START_TAG = re.compile(rb"<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*(/?)>")


@dataclass(frozen=True, slots=True)
class Span:
    """Where an element is in the input: `start`..`end` is the whole element and
    `inner_start`..`inner_end` its content (empty for `<x/>`); byte offsets."""

    start: int
    end: int
    inner_start: int
    inner_end: int


@dataclass(frozen=True, slots=True, eq=False)
class Parsed:
    """A parsed document: its root and where the elements of the first levels are."""

    data: bytes
    root: ET.Element
    # element -> (byte where its start tag begins, byte where expat reported its end)
    marks: dict[ET.Element, tuple[int, int]]

    def span(self, element: ET.Element) -> Span:
        """The span of an element of the recorded levels."""
        start, at_end = self.marks[element]
        tag = _START_TAG.match(self.data, start)
        if tag is None:  # pragma: no cover - expat accepted the tag, so the pattern matches it
            raise CotError(f"XML refused: cannot find the end of the tag at byte {start}")
        if tag.group(1):  # <x/>: expat reports its end where the empty tag ends
            return Span(start, tag.end(), tag.end(), tag.end())
        return Span(start, self.data.index(b">", at_end) + 1, tag.end(), at_end)

    def text(self, start: int, end: int) -> str:
        """Part of the input as text."""
        return self.data[start:end].decode("utf-8")


def _refuse(what: str) -> NoReturn:
    raise CotError(f"XML refused: {what} (no DTD, entity declaration or external reference)")


def _doctype(name: str, *_: object) -> NoReturn:
    _refuse(f"DOCTYPE {name!r}")


def _entity(name: str, *_: object) -> NoReturn:
    _refuse(f"entity declaration {name!r}")


def _external(*_: object) -> NoReturn:
    _refuse("external entity reference")


def parse_xml(data: bytes, *, mark_depth: int = 2, namespaces_from: int = 1) -> Parsed:
    """Parse one UTF-8 document; CotError says why it was refused.

    Positions are kept for the root (depth 0) and the elements down to depth `mark_depth`.
    Namespace declarations are refused on elements above depth `namespaces_from`: the caller
    rewrites those tags and a prefix declared there would be lost.
    """
    # XML never holds a NUL; UTF-16 and UTF-32 always do, with or without a byte order mark,
    # and expat would detect them even when told UTF-8 (then byte offsets would not be UTF-8's).
    if b"\x00" in data or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CotError("XML refused: only UTF-8 is accepted (found a NUL or UTF-16 byte mark)")
    declared = _DECLARED_ENCODING.match(data)
    if declared and declared.group(1).decode("ascii").lower() not in _UTF8_NAMES:
        raise CotError(
            f"XML refused: only UTF-8 is accepted, not {declared.group(1).decode('ascii')!r}"
        )
    expat = ParserCreate("utf-8", "}")
    expat.StartDoctypeDeclHandler = _doctype
    expat.EntityDeclHandler = _entity
    expat.UnparsedEntityDeclHandler = _entity
    expat.ExternalEntityRefHandler = _external
    expat.SetParamEntityParsing(XML_PARAM_ENTITY_PARSING_NEVER)
    expat.buffer_text = True
    builder = ET.TreeBuilder()
    build_start, build_end = builder.start, builder.end
    open_at: list[int] = []
    marks: dict[ET.Element, tuple[int, int]] = {}
    # Only a namespace declaration or the `xml:` prefix makes a qualified attribute name.
    qualified = b"xmlns" in data or b"xml:" in data

    def on_namespace(prefix: str | None, uri: str) -> None:
        if len(open_at) < namespaces_from:
            name = f"xmlns:{prefix}" if prefix else "xmlns"
            raise CotError(f"XML refused: {name} is declared where it is not accepted")

    def on_start(tag: str, attributes: dict[str, str]) -> None:
        if len(open_at) >= MAX_DEPTH:
            raise CotError(f"XML refused: elements nested deeper than {MAX_DEPTH}")
        open_at.append(expat.CurrentByteIndex)
        if "}" in tag:  # expat writes `uri}name`; ElementTree's form is `{uri}name`
            tag = "{" + tag
        if qualified and any("}" in name for name in attributes):
            attributes = {("{" + k if "}" in k else k): v for k, v in attributes.items()}
        build_start(tag, attributes)

    def on_end(tag: str) -> None:
        element = build_end("{" + tag if "}" in tag else tag)
        start = open_at.pop()
        if len(open_at) <= mark_depth:  # the element's depth, the root being 0
            marks[element] = (start, expat.CurrentByteIndex)

    expat.StartNamespaceDeclHandler = on_namespace
    expat.StartElementHandler = on_start
    expat.EndElementHandler = on_end
    expat.CharacterDataHandler = builder.data
    try:
        expat.Parse(data, True)
    except ExpatError as exc:
        raise CotError(f"XML is malformed: {exc}") from None
    return Parsed(data, builder.close(), marks)
