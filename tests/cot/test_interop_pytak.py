"""Interop with pytak (PyPI), the client library field scripts use: what it writes, we read;
what we write, its protocol-1 path (takproto) reads."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

import pytak
import takproto

from kyodo.cot import (
    TakEventReader,
    XmlEventReader,
    apply_label,
    event_to_message,
    frame_stream,
    parse_event,
    read_label,
    serialise_event,
)
from kyodo.labels import SchemeRegistry, parse_marking


def _pytak_event(**kwargs: object) -> bytes:
    return bytes(pytak.serialize_cot(pytak.cot_event(**kwargs)))


def test_a_pytak_position_report_is_read() -> None:
    data = _pytak_event(
        lat=26.2124, lon=127.6792, uid="pytak-1", cot_type="a-f-S-C-L-CC", callsign="IZUMO"
    )
    event = parse_event(data)
    assert (event.uid, event.type, event.how) == ("pytak-1", "a-f-S-C-L-CC", "m-g")
    assert event.point is not None
    assert (event.point.lat, event.point.lon) == (26.2124, 127.6792)
    assert event.callsign == "IZUMO"
    assert event.sidc == "SFSPCLCC-------"
    assert event.stale > event.start


def test_pytak_label_attributes_are_read(registry: SchemeRegistry) -> None:
    # pytak writes the releasability as `rel_to`.
    data = _pytak_event(
        lat=35.29, lon=139.67, uid="pytak-2", access="SECRET", caveat="SI", relto="USA,JPN"
    )
    assert b'rel_to="USA,JPN"' in data
    reading = read_label(parse_event(data), registry)
    assert reading.label == parse_marking("SECRET//SI//REL TO USA, JPN", registry)
    assert reading.disagreement is None


def test_pytak_gen_cot_and_hello_are_read() -> None:
    generated = pytak.gen_cot(lat=1.5, lon=2.5, uid="gen-1", cot_type="a-h-A-M-F")
    assert generated is not None
    assert parse_event(bytes(generated)).sidc == "SHAPMF---------"
    hello = parse_event(bytes(pytak.hello_event()))
    assert hello.type == "t-x-d-d"


def test_a_pytak_pong_without_point_is_read() -> None:
    from pytak.functions import tak_pong  # not re-exported by the package

    pong = parse_event(bytes(tak_pong()))
    assert (pong.uid, pong.type, pong.point) == ("takPong", "t-x-d-d", None)


def test_a_pytak_stream_is_split_as_it_arrives() -> None:
    stream = b"".join(
        _pytak_event(lat=i, lon=i, uid=f"p-{i}", cot_type="a-f-G-U-C") for i in range(20)
    )
    reader = XmlEventReader()
    uids = [e.uid for i in range(0, len(stream), 97) for e in reader.feed(stream[i : i + 97]).items]
    assert uids == [f"p-{i}" for i in range(20)]
    assert reader.refused == 0


def test_pytak_protocol_1_frames_are_read() -> None:
    # With TAK_PROTO=1 pytak converts each event with takproto.xml2proto (stream framing),
    # and sends it without negotiating first.
    data = _pytak_event(lat=26.2, lon=127.7, uid="proto-1", callsign="HAWK", access="SECRET")
    frame = bytes(takproto.xml2proto(data, takproto.TAKProtoVer.STREAM))
    assert frame[0] == 0xBF
    (event,) = TakEventReader().feed(frame).items
    assert (event.uid, event.callsign, event.access) == ("proto-1", "HAWK", "SECRET")


def test_our_frames_are_read_by_pytaks_protocol_1_path(registry: SchemeRegistry) -> None:
    label = parse_marking("SECRET//REL TO USA, JPN", registry)
    event = apply_label(
        parse_event(_pytak_event(lat=1.0, lon=2.0, uid="k-1", callsign="KYODO")), label, registry
    )
    frame = frame_stream(event_to_message(event))
    decoded = takproto.parse_proto(bytearray(frame))  # what pytak's RXWorker calls
    assert decoded.cotEvent.uid == "k-1"
    assert decoded.cotEvent.access == "SECRET"
    assert decoded.cotEvent.detail.contact.callsign == "KYODO"
    assert "ConfidentialityLabel" in decoded.cotEvent.detail.xmlDetail


def test_our_xml_is_read_by_pytaks_xml_path(registry: SchemeRegistry) -> None:
    # pytak reads XML with `readuntil(b"</event>")` and parses with ElementTree.
    label = parse_marking("TOP SECRET//NOFORN", registry)
    out = serialise_event(apply_label(parse_event(_pytak_event(lat=1, lon=2)), label, registry))

    async def read() -> bytes:
        reader = asyncio.StreamReader()
        reader.feed_data(out + out)
        reader.feed_eof()
        return await reader.readuntil(b"</event>")

    first = asyncio.run(read())
    assert first == out
    root = ET.fromstring(first)  # noqa: S314 - our own output, parsed as pytak does
    assert (root.get("access"), root.get("releasableTo")) == ("TOP SECRET", "USA")
