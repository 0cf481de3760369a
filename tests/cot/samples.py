"""CoT test data: events as ATAK and pytak write them, and strategies for generated events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from kyodo.cot import Detail, Event, Point

# An ATAK position report (self SA) as a phone sends it, declaration included.
ATAK_SA = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<event version="2.0" uid="ANDROID-589520ccfcd20f01" type="a-f-G-U-C" '
    b'time="2024-05-01T03:04:05.678Z" start="2024-05-01T03:04:05.678Z" '
    b'stale="2024-05-01T03:10:05.678Z" how="h-e" access="Undefined">'
    b'<point lat="26.2124" lon="127.6792" hae="25.3" ce="9.9" le="9999999.0"/>'
    b"<detail>"
    b'<takv os="34" version="5.1.0.12 (0b9a9c6b).1715018285-CIV" device="SAMSUNG SM-G991U" '
    b'platform="ATAK-CIV"/>'
    b'<contact endpoint="*:-1:stcp" callsign="KESTREL"/>'
    b'<uid Droid="KESTREL"/>'
    b'<precisionlocation altsrc="GPS" geopointsrc="GPS"/>'
    b'<__group role="Team Lead" name="Cyan"/>'
    b'<status battery="87"/>'
    b'<track course="123.45" speed="1.2"/>'
    b"</detail></event>"
)

# A GeoChat message to one callsign (a direct message), as ATAK writes it.
GEOCHAT = (
    b'<event version="2.0" uid="GeoChat.ANDROID-589520ccfcd20f01.OSPREY.4f1c2d3e-aaaa" '
    b'type="b-t-f" time="2024-05-01T03:05:00.000Z" start="2024-05-01T03:05:00.000Z" '
    b'stale="2024-05-02T03:05:00.000Z" how="h-g-i-g-o">'
    b'<point lat="26.2124" lon="127.6792" hae="9999999.0" ce="9999999.0" le="9999999.0"/>'
    b"<detail>"
    b'<__chat parent="RootContactGroup" groupOwner="false" messageId="4f1c2d3e-aaaa" '
    b'chatroom="OSPREY" id="ANDROID-0b1c" senderCallsign="KESTREL">'
    b'<chatgrp uid0="ANDROID-589520ccfcd20f01" uid1="ANDROID-0b1c" id="ANDROID-0b1c"/>'
    b"</__chat>"
    b'<link uid="ANDROID-589520ccfcd20f01" type="a-f-G-U-C" relation="p-p"/>'
    b'<remarks source="BAO.F.ATAK.ANDROID-589520ccfcd20f01" to="ANDROID-0b1c" '
    b'time="2024-05-01T03:05:00.000Z">Landing zone clear &amp; marked</remarks>'
    b'<marti><dest callsign="OSPREY"/></marti>'
    b"</detail></event>"
)

# A unit of the JMSDF as a feed might send it (type with a 2525 function).
SHIP = (
    b'<event version="2.0" uid="JMSDF-DDH-183" type="a-f-S-C-L-CC" how="m-g" '
    b'time="2024-05-01T00:00:00Z" start="2024-05-01T00:00:00Z" stale="2024-05-01T00:10:00Z">'
    b'<point lat="35.29" lon="139.67" hae="0.0" ce="50.0" le="9999999.0"/>'
    b'<detail><contact callsign="IZUMO"/><remarks>Yokosuka</remarks></detail></event>'
)

T0 = datetime(2024, 5, 1, 3, 4, 5, tzinfo=UTC)


def make_event(**changes: object) -> Event:
    """A valid position report; keyword arguments replace its fields."""
    fields: dict[str, object] = {
        "uid": "TEST-1",
        "type": "a-f-G-U-C",
        "how": "m-g",
        "time": T0,
        "start": T0,
        "stale": T0 + timedelta(minutes=5),
        "point": Point(26.2, 127.7),
        "detail": Detail.build(callsign="KESTREL"),
    }
    fields.update(changes)
    return Event(**fields)  # type: ignore[arg-type]


# Text that XML can carry (no C0 controls but tab/LF/CR, no surrogates or U+FFFE/F).
XML_TEXT = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\ufffe\uffff",
        min_codepoint=0x09,
    ).filter(lambda c: c in "\t\n\r" or ord(c) >= 0x20),
    max_size=30,
)
NAMES = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:@"),
    min_size=1,
    max_size=24,
)
TYPES = st.sampled_from(
    [
        *("a-f-G-U-C", "a-h-A-M-F", "a-f-S-C-L-CC", "a-n-G", "b-m-p-s-p-i", "t-x-d-d", "u-d-f"),
        "overhead_marker",  # ATAK 4.0's, outside the atom grammar
    ]
)
TIMES = st.datetimes(
    min_value=datetime(1971, 1, 1),  # noqa: DTZ001 - made aware by `timezones`
    max_value=datetime(9000, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
FLOATS = st.floats(min_value=-1e6, max_value=1e7, allow_nan=False, allow_infinity=False)
NAN = st.just(float("nan"))  # TAK's "unknown" (b-f-t-a, b-f-t-r)
POINTS = st.builds(
    Point,
    lat=st.floats(min_value=-90, max_value=90),
    lon=st.floats(min_value=-180, max_value=180),
    hae=FLOATS | NAN,
    ce=st.floats(min_value=0, max_value=1e7) | NAN,
    le=st.floats(min_value=0, max_value=1e7) | NAN,
)
DETAILS = st.builds(
    Detail.build,
    callsign=st.none() | NAMES,
    endpoint=st.none() | NAMES,
    group_name=st.none() | NAMES,
    group_role=st.none() | XML_TEXT,
    course=st.none() | st.floats(min_value=0, max_value=360),
    speed=st.none() | st.floats(min_value=0, max_value=1e4),
    remarks=st.none() | XML_TEXT,
    recipients=st.lists(NAMES, max_size=3),
    extra=st.sampled_from(["", "<uid Droid='X'/>", "<a><b c='&lt;&gt;'>t</b><!-- x --></a>"]),
)


@st.composite
def events(draw: st.DrawFn) -> Event:
    """A valid event with every field drawn (no GeoChat: that has its own tests)."""
    start = draw(TIMES)
    kind = draw(TYPES)
    return Event(
        uid=draw(NAMES),
        type=kind,
        how=draw(st.sampled_from(["m-g", "h-e", "h-g-i-g-o", "m-f", ""])),  # "": none (UAS Tool)
        time=draw(TIMES),
        start=start,
        stale=start + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))),
        point=draw(st.none() if kind.startswith("t-") else POINTS),
        detail=draw(DETAILS),
        access=draw(st.none() | XML_TEXT),
        caveat=draw(st.none() | XML_TEXT),
        releasable_to=draw(st.none() | XML_TEXT),
        extra=tuple(
            draw(st.lists(st.tuples(st.sampled_from(["qos", "opex"]), XML_TEXT), max_size=1))
        ),
    )
