"""Routes by waypoint uid, every stroke of a telestration, and where a shape without a point
is kept (its centroid)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import pytest

from kyodo.api.track_json import geometry_json
from kyodo.cot import parse_event
from kyodo.cot.detail import Detail
from kyodo.cot.geometry import geometry, route_links, route_uids
from kyodo.domain.tracks import Geometry

ROUTE = (
    '<link uid="wp-a" type="b-m-p-w" point="35.0,139.0" relation="c"/>'
    '<link uid="wp-b" type="b-m-p-w" relation="c"/>'  # by uid alone
    '<link uid="cp-c" type="b-m-p-c" relation="c"/>'
    '<link uid="ANDROID-1" type="a-f-G-U-C" relation="p-p"/>'  # its creator: no waypoint
)


def test_a_route_places_waypoints_given_by_uid_where_they_are_known() -> None:
    detail = Detail(ROUTE)
    assert route_links(detail) == (
        ("wp-a", (35.0, 139.0)),
        ("wp-b", None),
        ("cp-c", None),
    )
    assert route_uids(ROUTE) == ("wp-b", "cp-c")
    # Without the waypoints, the route shows what it may: one vertex is no line.
    assert geometry("b-m-r", 0.0, 0.0, detail).kind == "point"
    partial = geometry("b-m-r", 0.0, 0.0, detail, {"cp-c": (35.2, 139.2)})
    assert partial == Geometry("route", ((35.0, 139.0), (35.2, 139.2)))
    full = geometry("b-m-r", 0.0, 0.0, detail, {"wp-b": (35.1, 139.1), "cp-c": (35.2, 139.2)})
    assert full.coordinates == ((35.0, 139.0), (35.1, 139.1), (35.2, 139.2))


def _stroke(points: list[tuple[float, float]]) -> str:
    links = "".join(f'<link point="{lat},{lon}"/>' for lat, lon in points)
    return f"<link line={quoteattr(f'<event><detail>{links}</detail></event>')}/>"


def test_a_telestration_of_several_strokes_is_a_multilinestring() -> None:
    one, two = [(35.0, 139.0), (35.1, 139.1)], [(36.0, 140.0), (36.1, 140.1), (36.2, 140.0)]
    found = geometry(
        "u-d-f-m", 0.0, 0.0, Detail(_stroke(one) + _stroke([(1.0, 1.0)]) + _stroke(two))
    )
    assert found.kind == "multiline"
    assert found.strokes == (tuple(one), tuple(two))  # a stroke of one point is no line
    assert found.anchor() == (35.0, 139.0)
    written = geometry_json(found)
    assert written["type"] == "MultiLineString"
    assert written["coordinates"] == [
        [[139.0, 35.0], [139.1, 35.1]],
        [[140.0, 36.0], [140.1, 36.1], [140.0, 36.2]],
    ]
    # One stroke stays a line, as before.
    assert geometry("u-d-f-m", 0.0, 0.0, Detail(_stroke(two))).kind == "line"


def test_several_lines_need_strokes_that_are_their_coordinates() -> None:
    with pytest.raises(ValueError, match="strokes"):
        Geometry("multiline", ((1.0, 1.0), (2.0, 2.0)))
    with pytest.raises(ValueError, match="strokes"):
        Geometry("multiline", ((1.0, 1.0), (2.0, 2.0)), strokes=(((1.0, 1.0), (3.0, 3.0)),))


def test_a_polygon_is_kept_at_its_centroid() -> None:
    square = Geometry("polygon", ((35.0, 139.0), (35.0, 139.2), (35.2, 139.2), (35.2, 139.0)))
    lat, lon = square.anchor()
    assert (round(lat, 9), round(lon, 9)) == (35.1, 139.1)
    # An L shape: the area centroid, not the mean of its vertices.
    ell = Geometry(
        "polygon", ((0.0, 0.0), (0.0, 2.0), (1.0, 2.0), (1.0, 1.0), (2.0, 1.0), (2.0, 0.0))
    )
    lat, lon = ell.anchor()
    assert (round(lat, 9), round(lon, 9)) == (round(5 / 6, 9), round(5 / 6, 9))
    line = Geometry("line", ((1.0, 2.0), (3.0, 4.0)))
    assert line.anchor() == (1.0, 2.0)


def test_a_shape_may_come_without_a_point_but_a_unit_may_not() -> None:
    body = (
        '<event version="2.0" uid="s" type="{t}" how="h-e" time="2026-01-01T00:00:00Z"'
        ' start="2026-01-01T00:00:00Z" stale="2026-01-02T00:00:00Z"><detail>'
        '<link point="35.0,139.0"/><link point="35.0,139.2"/><link point="35.2,139.2"/>'
        '<link point="35.0,139.0"/></detail></event>'
    )
    event = parse_event(body.format(t="u-d-f").encode())
    assert event.point is None
    from kyodo.cot import CotError

    with pytest.raises(CotError, match="needs a <point>"):
        parse_event(body.format(t="a-f-G").encode())
