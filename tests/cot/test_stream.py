"""Streaming XML: events split out of any sequence of reads; garbage, oversize and broken
events refused with a reason, counted, and never an exception."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyodo.cot import EventSplitter, Refusal, XmlEventReader, parse_event

from tests.cot.samples import ATAK_SA, GEOCHAT, SHIP

SA = ATAK_SA[ATAK_SA.index(b"<event") :]  # without its declaration
DECLARATION = ATAK_SA[: ATAK_SA.index(b"<event")]
TRICKY = SHIP.replace(  # an event whose remarks hold what looks like the end of an event
    b"<remarks>Yokosuka</remarks>",
    b"<remarks><![CDATA[</event><event>]]><!-- </event> <event --></remarks>",
)
# Declarations, white space and comments between events are normal; "junk" is not.
STREAM = (
    ATAK_SA
    + b"\r\n"
    + GEOCHAT
    + b"\n\n"
    + DECLARATION
    + SHIP
    + b"<!-- keepalive -->"
    + TRICKY
    + b"  junk  "
    + SA
)
EXPECTED = [SA, GEOCHAT, SHIP, TRICKY, SA]


def _feed_all(splitter: EventSplitter, pieces: list[bytes]) -> tuple[list[bytes], list[Refusal]]:
    events: list[bytes] = []
    refusals: list[Refusal] = []
    for piece in pieces:
        batch = splitter.feed(piece)
        events += batch.items
        refusals += batch.refusals
    return events, refusals


def test_a_stream_in_one_read() -> None:
    events, refusals = _feed_all(EventSplitter(), [STREAM])
    assert events == EXPECTED
    assert [r.reason for r in refusals] == ["bytes between events that are not an event"]
    # How many bytes and where, never the bytes: they might hold a password.
    assert (refusals[0].size, refusals[0].at) == (6, STREAM.index(b"junk  "))
    assert "junk" not in str(refusals[0])


def test_the_events_parse() -> None:
    reader = XmlEventReader()
    batch = reader.feed(STREAM)
    assert [e.uid for e in batch.items] == [
        "ANDROID-589520ccfcd20f01",
        "GeoChat.ANDROID-589520ccfcd20f01.OSPREY.4f1c2d3e-aaaa",
        "JMSDF-DDH-183",
        "JMSDF-DDH-183",
        "ANDROID-589520ccfcd20f01",
    ]
    assert batch.items[3].remarks == "</event><event>"
    assert reader.refused == 1


def test_split_at_every_byte_boundary() -> None:
    for cut in range(len(STREAM) + 1):
        events, refusals = _feed_all(EventSplitter(), [STREAM[:cut], STREAM[cut:]])
        assert events == EXPECTED, cut
        assert [(r.reason, r.size, r.at) for r in refusals] == [
            ("bytes between events that are not an event", 6, STREAM.index(b"junk  "))
        ], cut


def test_one_byte_at_a_time() -> None:
    splitter = EventSplitter()
    events, refusals = _feed_all(splitter, [STREAM[i : i + 1] for i in range(len(STREAM))])
    assert events == EXPECTED
    assert len(refusals) == splitter.refused == 1
    assert splitter.buffered == 0


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_split_anywhere(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    pieces = [STREAM[a:b] for a, b in itertools.pairwise(bounds)]
    events, refusals = _feed_all(EventSplitter(), pieces)
    assert events == EXPECTED
    assert len(refusals) == 1


def test_an_oversize_event_is_refused_and_the_next_one_read() -> None:
    big = SHIP.replace(b"<remarks>", b"<remarks>" + b"x" * 2000)
    for pieces in ([big + SHIP], [big[:700], big[700:1500], big[1500:] + SHIP]):
        splitter = EventSplitter(max_event_bytes=1024)
        events, refusals = _feed_all(splitter, pieces)
        assert events == [SHIP]
        assert [r.reason for r in refusals] == ["an event larger than 1024 bytes"]
        assert splitter.refused == 1


def test_an_oversize_event_is_not_kept_in_memory() -> None:
    splitter = EventSplitter(max_event_bytes=1024)
    splitter.feed(SHIP[:200])
    for _ in range(100):
        splitter.feed(b"<remarks>" + b"x" * 1000 + b"</remarks>")
        assert splitter.buffered <= 1024 + 1100
    batch = splitter.feed(b"</detail></event>" + SHIP)
    assert batch.items == [SHIP]
    assert splitter.refused == 1


def test_an_event_left_open_is_refused_at_the_next_one() -> None:
    cut = SHIP[:150]
    events, refusals = _feed_all(EventSplitter(), [cut, SHIP])
    assert events == [SHIP]
    assert [(r.reason, r.size, r.at) for r in refusals] == [
        ("an event not closed before the next <event>", 150, 0)
    ]


def test_garbage_without_events_is_dropped_at_the_cap() -> None:
    splitter = EventSplitter(max_event_bytes=1024)
    for _ in range(10):
        splitter.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 10)
        assert splitter.buffered <= 1024 + 300
    assert splitter.refused >= 1
    assert splitter.feed(SHIP).items == [SHIP]


def test_an_incomplete_declaration_is_not_garbage() -> None:
    splitter = EventSplitter()
    _, refusals = _feed_all(splitter, [b"<?xml vers", b'ion="1.0"?>\n<ev', b"ent", SHIP[6:]])
    assert refusals == []


def test_an_empty_event_element_is_split_out() -> None:
    events, _ = _feed_all(EventSplitter(), [b"<event uid='x'/>" + SHIP])
    assert events == [b"<event uid='x'/>", SHIP]


def test_events_that_do_not_parse_are_refused_with_the_reason() -> None:
    reader = XmlEventReader()
    batch = reader.feed(
        b"<event uid='x'/>"
        + SHIP.replace(b'lat="35.29"', b'lat="inf"')
        + SHIP.replace(b"</detail>", b"</detial>")
        + b"<!DOCTYPE event [<!ENTITY a 'b'>]>"
        + SHIP.replace(b"IZUMO", b"&a;")
        + SHIP
    )
    assert [e.uid for e in batch.items] == ["JMSDF-DDH-183"]
    assert sorted(r.reason.split(":")[0] for r in batch.refusals) == [
        "<event> lacks type, time, start, stale",
        "XML is malformed",  # </detial>
        "XML is malformed",  # &a; is no entity once the DOCTYPE is gone
        "bytes between events that are not an event",  # the DOCTYPE
        "point lat must be a finite number, not inf",
    ]
    assert reader.refused == 5


def test_drain_hands_over_what_follows() -> None:
    splitter = EventSplitter()
    batch = splitter.feed(SHIP + b"\xbf\x05abc")
    assert batch.items == [SHIP]
    assert splitter.drain() == b"\xbf\x05abc"
    assert splitter.buffered == 0


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_arbitrary_bytes_never_raise(pieces: list[bytes]) -> None:
    reader = XmlEventReader(max_event_bytes=512)
    for piece in pieces:
        batch = reader.feed(piece)
        assert reader.splitter.buffered <= 512 + 200 + 16
        assert all(isinstance(r, Refusal) and r.reason for r in batch.refusals)


FRAGMENTS = st.sampled_from(
    [
        b"<event",
        b"</event>",
        b"<event uid='a'>",
        b"<!--",
        b"-->",
        b"<![CDATA[",
        b"]]>",
        b"<?xml version='1.0'?>",
        b"<",
        b">",
        b"/>",
        b"\"'",
        b" ",
        b"x",
        SA,
    ]
)


@settings(max_examples=300)
@given(st.lists(FRAGMENTS, max_size=30), st.integers(min_value=1, max_value=40))
def test_markup_soup_never_raises_and_reads_the_same_however_split(
    fragments: list[bytes], step: int
) -> None:
    data = b"".join(fragments)
    whole = XmlEventReader(max_event_bytes=4096)
    whole_batch = whole.feed(data)
    pieces = [data[i : i + step] for i in range(0, len(data), step)]
    split = XmlEventReader(max_event_bytes=4096)
    events = []
    for piece in pieces:
        events += split.feed(piece).items
    assert events == whole_batch.items
    assert split.refused == whole.refused


@pytest.mark.parametrize("event", [SA, GEOCHAT, SHIP, TRICKY])
def test_each_split_event_is_exactly_the_event(event: bytes) -> None:
    assert parse_event(event).uid
