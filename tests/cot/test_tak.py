"""TAK protocol 1: negotiation, stream and mesh framing, and TakMessage ⇄ Event with takproto."""

from __future__ import annotations

from datetime import timedelta

import pytest
import takproto
from hypothesis import given, settings
from hypothesis import strategies as st
from takproto.proto import TakMessage

from kyodo.cot import (
    CotError,
    Detail,
    Event,
    FrameDecoder,
    TakEventReader,
    event_to_message,
    frame_mesh,
    frame_stream,
    message_to_event,
    offered_versions,
    parse_event,
    protocol_offer,
    protocol_request,
    protocol_response,
    requested_version,
    response_status,
    serialise_event,
    unframe_mesh,
)

from tests.cot.samples import ATAK_SA, GEOCHAT, SHIP, T0, events, make_event


def _detail_elements(event: Event) -> list[str]:
    """The detail's elements as received, in a fixed order (protocol 1 does not keep it)."""
    return sorted(event.detail.child_xml(e) for e in event.detail.children())


def test_the_offer_is_what_tak_clients_expect() -> None:
    offer = serialise_event(protocol_offer(T0))
    assert offer == (
        b'<event version="2.0" uid="protouid" type="t-x-takp-v" how="m-g" '
        b'time="2024-05-01T03:04:05.000Z" start="2024-05-01T03:04:05.000Z" '
        b'stale="2024-05-01T03:05:05.000Z"><point lat="0.0" lon="0.0" hae="9999999.0" '
        b'ce="9999999.0" le="9999999.0"/><detail><TakControl><TakProtocolSupport version="1"/>'
        b"</TakControl></detail></event>"
    )
    assert offered_versions(parse_event(offer)) == (1,)


def test_a_client_request_is_recognised_and_answered() -> None:
    # What ATAK sends after the offer.
    request = (
        b'<event version="2.0" uid="ANDROID-1" type="t-x-takp-q" time="2024-05-01T03:04:06Z" '
        b'start="2024-05-01T03:04:06Z" stale="2024-05-01T03:05:06Z" how="m-g">'
        b'<point lat="0.0" lon="0.0" hae="0.0" ce="999999" le="999999"/>'
        b'<detail><TakControl><TakRequest version="1"/></TakControl></detail></event>'
    )
    assert requested_version(parse_event(request)) == 1
    answer = protocol_response(T0, accepted=True)
    assert b'<TakControl><TakResponse status="true"/></TakControl>' in serialise_event(answer)
    assert answer.type == "t-x-takp-r"
    assert response_status(parse_event(serialise_event(answer))) is True
    assert response_status(protocol_response(T0, accepted=False)) is False


def test_other_events_are_not_negotiation() -> None:
    event = parse_event(SHIP)
    assert requested_version(event) is None
    assert response_status(event) is None
    assert offered_versions(event) == ()
    assert requested_version(protocol_request(T0, version=1)) == 1


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ("", "without <TakControl>"),
        ("<TakControl/>", "without <TakRequest version>"),
        ("<TakControl><TakRequest version='one'/></TakControl>", "'one' is not a number"),
    ],
)
def test_a_broken_request_is_refused(detail: str, reason: str) -> None:
    event = make_event(type="t-x-takp-q", detail=Detail(detail))
    with pytest.raises(CotError, match=reason):
        requested_version(event)


def test_stream_frames_are_what_takproto_reads() -> None:
    event = parse_event(ATAK_SA)
    frame = frame_stream(event_to_message(event))
    assert frame[0] == 0xBF
    decoded = takproto.parse_proto(bytearray(frame))
    assert decoded == event_to_message(event)
    assert decoded.cotEvent.detail.contact.callsign == "KESTREL"
    assert decoded.cotEvent.sendTime == 1714532645678


def test_takproto_frames_are_what_we_read() -> None:
    for sample in (ATAK_SA, SHIP, GEOCHAT):
        frame = bytes(takproto.xml2proto(sample, takproto.TAKProtoVer.STREAM))
        batch = TakEventReader().feed(frame)
        assert batch.refusals == []
        (event,) = batch.items
        original = parse_event(sample)
        assert (event.uid, event.type, event.how) == (original.uid, original.type, original.how)
        assert (event.time, event.stale, event.point) == (
            original.time,
            original.stale,
            original.point,
        )
        assert event.callsign == original.callsign


def test_mesh_frames_round_trip() -> None:
    message = event_to_message(parse_event(SHIP))
    datagram = frame_mesh(message)
    assert datagram[:3] == b"\xbf\x01\xbf"
    assert unframe_mesh(datagram) == message
    assert takproto.parse_proto(bytearray(datagram)) == message
    with pytest.raises(CotError, match="starts with 0xbf 0x01 0xbf"):
        unframe_mesh(b"\xbf\x02\xbf" + datagram[3:])
    with pytest.raises(CotError, match="at most 10"):
        unframe_mesh(datagram, max_message_bytes=10)
    with pytest.raises(CotError, match="not a TakMessage"):
        unframe_mesh(b"\xbf\x01\xbf\xff\xff\xff")


