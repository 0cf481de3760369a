"""What a CoT event draws on the map (its geometry) and what kind of thing it is."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from kyodo.cot.detail import Detail
from kyodo.cot.errors import CotError
from kyodo.cot.safexml import parse_xml
from kyodo.domain.tracks import MAX_RADIUS, Geometry

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET
    from collections.abc import Mapping

    from kyodo.domain.tracks import LatLon

TrackKind = Literal[
    "unit", "marker", "drawing", "route", "range_bearing", "alert", "casevac", "other"
]
EARTH_RADIUS = 6_371_008.8  # metres, the mean radius
MAX_VERTICES = 10_000
MAX_UID = 200  # a waypoint's uid longer than an event's may be is no waypoint's


def track_kind(cot_type: str) -> TrackKind:
    """What a CoT type is on the picture: a unit (`a-…`), a marker (`b-m-p-…`), a drawing
    (`u-d-…`), a route (`b-m-r`), a range & bearing (`u-r-b-…`, `u-rb-…`), an alert
    (`b-a-…`), a CASEVAC request (`b-r-f-h-c`), or other."""
    if cot_type == "b-m-r":
        return "route"
    if cot_type == "b-r-f-h-c":
        return "casevac"
    prefixes: tuple[tuple[str, TrackKind], ...] = (
        ("u-r-b-", "range_bearing"),
        ("u-rb-", "range_bearing"),  # ATAK's range & bearing line (`u-rb-a`)
        ("u-d-", "drawing"),
        ("b-a-", "alert"),
        ("b-m-p-", "marker"),
        ("a-", "unit"),
    )
    for prefix, kind in prefixes:
        if cot_type.startswith(prefix):
            return kind
    return "other"


def geometry_from_xml(
    cot_type: str,
    lat: float,
    lon: float,
    detail_xml: str,
    waypoints: Mapping[str, LatLon] | None = None,
) -> Geometry:
    """`geometry` of a stored detail (its XML); a detail that does not parse is a point."""
    try:
        detail = Detail(detail_xml)
    except CotError:
        return Geometry("point", ((lat, lon),))
    return geometry(cot_type, lat, lon, detail, waypoints)


def geometry(
    cot_type: str,
    lat: float,
    lon: float,
    detail: Detail,
    waypoints: Mapping[str, LatLon] | None = None,
) -> Geometry:
    """The event's geometry: its `<link point="lat,lon[,hae]">` vertices (a route for `b-m-r`,
    whose waypoints given only by `<link uid>` are taken from `waypoints` if there, a polygon
    for a rectangle `u-d-r` or a closed shape, else a line), a telestration's strokes (a line,
    or several), a circle for `<shape><ellipse major minor>` (its larger axis as the radius), a
    line from the point for a range & bearing (`<range value>` metres, `<bearing value>`
    degrees), else the point. Whatever is missing, out of range or not a number is left out:
    never an error."""
    point = (lat, lon)
    if cot_type == "b-m-r":
        known = waypoints or {}
        vertices = tuple(
            v for uid, at in route_links(detail) if (v := at or known.get(uid or "")) is not None
        )
    else:
        vertices = link_points(detail)
    if not vertices:
        strokes = _telestration(detail)
        if len(strokes) >= 2:
            flat = tuple(v for stroke in strokes for v in stroke)
            return Geometry("multiline", flat, strokes=strokes)
        vertices = strokes[0] if strokes else ()
    if len(vertices) >= 2:
        if cot_type == "b-m-r":
            return Geometry("route", vertices)
        closed = vertices[0] == vertices[-1]
        if closed and len(vertices) >= 4:
            return Geometry("polygon", vertices[:-1])
        if cot_type == "u-d-r" and len(vertices) >= 3:
            return Geometry("polygon", vertices)
        return Geometry("line", vertices)
    radius = _ellipse_radius(detail)
    if radius is not None:
        return Geometry("circle", (point,), radius)
    if cot_type.startswith(("u-r-b-", "u-rb-")):
        end = _range_bearing_end(point, detail)
        if end is not None:
            return Geometry("line", (point, end))
    return Geometry("point", (point,))


def link_points(detail: Detail) -> tuple[LatLon, ...]:
    """The (lat, lon) of each top-level `<link point="…">` that holds a valid one, in order."""
    found: list[LatLon] = []
    for link in detail.findall("link"):
        parsed = _link_point(link)
        if parsed is not None:
            found.append(parsed)
            if len(found) >= MAX_VERTICES:
                break
    return tuple(found)


def route_links(detail: Detail) -> tuple[tuple[str | None, LatLon | None], ...]:
    """A route's waypoints in order, each as its `<link>`'s uid and point (either may be
    missing: ATAK writes `point=`, some tools only `uid=` of a waypoint sent on its own).
    Only the links that are waypoints or checkpoints (`b-m-p-…` or with a point), not the
    route's other links (its creator's `p-p`)."""
    found: list[tuple[str | None, LatLon | None]] = []
    for link in detail.findall("link"):
        at = _link_point(link)
        uid = link.get("uid") or None
        if at is None and not (uid and link.get("type", "").startswith("b-m-p-")):
            continue
        found.append((uid if uid and len(uid) <= MAX_UID else None, at))
        if len(found) >= MAX_VERTICES:
            break
    return tuple(found)


def route_uids(detail_xml: str) -> tuple[str, ...]:
    """The uids of a stored route's waypoints that it gives no point for (to look up)."""
    try:
        detail = Detail(detail_xml)
    except CotError:
        return ()
    return tuple(uid for uid, at in route_links(detail) if at is None and uid is not None)


