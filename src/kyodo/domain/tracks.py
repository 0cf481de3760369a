"""Tracks and feeds of the common operational picture: labelled positions with their history."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from kyodo.policy import Container

if TYPE_CHECKING:
    from datetime import datetime

    from kyodo.labels import Label

UNKNOWN = 9999999.0  # CoT's value for an unknown hae, ce or le
MAX_TYPE = 100


def valid_type(cot_type: str) -> bool:
    """Whether a text can be a CoT type: 1-100 printable characters without white space. Not
    only the atom grammar (`a-f-G-U-C`): TAK clients send others (ATAK's `overhead_marker`)
    and TAK Server relays them; what a type means is read where it matters (the symbol)."""
    return 0 < len(cot_type) <= MAX_TYPE and all(
        c.isprintable() and not c.isspace() for c in cot_type
    )


@dataclass(frozen=True, slots=True)
class Feed:
    """A named source of tracks: events above `ceiling` are refused; unlabelled ones get
    `default_label`; `entry` is what a reader of the feed as a whole must be able to read."""

    id: str
    name: str
    ceiling: Label
    entry: Label
    default_label: Label
    description: str = ""

    def container(self) -> Container:
        """The feed as the policy sees it."""
        return Container(self.name, self.ceiling, self.entry)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a track was, and when."""

    lat: float
    lon: float
    time: datetime
    hae: float = UNKNOWN
    ce: float = UNKNOWN
    le: float = UNKNOWN
    course: float | None = None
    speed: float | None = None

    def __post_init__(self) -> None:
        if not -90.0 <= self.lat <= 90.0:
            raise ValueError(f"latitude {self.lat} is outside -90..90")
        if not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"longitude {self.lon} is outside -180..180")
        if self.course is not None and not 0.0 <= self.course <= 360.0:
            raise ValueError(f"course {self.course} is outside 0..360")
        if self.speed is not None and self.speed < 0:
            raise ValueError("speed cannot be negative")


GeometryKind = Literal["point", "line", "polygon", "circle", "route", "multiline"]
MAX_RADIUS = 20_037_509.0  # metres: half the Earth's circumference
LatLon = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Geometry:
    """What a track covers on the map: a point, a line, a polygon (vertices, not repeated
    closed), a circle (`radius` in metres around its one coordinate), a route (a line of
    waypoints) or several lines (`strokes`, a telestration's; `coordinates` are all their
    vertices in order). Coordinates are (lat, lon) pairs."""

    kind: GeometryKind
    coordinates: tuple[LatLon, ...]
    radius: float | None = None
    strokes: tuple[tuple[LatLon, ...], ...] = ()

    def __post_init__(self) -> None:
        if not self.coordinates:
            raise ValueError("a geometry needs at least one coordinate")
        for lat, lon in self.coordinates:
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                raise ValueError(f"coordinate {lat},{lon} is outside the Earth")
        if (self.kind == "circle") != (self.radius is not None):
            raise ValueError("a circle, and only a circle, has a radius")
        if self.radius is not None and not (
            math.isfinite(self.radius) and 0.0 < self.radius <= MAX_RADIUS
        ):
            raise ValueError(f"radius {self.radius} is not a distance on the Earth")
        if (self.kind == "multiline") != bool(self.strokes):
            raise ValueError("several lines, and only they, have strokes")
        if self.strokes and (
            any(len(stroke) < 2 for stroke in self.strokes)
            or tuple(v for stroke in self.strokes for v in stroke) != self.coordinates
        ):
            raise ValueError("strokes have two vertices or more, and are the coordinates")

    def anchor(self) -> LatLon:
        """Where the shape is kept when its event gives no point (or 0,0): a polygon's
        centroid, a circle's centre, else its first vertex."""
        if self.kind == "polygon":
            return _centroid(self.coordinates)
        return self.coordinates[0]


def _centroid(ring: tuple[LatLon, ...]) -> LatLon:
    """The area centroid of a polygon (on the lat/lon plane: shapes are small), else, for a
    degenerate one, the mean of its vertices; always within their bounds."""
    twice_area = cx = cy = 0.0
    for (y0, x0), (y1, x1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        twice_area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    lats, lons = [v[0] for v in ring], [v[1] for v in ring]
    if abs(twice_area) < 1e-12:
        lat, lon = sum(lats) / len(lats), sum(lons) / len(lons)
    else:
        lat, lon = cy / (3.0 * twice_area), cx / (3.0 * twice_area)
    # Rounding must not take it outside its vertices (nor the Earth).
    return (min(max(lat, min(lats)), max(lats)), min(max(lon, min(lons)), max(lons)))


@dataclass(frozen=True, slots=True)
class Track:
    """The latest state of a CoT uid: type and 2525 symbol, callsign, position, label, feed."""

    uid: str
    type: str
    sidc: str
    callsign: str
    position: Position
    start: datetime
    stale: datetime
    label: Label
    feed_id: str
    remarks: str = ""
    how: str = "m-g"
    detail_xml: str = ""
    updated_at: datetime | None = None
    originator: str = ""  # the subject id of whoever first reported the uid
    # The latest report as its sender's CoT XML, byte for byte (None from the API): replayed,
    # relabelled, to TAK clients that connect later instead of a track rebuilt from fields.
    source_xml: bytes | None = None

    def live_at(self, moment: datetime) -> bool:
        """Whether the track is still on the live picture (not yet stale)."""
        return self.stale > moment


@dataclass(frozen=True, slots=True)
class TrackReport:
    """A position report, from the API or a CoT event."""

    uid: str
    type: str
    callsign: str
    position: Position
    start: datetime
    stale: datetime
    label: Label | None = None
    remarks: str = ""
    how: str = "m-g"
    detail_xml: str = ""
    source_xml: bytes | None = None  # the CoT XML it was parsed from, if any


@dataclass(frozen=True, slots=True)
class StoredTrack:
    """What deciding an update needs of a stored track: its label, feed and originator, and
    whether it is deleted (off the picture; an allowed update brings it back)."""

    label: Label
    feed_id: str
    originator: str
    deleted_at: datetime | None = None  # when it was deleted, if it is

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None