def test_an_event_survives_protocol_1() -> None:
    event = parse_event(ATAK_SA)
    message = event_to_message(event)
    detail = message.cotEvent.detail
    # ATAK's typed fields where the element fits them exactly, the rest as received.
    assert (detail.contact.callsign, detail.contact.endpoint) == ("KESTREL", "*:-1:stcp")
    assert (detail.group.name, detail.group.role) == ("Cyan", "Team Lead")
    assert (detail.track.course, detail.track.speed, detail.status.battery) == (123.45, 1.2, 87)
    assert detail.takv.platform == "ATAK-CIV"
    assert detail.precisionLocation.geopointsrc == "GPS"
    assert detail.xmlDetail == '<uid Droid="KESTREL"/>'
    back = message_to_event(message)
    assert back.access == "Undefined"
    assert (back.uid, back.time, back.start, back.stale, back.point) == (
        event.uid,
        event.time,
        event.start,
        event.stale,
        event.point,
    )
    assert (back.callsign, back.course, back.speed) == (event.callsign, event.course, event.speed)
    assert len(back.detail.children()) == len(event.detail.children())


def test_elements_that_do_not_fit_a_typed_field_travel_as_xml() -> None:
    detail = (
        "<contact callsign='A' phone='123'/><__group name='Cyan'/><track course='90' speed='1'/>"
        "<status battery='087'/><contact callsign='B'/><takv device='' platform='p' os='o' "
        "version='v'/>"
    )
    message = event_to_message(make_event(detail=Detail(detail)))
    typed = message.cotEvent.detail
    assert not typed.HasField("contact")
    assert not typed.HasField("group")
    assert not typed.HasField("track")  # "90" would come back as "90.0"
    assert not typed.HasField("status")  # "087" would come back as "87"
    assert not typed.HasField("takv")  # device="" would come back absent
    assert typed.xmlDetail == detail


def test_geochat_survives_protocol_1() -> None:
    event = parse_event(GEOCHAT)
    back = message_to_event(event_to_message(event))
    assert back.chat == event.chat
    assert _detail_elements(back) == _detail_elements(event)


def test_qos_and_opex_travel_in_their_fields() -> None:
    event = make_event(extra=(("qos", "1-r-c"), ("opex", "e-Ex"), ("other", "x")))
    message = event_to_message(event)
    assert (message.cotEvent.qos, message.cotEvent.opex) == ("1-r-c", "e-Ex")
    assert message_to_event(message).extra == (("qos", "1-r-c"), ("opex", "e-Ex"))


def test_a_ping_without_point_travels_at_0_0() -> None:
    ping = make_event(type="t-x-d-d", point=None, detail=Detail())
    message = event_to_message(ping)
    assert not message.cotEvent.HasField("detail")
    back = message_to_event(message)
    assert back.point is not None
    assert (back.point.lat, back.point.lon) == (0.0, 0.0)


def _message(**fields: object) -> TakMessage:
    message = event_to_message(parse_event(SHIP))
    for name, value in fields.items():
        setattr(message.cotEvent, name, value)
    return message


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (TakMessage(), "no cotEvent"),
        (_message(sendTime=0), "no sendTime"),
        (_message(staleTime=2**63), "staleTime .* is out of range"),
        (_message(uid=""), "empty uid"),
        (_message(how="m g"), "not a CoT how"),  # none at all is fine (UAS Tool)
        (_message(lat=float("inf")), "finite"),
        (_message(lon=float("-inf")), "finite"),
        (_message(uid="a\x00b"), "characters XML cannot carry"),
    ],
)
def test_messages_that_are_not_events_are_refused(message: TakMessage, reason: str) -> None:
    with pytest.raises(CotError, match=reason):
        message_to_event(message)


@pytest.mark.parametrize(
    ("xml_detail", "reason"),
    [
        ("<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", "malformed"),
        ("<open>", "malformed"),
        ("</detail><detail>", "malformed"),
        ("&a;", "undefined entity"),
    ],
)
def test_an_xml_detail_is_parsed_as_safely_as_xml(xml_detail: str, reason: str) -> None:
    message = _message()
    message.cotEvent.detail.xmlDetail = xml_detail
    with pytest.raises(CotError, match=reason):
        message_to_event(message)


def test_the_track_of_a_message_must_be_a_number() -> None:
    message = _message()
    message.cotEvent.detail.track.course = float("inf")
    with pytest.raises(CotError, match="course"):
        message_to_event(message)


# Framing -----------------------------------------------------------------------------------


def _frames(count: int) -> tuple[bytes, list[TakMessage]]:
    messages = [
        event_to_message(make_event(uid=f"U-{i}", stale=T0 + timedelta(minutes=i)))
        for i in range(count)
    ]
    return b"".join(frame_stream(m) for m in messages), messages


