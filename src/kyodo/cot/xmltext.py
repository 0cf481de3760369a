"""Escaping and number formatting for the XML Kyodo writes, and the characters XML forbids."""

from __future__ import annotations

import math
import re
from decimal import Decimal

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except surrogates
# and U+FFFE/U+FFFF; anything else in a value would make the output malformed.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTRIBUTE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)
# What a naive CoT splitter takes for the start or end of an event, or of a document: tools
# that cut a stream at "</event>", look for "<event" or "<?xml", some of them ignoring case.
# Inside an event these can only stand in CDATA, a comment or a processing instruction (or be
# the name of an element such as <eventInfo>): valid XML, but another event to such a tool.
_BOUNDARY = re.compile("</?event|<\\?xml", re.IGNORECASE)
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def xml_forbidden(value: str) -> bool:
    """Whether the text holds a character XML 1.0 cannot carry."""
    return _FORBIDDEN.search(value) is not None


def looks_like_a_boundary(xml: str) -> bool:
    """Whether the text holds `<event`, `</event` or `<?xml` in any case: markup a naive
    splitter would cut an event at, so it must not be passed on as it is."""
    return _BOUNDARY.search(xml) is not None


def scrub(value: str) -> str:
    """Text with each character XML cannot carry replaced by U+FFFD, for text Kyodo did not get
    as XML (a net message may hold control characters)."""
    return _FORBIDDEN.sub("\ufffd", value)


def attribute(value: str) -> str:
    """Text escaped for a double-quoted attribute; tab, CR and LF as character references so a
    reader's attribute-value normalisation gives back exactly this value."""
    return value.translate(_ATTRIBUTE)


def text(value: str) -> str:
    """Text escaped for element content."""
    return value.translate(_TEXT)


def number(value: float) -> str:
    """The shortest text that reads back as exactly this float, never in exponent form
    (`1e-05` is valid xs:double but not every CoT reader takes it)."""
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    shortest = repr(float(value))
    if "e" not in shortest:
        return shortest
    positional = format(Decimal(shortest), "f")
    return positional if "." in positional else positional + ".0"