def _telestration(detail: Detail) -> tuple[tuple[LatLon, ...], ...]:
    """A telestration (`u-d-f-m`) holds its strokes as events, escaped in `<link line="…">`:
    the vertices of each stroke that has two or more, in order."""
    strokes: list[tuple[LatLon, ...]] = []
    total = 0
    for link in detail.findall("link"):
        line = link.get("line")
        if not line:
            continue
        text = line.split("?>", 1)[1] if line.lstrip().startswith("<?xml") else line
        try:
            stroke = parse_xml(text.encode("utf-8"), mark_depth=0, namespaces_from=99).root
        except CotError:
            continue
        inner = stroke.find("detail")
        if inner is None:
            continue
        found = [p for e in inner.findall("link") if (p := _link_point(e)) is not None]
        found = found[: MAX_VERTICES - total]
        if len(found) >= 2:
            strokes.append(tuple(found))
            total += len(found)
        if total >= MAX_VERTICES - 1:
            break
    return tuple(strokes)


def _link_point(link: ET.Element) -> tuple[float, float] | None:
    text = link.get("point")
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) not in (2, 3):
        return None
    lat, lon = _number(parts[0]), _number(parts[1])
    if lat is None or lon is None or not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    return (lat, lon)


def _ellipse_radius(detail: Detail) -> float | None:
    shape = detail.find("shape")
    ellipse = shape.find("ellipse") if shape is not None else None
    if ellipse is None:
        return None
    axes = [a for a in (_number(ellipse.get("major")), _number(ellipse.get("minor"))) if a]
    radius = max(axes, default=0.0)
    return radius if 0.0 < radius <= MAX_RADIUS else None


def _range_bearing_end(start: tuple[float, float], detail: Detail) -> tuple[float, float] | None:
    range_, bearing = detail.find("range"), detail.find("bearing")
    if range_ is None or bearing is None:
        return None
    distance, degrees = _number(range_.get("value")), _number(bearing.get("value"))
    if distance is None or degrees is None or not 0.0 < distance <= MAX_RADIUS:
        return None
    return destination(start, degrees, distance)


def destination(start: tuple[float, float], bearing: float, distance: float) -> tuple[float, float]:
    """Where a great circle from `start` (lat, lon) at `bearing` degrees ends after `distance`
    metres, on a sphere (close enough to draw)."""
    lat1, lon1 = math.radians(start[0]), math.radians(start[1])
    theta, delta = math.radians(bearing % 360.0), distance / EARTH_RADIUS
    sin_lat2 = math.sin(lat1) * math.cos(delta) + math.cos(lat1) * math.sin(delta) * math.cos(theta)
    lat2 = math.asin(max(-1.0, min(1.0, sin_lat2)))
    lon2 = lon1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(lat1),
        math.cos(delta) - math.sin(lat1) * math.sin(lat2),
    )
    lon = (math.degrees(lon2) + 540.0) % 360.0 - 180.0
    return (max(-90.0, min(90.0, math.degrees(lat2))), max(-180.0, min(180.0, lon)))


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None
