"""Tracks as the API and the live stream show them: one JSON form, made once per track."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kyodo.cot.geometry import geometry_from_xml, track_kind
from kyodo.labels import label_to_dict

if TYPE_CHECKING:
    from kyodo.domain.tracks import Geometry, Track
    from kyodo.labels import SchemeRegistry


def track_json(track: Track, registry: SchemeRegistry) -> dict[str, Any]:
    """A track as clients see it (the body of `TrackOut`, and a stream's `track` frame)."""
    p = track.position
    shape = track_geometry(track)
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
        "geometry": geometry_json(shape),
    }


# What a detail must hold to draw more than its point (a cheap test before parsing it).
_SHAPED = ("point=", "<shape", "<range")


def track_geometry(track: Track) -> Geometry:
    """The track's geometry, derived from its stored detail (`kyodo.cot.geometry`)."""
    p = track.position
    xml = track.detail_xml
    if not any(marker in xml for marker in _SHAPED):
        xml = ""
    return geometry_from_xml(track.type, p.lat, p.lon, xml)


def geometry_json(shape: Geometry) -> dict[str, Any]:
    """GeoJSON (lon, lat order), with `shape` the geometry's kind; a circle is a Point with a
    `radius` in metres, a polygon's ring is closed."""
    lonlat = [[lon, lat] for lat, lon in shape.coordinates]
    # Every form has `radius` (None but for a circle): the REST answer (TrackOut) and the
    # stream's frames must be the same JSON.
    if shape.kind in ("point", "circle"):
        return {
            "type": "Point",
            "shape": shape.kind,
            "coordinates": lonlat[0],
            "radius": shape.radius if shape.kind == "circle" else None,
        }
    if shape.kind == "polygon":
        ring = [*lonlat, lonlat[0]]
        return {"type": "Polygon", "shape": "polygon", "coordinates": [ring], "radius": None}
    return {"type": "LineString", "shape": shape.kind, "coordinates": lonlat, "radius": None}


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
