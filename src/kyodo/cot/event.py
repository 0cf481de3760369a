"""A Cursor-on-Target event: who (uid), what (type, 2525 symbol), where, when, and its detail."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from kyodo.cot import xmltext
from kyodo.cot.chat import GEOCHAT_TYPE, GeoChat, read_geochat
from kyodo.cot.detail import EMPTY, Detail
from kyodo.cot.errors import CotError
from kyodo.cot.refusal import printable
from kyodo.domain.symbols import sidc_for
from kyodo.domain.tracks import valid_type

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from kyodo.cot.safexml import Parsed

UNKNOWN = 9999999.0  # CoT's value for an unknown hae, ce or le
# TAK's other notation for an unknown hae, ce or le (`hae="NaN"`, Java's Double.toString). One
# object for every NaN a Point holds: a tuple compares items by identity first, so two points
# with unknown altitude are equal (NaN == NaN is false) and hash alike.
NAN = float("nan")
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z")
_NAME = re.compile(r"(?:xml:)?[A-Za-z_][\w.\-]*")
# Attributes the model holds in fields; `extra` holds the others (qos, opex…) in order.
MODEL_ATTRIBUTES = frozenset(
    {"version", "uid", "type", "how", "time", "start", "stale", "access", "caveat"}
)
# Spellings of the releasability attribute met in the wild: the CoT schema's `releasableTo`,
# TAK Server's `releaseableTo`, and pytak's `rel_to`. Kyodo reads all and writes the first.
RELEASABLE_TO_NAMES = ("releasableTo", "releaseableTo", "rel_to")
# Types that may come without a <point>: control events, and shapes and routes, whose
# vertices say where they are (kept at their centroid or first vertex).
POINTLESS_TYPES = ("t-", "u-d-", "b-m-r")
MAX_UID = 1000


def parse_time(value: str, name: str = "time") -> datetime:
    """An ISO-8601 UTC time with `Z` (`2024-05-01T03:04:05.678Z`); fractions past the
    microsecond are dropped. CotError says what is wrong."""
    found = _TIME.fullmatch(value)
    if found is None:
        raise CotError(
            f"{name} {printable(value)} is not an ISO-8601 UTC time like 2024-05-01T03:04:05Z"
        )
    year, month, day, hour, minute, second, fraction = found.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError as exc:
        raise CotError(f"{name} {printable(value)} is not a valid date and time: {exc}") from None
    if fraction:
        moment += timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
    return moment


def format_time(moment: datetime) -> str:
    """The CoT form of a UTC time: milliseconds, or microseconds when it has them."""
    m = moment.astimezone(UTC)
    text = f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
    micro = m.microsecond
    if micro % 1000:
        return f"{text}.{micro:06d}Z"
    return f"{text}.{micro // 1000:03d}Z"


def unknown(value: float) -> bool:
    """Whether a `hae`, `ce` or `le` is unknown: 9999999.0 or NaN, both of which TAK writes."""
    return math.isnan(value) or value >= UNKNOWN


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS 84 position: degrees, metres above the ellipsoid (`hae`), circular and linear
    error (`ce`, `le`, metres); 9999999.0 means unknown, and so does NaN (`NAN`), which is kept
    as such so that the event is written back as its sender wrote it (`unknown` tells).

    A latitude or longitude that is NaN or off the Earth is kept too: TAK Server relays such an
    event as it came (it checks no coordinate), so Kyodo relays it, but does not place it on
    the picture (`placed`)."""

    lat: float
    lon: float
    hae: float = UNKNOWN
    ce: float = UNKNOWN
    le: float = UNKNOWN

    def __post_init__(self) -> None:
        for name in ("lat", "lon", "hae", "ce", "le"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CotError(f"point {name} must be a number, not {value!r}")
            if math.isnan(value):
                object.__setattr__(self, name, NAN)
            elif not math.isfinite(value):
                raise CotError(f"point {name} must be a finite number, not {value!r}")
        if self.ce < 0 or self.le < 0:
            raise CotError("ce and le are error radii and cannot be negative")

    @property
    def placed(self) -> bool:
        """Whether it is a place on the Earth (a latitude and longitude in range)."""
        return -90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0

    def unplaced_reason(self) -> str:
        """Why it is no place on the Earth (for the log line of an event not kept)."""
        if not -90.0 <= self.lat <= 90.0:
            return f"latitude {self.lat} is outside -90..90"
        return f"longitude {self.lon} is outside -180..180"


@dataclass(frozen=True, slots=True, eq=False)
class Source:
    """What an event was parsed from: the parsed document (its bytes and where its elements
    lie) and its `<detail>` element (None without one). Where the parts are is worked out only
    when the event is passed on, so parsing pays next to nothing for it."""

    parsed: Parsed
    detail: ET.Element | None


@dataclass(frozen=True, slots=True)
class Event:
    """One CoT event. Times are aware UTC datetimes; `stale` is not before `start`.

    `access`, `caveat` and `releasable_to` are the label attributes of `<event>` as text (their
    meaning as a Kyodo label is `kyodo.cot.labelling`'s business); `extra` keeps any other
    attribute (`qos`, `opex`…) in order so that an event passes through unchanged. `point` may
    be absent only on `t-…` (tasking and control) events such as pings. `how` is "" where the
    sender wrote none (DJI's UAS Tool does not); `type` need not follow the atom grammar
    (ATAK's `overhead_marker`): TAK Server relays both, and so does Kyodo.

    `source` is set by `parse_event` only: the bytes the event was read from, so that it can be
    passed on as received (`kyodo.cot.passthrough`). It is not an init field, so a copy made
    with `dataclasses.replace` (whose fields may differ from those bytes) has none.
    """

    uid: str
    type: str
    how: str
    time: datetime
    start: datetime
    stale: datetime
    point: Point | None = None
    detail: Detail = EMPTY
    access: str | None = None
    caveat: str | None = None
    releasable_to: str | None = None
    version: str = "2.0"
    extra: tuple[tuple[str, str], ...] = ()
    chat: GeoChat | None = field(init=False, default=None, compare=False)
    source: Source | None = field(init=False, default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.uid.strip():
            raise CotError("event has an empty uid")
        if len(self.uid) > MAX_UID:
            raise CotError(f"event uid is longer than {MAX_UID} characters")
        if not valid_type(self.type):
            raise CotError(f"{printable(self.type)} is not a CoT type (e.g. a-f-S-C-L-CC)")
        if any(c.isspace() or not c.isprintable() for c in self.how) or len(self.how) > 100:
            raise CotError(f"{printable(self.how)} is not a CoT how (e.g. m-g, h-e)")
        for name in ("time", "start", "stale"):
            moment: datetime = getattr(self, name)
            if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
                raise CotError(f"{name} must be a UTC datetime")
        if self.stale < self.start:
            raise CotError(
                f"stale {format_time(self.stale)} is before start {format_time(self.start)}"
            )
        if self.point is None and not self.type.startswith(POINTLESS_TYPES):
            raise CotError(f"a {self.type} event needs a <point>")
        texts = [self.uid, self.type, self.how, self.version]
        texts.extend(v for v in (self.access, self.caveat, self.releasable_to) if v is not None)
        texts.extend(value for _, value in self.extra)
        if xmltext.xml_forbidden("".join(texts)):
            raise CotError("an attribute of <event> holds characters XML cannot carry")
        for name, _ in self.extra:
            if not _NAME.fullmatch(name) or name in MODEL_ATTRIBUTES or name in RELEASABLE_TO_NAMES:
                raise CotError(f"{printable(name)} cannot be an extra attribute of <event>")
        if len({name for name, _ in self.extra}) != len(self.extra):
            raise CotError("an extra attribute of <event> is given twice")
        if self.type == GEOCHAT_TYPE:
            object.__setattr__(self, "chat", read_geochat(self.uid, self.detail))

    def attributes(self) -> list[tuple[str, str]]:
        """The attributes of `<event>`, in the order Kyodo writes them."""
        found = [
            ("version", self.version),
            ("uid", self.uid),
            ("type", self.type),
            *((("how", self.how),) if self.how else ()),
            ("time", format_time(self.time)),
            ("start", format_time(self.start)),
            ("stale", format_time(self.stale)),
        ]
        for name, value in (
            ("access", self.access),
            ("caveat", self.caveat),
            (RELEASABLE_TO_NAMES[0], self.releasable_to),
        ):
            if value is not None:
                found.append((name, value))
        found.extend(self.extra)
        return found

    @property
    def sidc(self) -> str:
        """The MIL-STD-2525C symbol code of the type (`kyodo.domain.symbols` has the mapping)."""
        return sidc_for(self.type)

    @property
    def callsign(self) -> str | None:
        """`<contact callsign>`."""
        return self.detail.callsign

    @property
    def group_name(self) -> str | None:
        """`<__group name>` (the team colour)."""
        return self.detail.group_name

    @property
    def group_role(self) -> str | None:
        """`<__group role>`."""
        return self.detail.group_role

    @property
    def course(self) -> float | None:
        """`<track course>`, degrees from true north."""
        return self.detail.course

    @property
    def speed(self) -> float | None:
        """`<track speed>`, metres per second."""
        return self.detail.speed

    @property
    def remarks(self) -> str | None:
        """The text of `<remarks>`."""
        return self.detail.remarks

    def live_at(self, moment: datetime) -> bool:
        """Whether the event still holds (it is not yet stale)."""
        return self.stale > moment
