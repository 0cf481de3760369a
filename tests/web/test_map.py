"""The map in a real browser: symbols for what the reader may read, live moves, offline basemap."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow

# KYODO_UPDATE_DOCS_IMG=1 copies the moved-track screenshot to docs/img/map.png.
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def _feed_id(web_server, username: str, prefix: str) -> str:
    feeds = web_server.api(username).get("/api/v1/feeds").json()
    return next(f["id"] for f in feeds if f["name"].startswith(prefix))


def _readable_uids(web_server, username: str) -> list[str]:
    response = web_server.api(username).get("/api/v1/tracks", params={"limit": 5000})
    response.raise_for_status()
    return sorted(t["uid"] for t in response.json())


def _report(web_server, username: str, **track) -> dict:
    body = {"type": "a-f-S-C", "stale_seconds": 60, **track}
    response = web_server.api(username).post("/api/v1/tracks", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _open_map(web_server, page):
    page.goto(f"{web_server.url}/map")
    page.wait_for_selector("#map[data-stream=live]")
    page.wait_for_selector("#map[data-basemap=loaded]")


def _wait_for_uids(page, expected: list[str]) -> None:
    page.wait_for_function(
        "expected => JSON.stringify(window.kyodoMap.uids()) === JSON.stringify(expected)",
        arg=expected,
    )


@pytest.mark.parametrize("username", ["us.j3", "jp.j3"])
def test_symbols_for_the_tracks_the_reader_may_read(
    web_server, new_context, login, screenshot, console_errors, username
):
    page = login(new_context(), username)
    _open_map(web_server, page)
    expected = _readable_uids(web_server, username)
    _wait_for_uids(page, expected)
    symbols = page.locator(".leaflet-marker-pane .kyodo-track")
    assert symbols.count() == len(expected)
    assert sorted(symbols.evaluate_all("els => els.map(e => e.dataset.uid)")) == expected
    assert page.locator(".kyodo-track svg").count() == len(expected)  # milsymbol drew each
    assert page.locator("#track-list button").count() == len(expected)
    if username == "jp.j3":
        assert "demo.lcc19" not in expected  # SECRET//NOFORN
        assert "demo.amami" in expected  # 極秘//日本限り
        assert "NOFORN" not in page.content()
    else:
        assert "demo.lcc19" in expected
        assert "demo.amami" not in expected
    assert page.locator(".kyodo-base").count() >= 10  # both nations' bases
    screenshot(page, username)
    assert console_errors(page) == []


def test_a_track_moved_through_the_api_moves_on_the_map(
    web_server, new_context, login, screenshot, console_errors
):
    uid = f"test.map.{uuid.uuid4().hex[:8]}"
    feed = _feed_id(web_server, "us.j3", "USFJ")
    common = {
        "uid": uid,
        "callsign": "USNS Test Mover (T-AO)",
        "feed_id": feed,
        "label": "SECRET//REL TO USA, JPN",
    }
    _report(web_server, "us.j3", lat=34.6, lon=139.9, speed=6.0, course=180, **common)
    page = login(new_context(), "us.j3")
    _open_map(web_server, page)
    marker = page.locator(f'.kyodo-track[data-uid="{uid}"]')
    marker.wait_for()

    # Keyboard: the list is the alternative to clicking a symbol (the map pans to the track).
    page.focus(f'#track-list button[data-uid="{uid}"]')
    page.keyboard.press("Enter")
    page.wait_for_selector("#track-panel:not([hidden])")
    assert page.locator("#panel-callsign").inner_text() == "USNS Test Mover (T-AO)"
    assert "SECRET//REL TO USA, JPN" in page.locator("#panel-fields").inner_text()
    page.wait_for_timeout(600)  # the pan's animation
    before = marker.bounding_box()

    for step in range(1, 4):
        _report(
            web_server,
            "us.j3",
            lat=34.6 - 0.3 * step,
            lon=139.9 + 0.25 * step,
            speed=6.0 + 2 * step,
            course=150,
            **common,
        )
    page.wait_for_function(
        "uid => Math.abs(window.kyodoMap.position(uid).lat - 33.7) < 1e-6", arg=uid
    )
    after = marker.bounding_box()
    assert before is not None and after is not None
    assert after["y"] > before["y"] + 10  # south on the screen
    assert after["x"] > before["x"] + 5  # and east
    assert marker.get_attribute("data-lat") == "33.7"
    # The history trail (a dashed polyline) and the speed chart follow the live positions.
    page.wait_for_selector("#panel-chart:not([hidden]) canvas")
    assert page.locator(".leaflet-overlay-pane path[stroke-dasharray]").count() == 1
    assert "4" in page.locator("#panel-history").inner_text()
    shot = screenshot(page, "moved")
    if os.environ.get("KYODO_UPDATE_DOCS_IMG"):  # the README's picture, refreshed on request only
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_IMG / "map.png")

    page.keyboard.press("Escape")
    assert page.locator("#track-panel").is_hidden()
    assert console_errors(page) == []


def test_a_deleted_track_leaves_the_map_at_once(web_server, new_context, login, console_errors):
    uid = f"test.map.del.{uuid.uuid4().hex[:8]}"
    feed = _feed_id(web_server, "us.j3", "USFJ")
    _report(web_server, "us.j3", uid=uid, callsign="DELETE ME", lat=34.0, lon=139.0, feed_id=feed)
    page = login(new_context(), "us.j3")
    _open_map(web_server, page)
    page.locator(f'.kyodo-track[data-uid="{uid}"]').wait_for()
    response = web_server.api("us.j3").delete(f"/api/v1/tracks/{uid}")
    assert response.status_code == 204, response.text
    # The stream's track_deleted frame, well before the 30 s reconciliation.
    page.wait_for_function("uid => !window.kyodoMap.uids().includes(uid)", arg=uid, timeout=5000)
    assert page.locator(f'.kyodo-track[data-uid="{uid}"]').count() == 0
    assert page.locator(f'#track-list button[data-uid="{uid}"]').count() == 0
    assert console_errors(page) == []


def test_filters_hide_tracks_by_type_and_feed(
    web_server, new_context, login, screenshot, console_errors
):
    page = login(new_context(), "us.j3")
    _open_map(web_server, page)
    _wait_for_uids(page, _readable_uids(web_server, "us.j3"))
    air = "demo.18wg"  # a-f-A-M-F
    assert page.locator(f'.kyodo-track[data-uid="{air}"]').count() == 1
    page.locator("input[name=dimension][value=A]").uncheck()
    assert page.locator(f'.kyodo-track[data-uid="{air}"]').count() == 0
    assert page.locator(f'#track-list button[data-uid="{air}"]').is_hidden()
    page.locator("input[name=dimension][value=A]").check()
    assert page.locator(f'.kyodo-track[data-uid="{air}"]').count() == 1
    for box in page.locator("input[name=feed]").all():  # the feeds and "Other feeds"
        box.uncheck()
    assert page.locator(".kyodo-track").count() == 0
    page.locator("input[name=bases]").uncheck()
    assert page.locator(".kyodo-base").count() == 0
    screenshot(page, "filtered")
    assert console_errors(page) == []


def test_banner_rises_and_stale_tracks_leave(
    web_server, new_context, login, screenshot, console_errors
):
    """liaison.aus reads none of the demo picture; a SECRET track released to AUS raises the
    banner, and when it goes stale it leaves the map."""
    page = login(new_context(), "liaison.aus")
    _open_map(web_server, page)
    assert page.locator("#banner-top").get_attribute("data-level") == "unclassified"
    assert page.locator(".kyodo-track").count() == 0
    uid = f"test.map.aus.{uuid.uuid4().hex[:8]}"
    _report(
        web_server,
        "us.j3",
        uid=uid,
        callsign="HMAS Test (FFH)",
        feed_id=_feed_id(web_server, "us.j3", "USFJ"),
        label="SECRET//REL TO USA, AUS",
        lat=33.0,
        lon=135.0,
        stale_seconds=6,
    )
    page.locator(f'.kyodo-track[data-uid="{uid}"]').wait_for()
    page.wait_for_function("() => document.getElementById('banner-top').dataset.level === 'secret'")
    assert page.locator("#banner-bottom").get_attribute("data-level") == "secret"
    screenshot(page, "raised")
    page.locator(f'.kyodo-track[data-uid="{uid}"]').wait_for(state="detached", timeout=15_000)
    assert page.locator("#track-list button").count() == 0
    assert console_errors(page) == []


def test_the_basemap_loads_with_no_network(
    web_server, new_context, login, screenshot, console_errors
):
    context = new_context()
    local = urlsplit(web_server.url).hostname
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    # Anything that would leave this machine fails instead of reaching the internet.
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if urlsplit(route.request.url).hostname == local else route.abort()
        ),
    )
    page = login(context, "jp.sf")
    _open_map(web_server, page)
    page.wait_for_selector(".leaflet-overlay-pane canvas")  # the GeoJSON land
    assert page.locator(".leaflet-overlay-pane canvas").count() >= 1
    assert "Natural Earth" in page.locator(".leaflet-control-attribution").inner_text()
    outside = [url for url in requested if urlsplit(url).hostname != local]
    assert outside == []
    assert any(url.endswith("/static/basemap/region.geojson") for url in requested)
    screenshot(page, "offline")
    assert console_errors(page) == []


def test_a_cot_shape_is_drawn_as_a_path_not_a_symbol(
    web_server, new_context, login, console_errors
):
    # The web server listens for no CoT: the track frame is the server's JSON of a real ATAK
    # free-form polygon (kind and geometry as `track_json` writes them), added to the stream.
    from datetime import UTC, datetime, timedelta

    from kyodo.api.track_json import geometry_json
    from kyodo.cot import EventSplitter, parse_event
    from kyodo.cot.geometry import geometry, track_kind

    capture = (
        Path(__file__).parents[1] / "cot" / "captures" / "atak-civ_drawing-shapes-free-form.cot"
    )
    (data,) = EventSplitter().feed(capture.read_bytes()).items
    event = parse_event(data)
    assert event.point is not None
    uid = f"test.shape.{uuid.uuid4().hex[:8]}"
    base = web_server.api("us.j3").get("/api/v1/tracks").json()[0]
    track = base | {
        "uid": uid,
        "type": event.type,
        "callsign": "Fence",
        "lat": event.point.lat,
        "lon": event.point.lon,
        "stale": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "kind": track_kind(event.type),
        "geometry": geometry_json(
            geometry(event.type, event.point.lat, event.point.lon, event.detail)
        ),
    }
    frame = json.dumps({"type": "track", "track": track})

    def relay(ws) -> None:
        server = ws.connect_to_server()

        def to_server(message) -> None:
            server.send(message)
            if "subscribe" in str(message):
                ws.send(frame)

        ws.on_message(to_server)

    page = login(new_context(), "us.j3")
    page.route_web_socket(lambda url: url.endswith("/api/v1/stream"), relay)
    _open_map(web_server, page)
    page.wait_for_function("uid => window.kyodoMap.uids().includes(uid)", arg=uid)
    page.evaluate(
        "([lat, lon]) => window.kyodoMap.map.setView([lat, lon], 16)",
        [
            event.point.lat,
            event.point.lon,
        ],
    )
    path = page.locator(f'.leaflet-overlay-pane path.kyodo-shape[data-uid="{uid}"]')
    path.wait_for()
    assert path.get_attribute("data-shape") == "polygon"
    d = path.get_attribute("d") or ""
    assert d.lower().rstrip().endswith("z") and d.count("L") == 5  # 6 vertices, closed
    assert page.locator(f'.kyodo-track[data-uid="{uid}"]').count() == 0  # no point symbol
    assert console_errors(page) == []


def _frames_page(web_server, new_context, login, made: list[dict]):
    """The map as us.j3, its stream carrying `made` (server JSON of track frames) too."""
    frames = [json.dumps({"type": "track", "track": t}) for t in made]

    def relay(ws) -> None:
        server = ws.connect_to_server()

        def to_server(message) -> None:
            server.send(message)
            if "subscribe" in str(message):
                for frame in frames:
                    ws.send(frame)

        ws.on_message(to_server)

    page = login(new_context(), "us.j3")
    page.route_web_socket(lambda url: url.endswith("/api/v1/stream"), relay)
    _open_map(web_server, page)
    for track in made:
        page.wait_for_function("uid => window.kyodoMap.uids().includes(uid)", arg=track["uid"])
    return page


def _cot_track(web_server, uid: str, cot_type: str, lat: float, lon: float, detail: str = ""):
    """A track as `track_json` writes it, for a CoT event of this type and detail."""
    from datetime import UTC, datetime, timedelta

    from kyodo.api.track_json import geometry_json
    from kyodo.cot.detail import Detail
    from kyodo.cot.geometry import geometry, route_links, track_kind

    links = route_links(Detail(detail)) if cot_type == "b-m-r" else ()
    waypoints = [[u, [at[1], at[0]] if at else None] for u, at in links] or None
    base = web_server.api("us.j3").get("/api/v1/tracks").json()[0]
    return base | {
        "uid": uid,
        "type": cot_type,
        "callsign": uid,
        "lat": lat,
        "lon": lon,
        "stale": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "kind": track_kind(cot_type),
        "geometry": geometry_json(geometry(cot_type, lat, lon, Detail(detail)), waypoints),
    }


def test_alerts_and_casevac_have_their_own_symbols(web_server, new_context, login, console_errors):
    tag = uuid.uuid4().hex[:6]
    made = [
        _cot_track(web_server, f"alert.{tag}", "b-a-o-tbl", 35.60, 139.60),
        _cot_track(web_server, f"tic.{tag}", "b-a-o-opn", 35.61, 139.61),
        _cot_track(web_server, f"cancel.{tag}", "b-a-o-can", 35.62, 139.62),
        _cot_track(web_server, f"casevac.{tag}", "b-r-f-h-c", 35.63, 139.63),
    ]
    assert [t["kind"] for t in made] == ["alert", "alert", "alert", "casevac"]
    page = _frames_page(web_server, new_context, login, made)
    page.evaluate("() => window.kyodoMap.map.setView([35.61, 139.61], 13)")
    for uid, name in (
        (f"alert.{tag}", "alert"),
        (f"tic.{tag}", "alert"),
        (f"cancel.{tag}", "alert-cancelled"),
        (f"casevac.{tag}", "casevac"),
    ):
        symbol = page.locator(f'.leaflet-marker-pane .kyodo-track.kyodo-{name}[data-uid="{uid}"]')
        symbol.wait_for()
        assert symbol.get_attribute("data-kind") == ("casevac" if name == "casevac" else "alert")
        # Its own drawing, not a 2525 frame made by milsymbol.
        assert symbol.locator("svg path, svg circle").count() >= 1
    plain = page.locator(".leaflet-marker-pane .kyodo-track:not(.kyodo-alert)")
    assert plain.count() >= 1  # the demo's units keep their 2525 symbols
    assert console_errors(page) == []


def test_telestration_strokes_and_a_route_by_waypoint_uids_are_drawn(
    web_server, new_context, login, console_errors
):
    from xml.sax.saxutils import quoteattr

    tag = uuid.uuid4().hex[:6]

    def stroke(points):
        links = "".join(f'<link point="{a},{b}"/>' for a, b in points)
        return f"<link line={quoteattr(f'<event><detail>{links}</detail></event>')}/>"

    strokes = stroke([(35.60, 139.60), (35.61, 139.61)]) + stroke(
        [(35.62, 139.60), (35.63, 139.61), (35.64, 139.60)]
    )
    route = "".join(f'<link uid="wp{n}.{tag}" type="b-m-p-w" relation="c"/>' for n in (1, 2, 3))
    made = [
        _cot_track(web_server, f"tele.{tag}", "u-d-f-m", 35.60, 139.60, strokes),
        _cot_track(web_server, f"wp1.{tag}", "b-m-p-w", 35.70, 139.70),
        _cot_track(web_server, f"wp2.{tag}", "b-m-p-w", 35.71, 139.72),
        _cot_track(web_server, f"route.{tag}", "b-m-r", 35.70, 139.70, route),
    ]
    assert made[0]["geometry"]["type"] == "MultiLineString"
    page = _frames_page(web_server, new_context, login, made)
    page.evaluate("() => window.kyodoMap.map.setView([35.66, 139.66], 12)")
    tele = page.locator(f'.leaflet-overlay-pane path.kyodo-shape[data-uid="tele.{tag}"]')
    tele.wait_for()
    assert tele.get_attribute("data-shape") == "multiline"
    assert (tele.get_attribute("d") or "").count("M") == 2  # two strokes
    line = page.locator(f'.leaflet-overlay-pane path.kyodo-shape[data-uid="route.{tag}"]')
    line.wait_for()
    assert line.get_attribute("data-shape") == "route"
    # Two of its three waypoints are on this map: the route runs through them.
    assert (line.get_attribute("d") or "").count("L") == 1
    assert console_errors(page) == []