def test_several_frames_in_one_read() -> None:
    data, messages = _frames(5)
    batch = FrameDecoder().feed(data)
    assert batch.items == messages
    assert batch.refusals == []


def test_frames_split_at_every_byte_boundary() -> None:
    data, messages = _frames(3)
    for cut in range(len(data) + 1):
        decoder = FrameDecoder()
        items = decoder.feed(data[:cut]).items + decoder.feed(data[cut:]).items
        assert items == messages, cut
        assert decoder.buffered == 0
        assert decoder.refused == 0


def test_a_long_frame_has_a_multibyte_length() -> None:
    event = make_event(detail=Detail.build(remarks="x" * 300))
    frame = frame_stream(event_to_message(event))
    assert frame[1] & 0x80  # the varint continues
    decoder = FrameDecoder()
    items = [m for i in range(len(frame)) for m in decoder.feed(frame[i : i + 1]).items]
    assert [message_to_event(m) for m in items] == [event]


def test_garbage_is_refused_and_decoding_resumes() -> None:
    data, messages = _frames(2)
    decoder = FrameDecoder()
    batch = decoder.feed(b"hello" + data[:40] + data[40:] + b"\x00\x01" + data)
    assert batch.items == messages + messages
    assert [(r.reason, r.size) for r in batch.refusals] == [
        ("bytes that are not a TAK frame (0xbf …)", len(b"hello")),
        ("bytes that are not a TAK frame (0xbf …)", len(b"\x00\x01")),
    ]
    assert decoder.refused == 2


def test_an_oversize_frame_is_refused_and_skipped() -> None:
    big = frame_stream(event_to_message(make_event(detail=Detail.build(remarks="x" * 3000))))
    small, messages = _frames(1)
    decoder = FrameDecoder(max_message_bytes=1024)
    items: list[TakMessage] = []
    refusals = []
    for piece in (big[:100], big[100:2000], big[2000:] + small):
        batch = decoder.feed(piece)
        items += batch.items
        refusals += batch.refusals
        assert decoder.buffered <= 1100
    assert items == messages
    assert [r.reason for r in refusals] == [f"a TAK message of {len(big) - 3} bytes; at most 1024"]


def test_bad_lengths_and_payloads_are_refused() -> None:
    decoder = FrameDecoder()
    data, messages = _frames(1)
    batch = decoder.feed(
        b"\xbf\x00"  # empty
        + b"\xbf\xff\xff\xff\xff\xff\x01"  # not a varint in 5 bytes
        + b"\xbf\x03\xff\xff\xff"  # not a TakMessage
        + b"\xbf\xff\xff\xff\x7f"  # 256 MiB: noise, not a message to skip
        + data
    )
    assert batch.items == messages
    reasons = [r.reason for r in batch.refusals]
    assert reasons[0] == "an empty TAK frame"
    assert reasons[1] == "a TAK frame length that is not a varint"
    assert "not a TakMessage" in " ".join(reasons)
    assert any(r.startswith("a TAK frame length of 268435455") for r in reasons)


def test_the_event_reader_refuses_messages_that_are_not_events() -> None:
    reader = TakEventReader()
    control = TakMessage()
    control.takControl.minProtoVersion = 1
    not_event = TakMessage()
    not_event.cotEvent.uid = "x"
    good = event_to_message(parse_event(SHIP))
    batch = reader.feed(frame_stream(control) + frame_stream(not_event) + frame_stream(good))
    assert [e.uid for e in batch.items] == ["JMSDF-DDH-183"]
    assert [r.reason for r in batch.refusals] == ["the CotEvent has no sendTime"]
    assert reader.refused == 1


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=100), max_size=20))
def test_arbitrary_bytes_never_raise(pieces: list[bytes]) -> None:
    reader = TakEventReader(max_message_bytes=512)
    for piece in pieces:
        reader.feed(piece)
        assert reader.frames.buffered <= 512 + 100 + 8


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=60).map(lambda b: b"\xbf" + bytes([len(b)]) + b), max_size=10))
def test_arbitrary_payloads_in_good_frames_never_raise(frames: list[bytes]) -> None:
    TakEventReader().feed(b"".join(frames))


@settings(max_examples=100)
@given(events())
def test_generated_events_survive_protocol_1(event: Event) -> None:
    frame = frame_stream(event_to_message(event))
    (message,) = FrameDecoder().feed(frame).items
    back = message_to_event(message)
    assert (back.uid, back.type, back.how, back.access) == (
        event.uid,
        event.type,
        event.how,
        event.access or None,  # protobuf cannot tell "" from absent
    )
    # protocol 1 carries milliseconds
    for name in ("time", "start", "stale"):
        moment = getattr(event, name)
        assert getattr(back, name) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert (back.callsign, back.course, back.speed, back.remarks) == (
        event.callsign,
        event.course,
        event.speed,
        event.remarks,
    )
    assert back.detail.recipients == event.detail.recipients
