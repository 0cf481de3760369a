"""Shapes and routes over HTTP: their kind and geometry in the JSON, under their label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from kyodo.cot import EventSplitter, parse_event
from kyodo.domain.tracks import Position, TrackReport
from kyodo.labels import parse_marking
from kyodo.services import tracks
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.api.test_tracks_api import _setup

CAPTURES = Path(__file__).parents[1] / "cot" / "captures"


def _report(name: str, uid: str, label: str, ctx: ServiceContext) -> TrackReport:
    (data,) = EventSplitter().feed((CAPTURES / name).read_bytes()).items
    event = parse_event(data)
    assert event.point is not None
    now = datetime.now(UTC)
    return TrackReport(
        uid=uid,
        type=event.type,
        callsign=uid,
        position=Position(event.point.lat, event.point.lon, now),
        start=now,
        stale=now + timedelta(hours=1),
        label=parse_marking(label, ctx.registry),
        detail_xml=event.detail.xml,
    )


async def test_shapes_keep_their_geometry_and_a_noforn_one_never_reaches_a_japanese_reader(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, feed_id = await _setup(ctx, operator, client)
    shapes = {
        "fence": ("atak-civ_drawing-shapes-rectangle.cot", "SECRET//REL TO USA, JPN"),
        "us-fence": ("atak-civ_drawing-shapes-free-form.cot", "SECRET//NOFORN"),
        "circle": ("atak-civ_geo-fence.cot", "SECRET//REL TO USA, JPN"),
    }
    for uid, (name, label) in shapes.items():
        await tracks.report_track(ctx, operator, feed_id, _report(name, uid, label, ctx))
    us = {t["uid"]: t for t in (await client.get("/api/v1/tracks", headers=h["us"])).json()}
    jp = {t["uid"]: t for t in (await client.get("/api/v1/tracks", headers=h["jp"])).json()}
    assert set(us) == {"fence", "us-fence", "circle"} and set(jp) == {"fence", "circle"}
    fence = jp["fence"]
    assert fence["kind"] == "drawing" and fence["geometry"]["type"] == "Polygon"
    ring = fence["geometry"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    assert us["us-fence"]["geometry"]["shape"] == "polygon"
    circle = jp["circle"]["geometry"]
    assert (circle["shape"], circle["radius"]) == ("circle", 297.72)
    # Nothing of the NOFORN shape in what the Japanese reader gets, not even its vertices.
    text = (await client.get("/api/v1/tracks", headers=h["jp"])).text
    assert "us-fence" not in text and "-77.0661646820486" not in text


def _at(
    uid: str, type_: str, lat: float, lon: float, label: str, ctx: ServiceContext, detail: str = ""
) -> TrackReport:
    now = datetime.now(UTC)
    return TrackReport(
        uid=uid,
        type=type_,
        callsign=uid,
        position=Position(lat, lon, now),
        start=now,
        stale=now + timedelta(hours=1),
        label=parse_marking(label, ctx.registry),
        detail_xml=detail,
    )


async def test_a_route_by_waypoint_uids_shows_the_waypoints_its_reader_may_read(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h, feed_id = await _setup(ctx, operator, client)
    shared = "SECRET//REL TO USA, JPN"
    for uid, lat, label in (
        ("wp-1", 35.0, shared),
        ("wp-2", 35.1, "SECRET//NOFORN"),
        ("wp-3", 35.2, shared),
    ):
        await tracks.report_track(
            ctx, operator, feed_id, _at(uid, "b-m-p-w", lat, 139.0, label, ctx)
        )
    links = "".join(f'<link uid="wp-{n}" type="b-m-p-w" relation="c"/>' for n in (1, 2, 3))
    await tracks.report_track(
        ctx, operator, feed_id, _at("route", "b-m-r", 35.0, 139.0, shared, ctx, links)
    )
    us = (await client.get("/api/v1/tracks", headers=h["us"], params={"types": "b-m-r"})).json()
    jp = (await client.get("/api/v1/tracks", headers=h["jp"], params={"types": "b-m-r"})).json()
    assert us[0]["geometry"]["coordinates"] == [[139.0, 35.0], [139.0, 35.1], [139.0, 35.2]]
    # The NOFORN waypoint is left out of the Japanese reader's line.
    assert jp[0]["geometry"]["coordinates"] == [[139.0, 35.0], [139.0, 35.2]]
    assert jp[0]["geometry"]["waypoints"] == [["wp-1", None], ["wp-2", None], ["wp-3", None]]
    one = (await client.get("/api/v1/tracks/route/history", headers=h["jp"])).json()["track"]
    assert one["geometry"]["coordinates"] == jp[0]["geometry"]["coordinates"]
