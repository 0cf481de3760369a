"""CoT XML in and out: what passes through unchanged, what is refused and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings

from kyodo.cot import UNKNOWN, CotError, Event, Point, parse_event, serialise_event
from kyodo.cot.event import unknown
from kyodo.cot.xml import DECLARATION
from kyodo.domain.symbols import sidc_for

from tests.cot.samples import ATAK_SA, SHIP, events

ATAK_DETAIL = ATAK_SA[ATAK_SA.index(b"<detail>") + 8 : ATAK_SA.index(b"</detail>")]
HEAD = (
    b'<event version="2.0" uid="u-1" type="a-f-G" how="m-g" time="2024-01-01T00:00:00Z" '
    b'start="2024-01-01T00:00:00Z" stale="2024-01-01T00:01:00Z"'
)


def test_an_atak_report_is_read() -> None:
    event = parse_event(ATAK_SA)
    assert event.uid == "ANDROID-589520ccfcd20f01"
    assert event.type == "a-f-G-U-C"
    assert event.how == "h-e"
    assert event.time == datetime(2024, 5, 1, 3, 4, 5, 678000, tzinfo=UTC)
    assert event.point == Point(26.2124, 127.6792, 25.3, 9.9, 9999999.0)
    assert event.callsign == "KESTREL"
    assert (event.group_name, event.group_role) == ("Cyan", "Team Lead")
    assert (event.course, event.speed) == (123.45, 1.2)
    assert event.access == "Undefined"
    assert event.sidc == "SFGPUC---------"


def test_the_detail_passes_through_byte_for_byte() -> None:
    out = serialise_event(parse_event(ATAK_SA))
    assert b"<detail>" + ATAK_DETAIL + b"</detail>" in out


def test_odd_but_valid_detail_bytes_pass_through() -> None:
    detail = (
        "\n\t<remarks  a = 'x&gt;y' b=\"&#10;\">caf\u00e9 &amp; <![CDATA[<b>1 < 2</b>]]></remarks>"
        "<!-- </detail> --><?pi data?><x:y xmlns:x='urn:x' x:z='1'/>  "
    ).encode()
    data = HEAD + b"><point lat='1' lon='2'/><detail>" + detail + b"</detail></event>"
    event = parse_event(data)
    assert event.detail.xml.encode() == detail
    assert serialise_event(event).endswith(b"<detail>" + detail + b"</detail></event>")


def test_markup_a_naive_splitter_would_cut_at_is_written_escaped() -> None:
    detail = (
        b"<contact callsign='A'/><remarks>before <![CDATA[</event><event uid='x'>]]> after"
        b"<!-- <?xml version='1.0'?> --></remarks><?pi </EVENT>?> <![CDATA[<Event>]]>"
        b"<eventInfo a='1'/><track course='1'/>"
    )
    data = HEAD + b"><point lat='1' lon='2'/><detail>" + detail + b"</detail></event>"
    event = parse_event(data)
    assert event.detail.xml.encode() == detail  # read (and stored) as received
    out = serialise_event(event)
    assert out.count(b"</event>") == 1 and out.endswith(b"</event>")
    assert out.lower().count(b"<event") == 1 and b"<?xml" not in out.lower()
    assert out.endswith(
        b"<detail><contact callsign='A'/>"
        b"<remarks>before &lt;/event&gt;&lt;event uid='x'&gt; after</remarks>"
        b" &lt;Event&gt;<track course='1'/></detail></event>"
    )
    again = parse_event(out)
    assert again.remarks == "before </event><event uid='x'> after"
    assert again.callsign == "A" and again.course == 1.0


def test_what_is_rewritten_reads_back_the_same() -> None:
    event = parse_event(SHIP)
    out = serialise_event(event)
    assert out.startswith(
        b'<event version="2.0" uid="JMSDF-DDH-183" type="a-f-S-C-L-CC" how="m-g" '
        b'time="2024-05-01T00:00:00.000Z" start="2024-05-01T00:00:00.000Z" '
        b'stale="2024-05-01T00:10:00.000Z"><point lat="35.29" lon="139.67" hae="0.0" '
        b'ce="50.0" le="9999999.0"/>'
    )
    assert parse_event(out) == event


def test_a_declaration_is_written_when_asked_for() -> None:
    event = parse_event(SHIP)
    assert serialise_event(event, declaration=True) == DECLARATION + serialise_event(event)


def test_extra_attributes_keep_their_order_and_values() -> None:
    data = HEAD + b' qos="1-r-c" opex="e-Exercise" xml:lang="ja"><point lat="1" lon="2"/></event>'
    event = parse_event(data)
    assert event.extra == (("qos", "1-r-c"), ("opex", "e-Exercise"), ("xml:lang", "ja"))
    assert b'qos="1-r-c" opex="e-Exercise" xml:lang="ja"' in serialise_event(event)


@pytest.mark.parametrize("name", ["releasableTo", "releaseableTo", "rel_to"])
def test_every_spelling_of_releasability_is_read(name: str) -> None:
    event = parse_event(HEAD + f' {name}="USA,JPN"><point lat="1" lon="2"/></event>'.encode())
    assert event.releasable_to == "USA,JPN"
    assert b'releasableTo="USA,JPN"' in serialise_event(event)


def test_disagreeing_releasability_spellings_are_refused() -> None:
    with pytest.raises(CotError, match="releasability attributes disagree"):
        parse_event(HEAD + b' releasableTo="USA" rel_to="USA JPN"><point lat="1" lon="2"/></event>')


def test_an_event_larger_than_the_cap_is_refused_unread() -> None:
    big = SHIP.replace(b"Yokosuka", b"x" * 70_000)
    with pytest.raises(CotError, match="larger than 65536 bytes"):
        parse_event(big)
    assert parse_event(big, max_bytes=100_000).remarks == "x" * 70_000


def test_a_missing_point_is_fine_for_a_ping() -> None:
    data = HEAD.replace(b'"a-f-G"', b'"t-x-d-d"') + b"/>"
    event = parse_event(data)
    assert event.point is None
    assert parse_event(serialise_event(event)) == event


def test_missing_hae_ce_le_are_unknown() -> None:
    event = parse_event(HEAD + b"><point lat='1' lon='2'/></event>")
    assert event.point == Point(1.0, 2.0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<evnt/>", "root element is <evnt>, not <event>"),
        (b'<event uid="x" type="a-f-G"/>', "lacks time, start, stale"),
        (HEAD + b"><point lat='1'/></event>", "<point> lacks lon"),
        (HEAD + b"><point lat='north' lon='1'/></event>", "lat 'north' is not a number"),
        (HEAD + b"><point lat='inf' lon='1'/></event>", "lat must be a finite number"),
        (HEAD + b"><point lat='1' lon='1'/><point lat='1' lon='1'/></event>", "not <point>"),
        (HEAD + b"><point lat='1' lon='1'/><extra/></event>", "not <extra>"),
        (
            HEAD.replace(b"01:00Z", b"00:00Z").replace(
                b'start="2024-01-01T00:00:00Z"', b'start="2024-01-01T00:00:30Z"'
            )
            + b"><point lat='1' lon='1'/></event>",
            "is before start",
        ),
        (
            HEAD.replace(b'T00:00:00Z" start', b'T00:00:00+00:00" start')
            + b"><point lat='1' lon='1'/></event>",
            "time '2024-01-01T00:00:00\\+00:00'",
        ),
        (HEAD + b"><point lat='1' lon='1'/>", "malformed"),
        (HEAD + b' xmlns:k="urn:k"><point lat="1" lon="1"/></event>', "xmlns:k is declared"),
        (HEAD + b'><point lat="1" lon="1"/><detail xmlns="urn:d"/></event>', "xmlns is declared"),
        (b"", "malformed: no element found"),
    ],
)
def test_refusals_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(CotError, match=reason):
        parse_event(data)


@settings(max_examples=200)
@given(events())
def test_events_survive_serialise_then_parse(event: Event) -> None:
    assert parse_event(serialise_event(event)) == event


@given(events())
def test_parse_serialise_parse_is_stable(event: Event) -> None:
    once = serialise_event(event, declaration=True)
    again = serialise_event(parse_event(once), declaration=True)
    assert again == once


# What TAK Server accepts (issue #13 item 4): refused before, accepted now -------------------

TAK_HEAD = (
    b'<event version="2.0" uid="ANDROID-7514a125ae2c2e8f" type="b-f-t-a" how="m-g"'
    b' time="2026-07-07T21:28:06Z" start="2026-07-07T21:28:06Z" stale="2026-07-07T21:28:16Z"'
)


@pytest.mark.parametrize("nan", [b"NaN", b"nan", b"NAN"])
def test_nan_is_an_unknown_number_kept_and_written_as_tak_writes_it(nan: bytes) -> None:
    data = TAK_HEAD + b'><point lat="0.0" lon="0.0" hae="' + nan + b'" ce="NaN" le="NaN"/></event>'
    event = parse_event(data)
    assert event.point is not None
    assert all(unknown(v) for v in (event.point.hae, event.point.ce, event.point.le))
    assert event.point == Point(0.0, 0.0, float("nan"), float("nan"), float("nan"))
    out = serialise_event(event)
    assert b'hae="NaN" ce="NaN" le="NaN"' in out
    assert parse_event(out) == event


def test_a_nan_latitude_is_read_and_written_back_as_nan() -> None:
    # TAK Server relays it as it came (it checks no coordinate); the event is not placed.
    event = parse_event(HEAD + b"><point lat='NaN' lon='nan' hae='0'/></event>")
    assert event.point is not None and not event.point.placed
    assert b'lat="NaN" lon="NaN"' in serialise_event(event)


def test_unknown_is_9999999_or_nan() -> None:
    assert unknown(UNKNOWN) and unknown(float("nan"))
    assert not unknown(0.0) and not unknown(-4919.1)


@pytest.mark.parametrize(("name", "value"), [("lat", b"inf"), ("lon", b"-inf"), ("hae", b"inf")])
def test_a_position_must_still_be_a_number(name: str, value: bytes) -> None:
    values = {"lat": b"1", "lon": b"2", "hae": b"0"} | {name: value}
    point = b" ".join(k.encode() + b'="' + v + b'"' for k, v in values.items())
    with pytest.raises(CotError, match=f"point {name} must be a finite number"):
        parse_event(HEAD + b"><point " + point + b"/></event>")


def test_an_event_without_how_is_read_and_written_without_one() -> None:
    # DJI's UAS Tool (node-CoT's test fixture): version="2", no how, the point after the detail.
    data = (
        b'<event version="2" uid="2983J8B001V013" type="a-f-A-M-H-Q"'
        b' time="2024-04-24T16:37:38.002Z" start="2024-04-24T16:37:38.002Z"'
        b' stale="2024-04-24T16:37:41.502Z" > <detail> <track course="140.8" slope="0"'
        b' speed="0" > </track> </detail> <point lat="39.1" lon="-108.6" ce="0"'
        b' hae="1381.333" le="0" > </point></event>'
    )
    event = parse_event(data)
    assert (event.how, event.version, event.course) == ("", "2", 140.8)
    out = serialise_event(event)
    assert b" how=" not in out
    assert parse_event(out) == event


def test_a_type_outside_the_atom_grammar_is_kept() -> None:
    event = parse_event(
        HEAD.replace(b'"a-f-G"', b'"overhead_marker"') + b"><point lat='1' lon='2'/></event>"
    )
    assert event.type == "overhead_marker"
    assert event.sidc == sidc_for("x-unknown")  # the unknown symbol
    assert parse_event(serialise_event(event)) == event


def test_a_refusal_quotes_the_senders_value_short() -> None:
    long = b"x" * 5000
    with pytest.raises(CotError) as refused:
        parse_event(HEAD.replace(b'time="2024-01-01T00:00:00Z"', b'time="' + long + b'"') + b"/>")
    assert len(refused.value.message) < 200 and "5000 characters" in refused.value.message
