"""Geometry read from real captures' details (shapes, routes, range & bearing) and fuzzed ones."""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyodo.api.track_json import geometry_json
from kyodo.cot import EventSplitter, parse_event
from kyodo.cot.detail import Detail
from kyodo.cot.geometry import destination, geometry, geometry_from_xml, track_kind
from kyodo.domain.tracks import Geometry

FOLDER = Path(__file__).parent / "captures"


def _read(name: str) -> Geometry:
    (data,) = EventSplitter().feed((FOLDER / name).read_bytes()).items
    event = parse_event(data)
    assert event.point is not None
    return geometry(event.type, event.point.lat, event.point.lon, event.detail)


def _kind(name: str) -> str:
    (data,) = EventSplitter().feed((FOLDER / name).read_bytes()).items
    return track_kind(parse_event(data).type)


@pytest.mark.parametrize(
    ("name", "kind", "shape", "vertices"),
    [
        ("atak-civ_drawing-shapes-free-form.cot", "drawing", "polygon", 6),
        ("atak-civ_drawing-shapes-rectangle.cot", "drawing", "polygon", 4),
        ("libcotshrink_geo-fence-with-altitude.cot", "drawing", "polygon", 4),
        ("atak-civ_drawing-shapes-circle.cot", "drawing", "circle", 1),
        ("atak-civ_geo-fence.cot", "drawing", "circle", 1),
        ("atak-civ_range-bearing-circle.cot", "range_bearing", "circle", 1),
        ("atak-civ_range-bearing-line.cot", "range_bearing", "line", 2),
        ("atak-civ_route.cot", "route", "route", 7),
        ("atak-civ_drawing-shapes-telestration.cot", "drawing", "line", 46),
        ("libcotshrink_route.cot", "route", "route", 7),
        ("node-cot_cot-routes-0.cot", "route", "route", 4),
        ("libcotshrink_casevac-all-fields.cot", "casevac", "point", 1),
        ("node-cot_cot-emergency-0.cot", "alert", "point", 1),
        ("atak-civ_marker-spot.cot", "marker", "point", 1),
        ("libcotshrink_pli.cot", "unit", "point", 1),
    ],
)
def test_captures_keep_their_kind_and_geometry(
    name: str, kind: str, shape: str, vertices: int
) -> None:
    found = _read(name)
    assert (_kind(name), found.kind) == (kind, shape)
    if shape == "route":
        assert len(found.coordinates) >= vertices
    else:
        assert len(found.coordinates) == vertices
    assert all(lat != 0.0 or lon != 0.0 for lat, lon in found.coordinates)


def test_a_circle_has_its_radius_and_a_route_starts_at_its_first_waypoint() -> None:
    circle = _read("atak-civ_drawing-shapes-circle.cot")
    assert circle.radius == pytest.approx(226.984, abs=0.001)
    route = _read("atak-civ_route.cot")
    assert route.coordinates[0] == (38.84335305982451, -77.05440032542333)


def test_range_and_bearing_ends_where_range_and_bearing_say() -> None:
    line = _read("atak-civ_range-bearing-line.cot")
    (lat1, lon1), (lat2, lon2) = line.coordinates
    # 886 m at 45.6°: north-east, about 620 m each way.
    assert lat2 > lat1 and lon2 > lon1
    north = (lat2 - lat1) * 111_195
    assert north == pytest.approx(886.144 * math.cos(math.radians(45.5966)), rel=0.01)


def test_geojson_closes_a_polygon_and_orders_lon_lat() -> None:
    out = geometry_json(_read("atak-civ_drawing-shapes-rectangle.cot"))
    ring = out["coordinates"][0]
    assert out["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) == 5
    assert ring[0] == [-77.06896916307281, 38.83884480020009]
    assert geometry_json(_read("atak-civ_geo-fence.cot"))["radius"] == 297.72


def test_a_detail_that_does_not_parse_is_a_point() -> None:
    assert geometry_from_xml("u-d-f", 1.0, 2.0, "<link point='") == Geometry("point", ((1.0, 2.0),))


def _stroke(points: list[str]) -> str:
    """A telestration's stroke: an event, escaped in a link's `line`."""
    links = "".join(f'<link point="{p}"/>' for p in points)
    return f"<link line={quoteattr(f'<event><detail>{links}</detail></event>')}/>"


_number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "NaN", "-0", "1e400", "abc", " 12 ", "91", "-181"]),
)
_point_text = st.lists(_number_text, min_size=0, max_size=4).map(",".join)
_element = st.one_of(
    _point_text.map(lambda p: f'<link point="{p}"/>'),
    st.tuples(_number_text, _number_text).map(
        lambda a: f'<shape><ellipse major="{a[0]}" minor="{a[1]}" angle="0"/></shape>'
    ),
    _number_text.map(lambda v: f'<range value="{v}"/>'),
    _number_text.map(lambda v: f'<bearing value="{v}"/>'),
    st.lists(_point_text, max_size=3).map(_stroke),
    st.sampled_from(["wp-1", "wp-2", "", "wp-3"]).map(
        lambda u: f'<link uid="{u}" type="b-m-p-w" relation="c"/>'
    ),
    st.text(alphabet=st.sampled_from(list("<>&'\"?=/ event.link0123456789,-")), max_size=60).map(
        lambda t: f"<link line={quoteattr(t)}/>"
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    cot_type=st.sampled_from(
        ["u-d-f", "u-d-r", "u-d-f-m", "u-d-c-c", "b-m-r", "u-r-b-c-l", "u-rb-a", "a-f-G"]
    ),
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    elements=st.lists(_element, max_size=8),
)
def test_geometry_never_fails_and_stays_on_the_earth(
    cot_type: str, lat: float, lon: float, elements: list[str]
) -> None:
    waypoints = {"wp-1": (45.0, 179.5), "wp-2": (-89.9, -180.0)}
    found = geometry(cot_type, lat, lon, Detail("".join(elements)), waypoints)
    assert found.coordinates
    for a, b in (*found.coordinates, found.anchor()):
        assert -90.0 <= a <= 90.0 and -180.0 <= b <= 180.0
    if found.radius is not None:
        assert 0.0 < found.radius <= 20_037_509.0
    geometry_json(found)  # and it can always be written


@given(
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    bearing=st.floats(-1e6, 1e6),
    distance=st.floats(0, 20_037_509.0),
)
def test_destination_stays_on_the_earth(
    lat: float, lon: float, bearing: float, distance: float
) -> None:
    a, b = destination((lat, lon), bearing, distance)
    assert -90.0 <= a <= 90.0 and -180.0 <= b <= 180.0
