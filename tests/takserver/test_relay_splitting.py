"""What the CoT server relays survives naive splitting: one event per `</event>`, whatever the
sender hid in CDATA, comments, processing instructions or element names."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kyodo.cot import EventSplitter, parse_event, read_label
from kyodo.cot.passthrough import relabelled_xml
from kyodo.cot.tak import event_to_message
from kyodo.labels import parse_marking
from kyodo.scheme_files import default_registry
from kyodo.takserver.encoding import Encoded

if TYPE_CHECKING:
    from kyodo.takserver.client import CotClient

REGISTRY = default_registry()
LABEL = parse_marking("SECRET//REL TO USA, JPN", REGISTRY)
XML_CLIENT = cast("CotClient", SimpleNamespace(proto=False))
HEAD = (
    b'<event version="2.0" uid="u-1" type="a-f-G" how="m-g" time="2024-01-01T00:00:00Z"'
    b' start="2024-01-01T00:00:00Z" stale="2024-01-01T00:05:00Z" access="UNCLASSIFIED">'
    b'<point lat="1" lon="2"/>'
)
SMUGGLED = (
    b'</event><event version="2.0" uid="fake" type="a-h-G" how="m-g" time="2024-01-01T00:00:00Z"'
    b' start="2024-01-01T00:00:00Z" stale="2024-01-01T00:05:00Z"><point lat="9" lon="9"/>'
    b"<detail/></event>"
)


def relayed(data: bytes) -> bytes:
    """The bytes an XML client gets for an event received as `data`."""
    return Encoded(parse_event(data), LABEL, REGISTRY).bytes_for(XML_CLIENT)


def assert_one_event(out: bytes) -> None:
    # The naive ways: cut at "</event>", look for "<event", cut before "<?xml" (any case).
    assert out.split(b"</event>") == [out[: -len(b"</event>")], b""]
    assert out.lower().count(b"<event") == 1 and out.lower().count(b"</event") == 1
    assert b"<?xml" not in out.lower()
    # And the careful way: Kyodo's own splitter, and the label as Kyodo set it.
    (item,) = EventSplitter().feed(out).items
    assert read_label(parse_event(item), REGISTRY).label == LABEL


def test_an_event_smuggled_in_cdata_is_not_passed_through() -> None:
    data = HEAD + b"<detail><remarks><![CDATA[" + SMUGGLED + b"]]></remarks></detail></event>"
    assert relabelled_xml(parse_event(data), LABEL, REGISTRY) is None
    out = relayed(data)
    assert_one_event(out)
    assert parse_event(out).remarks == SMUGGLED.decode()  # the text survives, escaped


def test_in_comments_processing_instructions_and_outside_detail() -> None:
    for inside in (
        b"<!--" + SMUGGLED + b"-->",
        b"<?note " + SMUGGLED + b"?>",
        b"<!-- <?XML version='1.0'?> -->",
        b"<eventInfo/>",
    ):
        outside = [] if inside.startswith(b"<event") else [inside]  # <event> holds no other
        for data in (
            HEAD + b"<detail>" + inside + b"<contact callsign='A'/></detail></event>",
            *(HEAD + o + b"<detail><contact callsign='A'/></detail></event>" for o in outside),
        ):
            out = relayed(data)
            assert_one_event(out)
            assert parse_event(out).callsign == "A"


def test_a_clean_event_still_passes_through_with_a_plain_end_tag() -> None:
    data = HEAD + b"<detail><remarks><![CDATA[a < b]]></remarks></detail></event  \n>"
    out = relayed(data)
    assert out == relabelled_xml(parse_event(data), LABEL, REGISTRY)
    assert b"<![CDATA[a < b]]>" in out and out.endswith(b"</detail></event>")


def test_protocol_1_detail_is_escaped_too() -> None:
    data = HEAD + b"<detail><x-note><![CDATA[" + SMUGGLED + b"]]></x-note></detail></event>"
    message = event_to_message(parse_event(data))
    assert "</event>" not in message.cotEvent.detail.xmlDetail


_FRAGMENTS = st.sampled_from(
    [
        "</event>",
        "</EVENT >",
        "<event uid='x'>",
        "<Event",
        "<?xml version='1.0'?>",
        "<?XmL",
        "]]",
        "]>",
        "-",
        "?",
        "<",
        ">",
        "&",
        "'",
        '"',
        " ",
        "\n",
        "a",
        "日本",
    ]
)
_TEXT = st.lists(_FRAGMENTS, max_size=8).map("".join)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _comment(text: str) -> str:
    body = text.replace("-", "_")  # no "--" and no "-" before "-->"
    return f"<!--{body}-->"


def _pi(text: str) -> str:
    return "<?note " + text.replace("?>", "? >") + "?>"


def _escaped(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;")


_BETWEEN = st.one_of(_TEXT.map(_cdata), _TEXT.map(_comment), _TEXT.map(_pi), _TEXT.map(_escaped))
_NAMES = st.sampled_from(["remarks", "contact", "x-unknown", "eventInfo", "EVENT", "__group"])
_PIECE = st.one_of(
    _BETWEEN,
    st.tuples(_NAMES, _TEXT, _TEXT).map(
        lambda t: f'<{t[0]} note="{_escaped(t[1])}">{_cdata(t[2])}{_escaped(t[2])}</{t[0]}>'
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECE, max_size=6).map("".join), st.lists(_BETWEEN, max_size=2).map("".join))
def test_whatever_the_detail_holds_the_relayed_bytes_split_into_one_event(
    detail: str, outside: str
) -> None:
    data = HEAD + outside.encode() + b"<detail>" + detail.encode() + b"</detail></event>"
    assert_one_event(relayed(data))
