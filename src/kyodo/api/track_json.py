"""Tracks as the API and the live stream show them: one JSON form, made once per track."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kyodo.cot.detail import Detail
from kyodo.cot.errors import CotError
from kyodo.cot.geometry import geometry_from_xml, route_links, track_kind
from kyodo.labels import label_to_dict

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kyodo.domain.tracks import Geometry, LatLon, Track
    from kyodo.labels import SchemeRegistry


def track_json(
    track: Track, registry: SchemeRegistry, waypoints: Mapping[str, LatLon] | None = None
) -> dict[str, Any]:
    """A track as clients see it (the body of `TrackOut`, and a stream's `track` frame).
    `waypoints`: where the waypoints a route names only by uid are, of those the reader may
    read (the REST answer looks them up; the stream's frame, made once for every reader,
    leaves them to the client, which has the waypoints its reader may read)."""
    p = track.position
    shape = track_geometry(track, waypoints)
    return {
        "uid": track.uid,
        "type": track.type,
        "sidc": track.sidc,
        "callsign": track.callsign,
        "lat": p.lat,
        "lon": p.lon,
        "hae": p.hae,
        "ce": p.ce,
        "le": p.le,
        "course": p.course,
        "speed": p.speed,
        "time": p.time.isoformat(),
        "start": track.start.isoformat(),
        "stale": track.stale.isoformat(),
        "how": track.how,
        "remarks": track.remarks,
        "feed_id": track.feed_id,
        "label": label_to_dict(track.label, registry),
        "kind": track_kind(track.type),
        "geometry": geometry_json(shape, route_waypoints(track)),
    }


# What a detail must hold to draw more than its point (a cheap test before parsing it).
_SHAPED = ("point=", "<shape", "<range", "line=", "b-m-p-")


def track_geometry(track: Track, waypoints: Mapping[str, LatLon] | None = None) -> Geometry:
    """The track's geometry, derived from its stored detail (`kyodo.cot.geometry`)."""
    p = track.position
    xml = track.detail_xml
    if not any(marker in xml for marker in _SHAPED):
        xml = ""
    return geometry_from_xml(track.type, p.lat, p.lon, xml, waypoints)


Waypoint = tuple[str | None, list[float] | None]


def route_waypoints(track: Track) -> list[Waypoint] | None:
    """A route's waypoints in order as (uid, [lon, lat] or None), if it names any only by
    uid (for a client to place from the tracks it has); else None."""
    if track.type != "b-m-r" or "b-m-p-" not in track.detail_xml:
        return None
    try:
        links = route_links(Detail(track.detail_xml))
    except CotError:
        return None
    if all(at is not None for _, at in links):
        return None
    return [(uid, [at[1], at[0]] if at else None) for uid, at in links]


def geometry_json(shape: Geometry, waypoints: list[Waypoint] | None = None) -> dict[str, Any]:
    """GeoJSON (lon, lat order), with `shape` the geometry's kind; a circle is a Point with a
    `radius` in metres, a polygon's ring is closed, a telestration of several strokes a
    MultiLineString; a route naming waypoints only by uid lists them (`waypoints`)."""
    lonlat = [[lon, lat] for lat, lon in shape.coordinates]
    # Every form has `radius` (None but for a circle) and `waypoints` (None but for such a
    # route): the REST answer (TrackOut) and the stream's frames must be the same JSON.
    found: dict[str, Any]
    if shape.kind in ("point", "circle"):
        found = {
            "type": "Point",
            "shape": shape.kind,
            "coordinates": lonlat[0],
            "radius": shape.radius if shape.kind == "circle" else None,
        }
    elif shape.kind == "polygon":
        ring = [*lonlat, lonlat[0]]
        found = {"type": "Polygon", "shape": "polygon", "coordinates": [ring], "radius": None}
    elif shape.kind == "multiline":
        lines = [[[lon, lat] for lat, lon in stroke] for stroke in shape.strokes]
        found = {"type": "MultiLineString", "shape": "multiline", "coordinates": lines}
        found["radius"] = None
    else:
        found = {"type": "LineString", "shape": shape.kind, "coordinates": lonlat, "radius": None}
    found["waypoints"] = [list(w) for w in waypoints] if waypoints is not None else None
    return found


def track_frame(registry: SchemeRegistry, track: Track) -> str:
    """A stream's `track` frame, as text: the snapshot's and the live events' alike (the live
    hub renders it once per event, for all the connections that may read it)."""
    return json.dumps(
        {"type": "track", "track": track_json(track, registry)},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def track_deleted_frame(registry: SchemeRegistry, track: Track) -> str:
    """A stream's `track_deleted` frame: the track left the picture (sent only to watchers who
    may read it, who may have it on their map)."""
    return json.dumps(
        {"type": "track_deleted", "uid": track.uid},
        ensure_ascii=False,
        separators=(",", ":"),
    )
