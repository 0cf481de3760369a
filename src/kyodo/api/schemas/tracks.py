"""Track feeds, tracks and their histories."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kyodo.api.schemas.base import Strict
from kyodo.api.schemas.labels import LabelIn, LabelOut


class FeedIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=1000)
    ceiling: LabelIn
    entry: LabelIn | None = None
    default_label: LabelIn | None = None


class FeedOut(BaseModel):
    id: str
    name: str
    description: str
    ceiling: LabelOut
    entry: LabelOut
    default_label: LabelOut


class TrackIn(Strict):
    uid: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=100, examples=["a-f-S-C-L-CC"])
    callsign: str = Field(min_length=1, max_length=200)
    feed_id: str = Field(min_length=1, max_length=64)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    hae: float = Field(default=9999999.0, ge=-20000, le=9999999.0)
    ce: float = Field(default=9999999.0, ge=0, le=9999999.0)
    le: float = Field(default=9999999.0, ge=0, le=9999999.0)
    course: float | None = Field(default=None, ge=0, le=360)
    speed: float | None = Field(default=None, ge=0, le=100000)
    stale_seconds: int = Field(default=300, ge=1, le=7 * 86400)
    remarks: str = Field(default="", max_length=2000)
    label: LabelIn | None = None


class GeometryOut(BaseModel):
    """GeoJSON (lon, lat); `shape`: point, line, polygon, circle (a Point with a `radius` in
    metres), route, or multiline (a telestration's strokes, a MultiLineString). A route that
    names waypoints only by uid lists each waypoint as `[uid, [lon, lat] or null]`
    (`waypoints`): the coordinates hold those the reader may read."""

    type: str
    shape: str
    coordinates: list[Any]
    radius: float | None = None
    waypoints: list[Any] | None = None


class TrackOut(BaseModel):
    uid: str
    type: str
    sidc: str
    callsign: str
    lat: float
    lon: float
    hae: float
    ce: float
    le: float
    course: float | None
    speed: float | None
    time: str
    start: str
    stale: str
    how: str
    remarks: str
    feed_id: str
    label: LabelOut
    kind: str  # unit, marker, drawing, route, range_bearing, alert, casevac, other
    geometry: GeometryOut


class PositionOut(BaseModel):
    lat: float
    lon: float
    hae: float
    course: float | None
    speed: float | None
    time: str


class TrackHistoryOut(BaseModel):
    track: TrackOut
    positions: list[PositionOut]
