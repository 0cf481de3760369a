"""The event model: validation with clear errors, ISO-8601 times, points, 2525 symbol codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given

from kyodo.cot import UNKNOWN, CotError, Detail, Point, format_time, parse_time

from tests.cot.samples import T0, TIMES, make_event


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T03:04:05Z", datetime(2024, 5, 1, 3, 4, 5, tzinfo=UTC)),
        ("2024-05-01T03:04:05.678Z", datetime(2024, 5, 1, 3, 4, 5, 678000, tzinfo=UTC)),
        ("2024-05-01T03:04:05.1Z", datetime(2024, 5, 1, 3, 4, 5, 100000, tzinfo=UTC)),
        ("2024-05-01T03:04:05.123456789Z", datetime(2024, 5, 1, 3, 4, 5, 123456, tzinfo=UTC)),
    ],
)
def test_times_are_iso_8601_utc(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024-05-01T03:04:05", "not an ISO-8601 UTC time"),
        ("2024-05-01T03:04:05+09:00", "not an ISO-8601 UTC time"),
        ("2024-05-01 03:04:05Z", "not an ISO-8601 UTC time"),
        ("yesterday", "not an ISO-8601 UTC time"),
        ("2024-02-30T00:00:00Z", "not a valid date"),
        ("2024-05-01T24:00:00Z", "not a valid date"),
    ],
)
def test_bad_times_say_why(text: str, reason: str) -> None:
    with pytest.raises(CotError, match=reason):
        parse_time(text, "stale")


@given(TIMES)
def test_times_round_trip(moment: datetime) -> None:
    text = format_time(moment)
    assert text.endswith("Z")
    assert parse_time(text) == moment


def test_times_are_written_in_milliseconds_unless_finer() -> None:
    assert format_time(T0) == "2024-05-01T03:04:05.000Z"
    assert format_time(T0.replace(microsecond=120000)) == "2024-05-01T03:04:05.120Z"
    assert format_time(T0.replace(microsecond=120001)) == "2024-05-01T03:04:05.120001Z"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"lat": float("inf")}, "finite"),
        ({"lon": float("-inf")}, "finite"),
        ({"hae": float("inf")}, "finite"),
        ({"ce": -1.0}, "cannot be negative"),
        ({"lat": "26.2"}, "must be a number"),
        ({"lat": True}, "must be a number"),
    ],
)
def test_points_are_checked(changes: dict[str, object], reason: str) -> None:
    values: dict[str, object] = {"lat": 0.0, "lon": 0.0, **changes}
    with pytest.raises(CotError, match=reason):
        Point(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lat", "lon", "reason"),
    [
        (90.5, 0.0, "latitude 90.5 is outside -90..90"),
        (-91, 0.0, "latitude -91 is outside -90..90"),
        (0.0, 180.01, "longitude 180.01 is outside -180..180"),
        (float("nan"), 0.0, "latitude nan is outside -90..90"),
        (0.0, float("nan"), "longitude nan is outside -180..180"),
    ],
)
def test_a_point_off_the_earth_is_kept_but_not_placed(lat: float, lon: float, reason: str) -> None:
    # TAK Server relays such events as they came: Kyodo reads them, relays them, keeps them not.
    point = Point(lat, lon)
    assert not point.placed and point.unplaced_reason() == reason
    assert Point(90.0, -180.0).placed


def test_unknown_is_the_default_error_and_height() -> None:
    point = Point(26.2, 127.7)
    assert (point.hae, point.ce, point.le) == (UNKNOWN, UNKNOWN, UNKNOWN) == (9999999.0,) * 3


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"uid": "  "}, "empty uid"),
        ({"uid": "x" * 1001}, "longer than 1000"),
        ({"type": "a f G"}, "not a CoT type"),
        ({"type": ""}, "not a CoT type"),
        ({"how": "m g"}, "not a CoT how"),
        ({"type": "a-f-G\n"}, "not a CoT type"),
        ({"type": "x" * 101}, "not a CoT type"),
        ({"stale": T0 - timedelta(seconds=1)}, "is before start"),
        ({"time": datetime(2024, 1, 1)}, "time must be a UTC datetime"),  # noqa: DTZ001
        (
            {"start": datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=9)))},
            "start must be a UTC datetime",
        ),
        ({"point": None}, "needs a <point>"),
        ({"uid": "a\x00b"}, "characters XML cannot carry"),
        ({"caveat": "\x1b[31m"}, "characters XML cannot carry"),
        ({"extra": (("uid", "x"),)}, "cannot be an extra attribute"),
        ({"extra": (("rel_to", "USA"),)}, "cannot be an extra attribute"),
        ({"extra": (("bad name", "x"),)}, "cannot be an extra attribute"),
        ({"extra": (("ns:x", "1"),)}, "cannot be an extra attribute"),
        ({"extra": (("qos", "1"), ("qos", "2"))}, "given twice"),
    ],
)
def test_events_are_checked(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(CotError, match=reason):
        make_event(**changes)


def test_tasking_events_may_have_no_point() -> None:
    ping = make_event(type="t-x-d-d", point=None, detail=Detail())
    assert ping.point is None


def test_stale_equal_to_start_is_allowed() -> None:
    assert make_event(stale=T0).stale == T0


def test_extra_attributes_may_be_xml_lang_and_qos() -> None:
    event = make_event(extra=(("qos", "1-r-c"), ("xml:lang", "ja")))
    assert event.attributes()[-2:] == [("qos", "1-r-c"), ("xml:lang", "ja")]


def test_the_detail_fields_are_read_through_the_event() -> None:
    event = make_event(
        detail=Detail.build(
            callsign="IZUMO",
            group_name="Cyan",
            group_role="HQ",
            course=90.0,
            speed=7.5,
            remarks="Yokosuka",
        )
    )
    assert (event.callsign, event.group_name, event.group_role) == ("IZUMO", "Cyan", "HQ")
    assert (event.course, event.speed, event.remarks) == (90.0, 7.5, "Yokosuka")
    assert event.chat is None


@pytest.mark.parametrize(
    ("cot_type", "sidc"),
    [
        ("a-f-S-C-L-CC", "SFSPCLCC-------"),
        ("a-h-A-M-F", "SHAPMF---------"),
        ("a-f-G-U-C-I", "SFGPUCI--------"),
        ("a-n-G", "SNGP-----------"),
        ("a-u-S", "SUSP-----------"),
    ],
)
def test_the_2525c_symbol_code_comes_from_the_type(cot_type: str, sidc: str) -> None:
    event = make_event(type=cot_type)
    assert event.sidc == sidc
    assert len(event.sidc) == 15


def test_non_atoms_get_the_unknown_symbol() -> None:
    assert make_event(type="b-m-p-s-p-i").sidc == "SUZP-----------"


def test_live_until_stale() -> None:
    event = make_event()
    assert event.live_at(T0 + timedelta(minutes=4))
    assert not event.live_at(T0 + timedelta(minutes=5))
