"""The map page's endpoints without a browser; the vendored files and basemap as recorded.

The in-process app runs on its own event loop in a thread: Playwright's sync API (the browser
tests beside this file, in the same session) keeps a loop running in the main thread, where
pytest-asyncio's async fixtures cannot start another one.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import re
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from argon2 import PasswordHasher

from kyodo.api.app import build_context, create_app
from kyodo.demo.loader import load_demo
from kyodo.settings import Settings
from kyodo.store.migrate import migrate
from kyodo.web import map_page

from tests.support.factories import login, make_operator

STATIC = Path(map_page.__file__).resolve().parent / "static"
BOX = (118.0, 20.0, 150.0, 46.0)
T = TypeVar("T")


@dataclass
class Site:
    """The demo data and the real app (with the web UI), on a loop of its own."""

    loop: asyncio.AbstractEventLoop
    settings: Settings
    ctx: Any

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def get(self, path: str, username: str | None = None, **overrides: Any) -> httpx.Response:
        """GET `path` as `username` (logged in with the demo password) or anonymously."""
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings

        async def go() -> httpx.Response:
            app = create_app(settings, context=self.ctx)
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                if username:
                    await login(http, username, "kyodo-demo")
                return await http.get(path)

        return self.run(go())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo on SQLite (the map reads nothing storage-specific), loaded once."""
    database = tmp_path_factory.mktemp("map") / "kyodo.db"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}", cot_port=0, cot_tls_port=0)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    ctx = build_context(settings)
    ctx.passwords = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    site = Site(loop, settings, ctx)

    async def prepare() -> None:
        await migrate(ctx.db)
        await load_demo(ctx, make_operator(ctx))

    try:
        site.run(prepare())
        yield site
    finally:
        site.run(ctx.db.dispose())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _config(body: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="map-config">(.*?)</script>', body, re.S)
    assert found, "the map page carries its configuration as a JSON block"
    value: dict[str, Any] = json.loads(found.group(1))
    return value


def _banner(body: str) -> str:
    found = re.search(r'<div id="banner-top"[^>]*>(.*?)</div>', body, re.S)
    assert found
    return html.unescape(found.group(1)).strip()


def test_map_needs_a_login(site: Site) -> None:
    response = site.get("/map")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/map"


def test_bases_need_a_login(site: Site) -> None:
    response = site.get("/map/bases.json")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_us_reader_sees_the_noforn_banner_and_the_us_feed(site: Site) -> None:
    response = site.get("/map", "us.j3")
    assert response.status_code == 200
    body = response.text
    assert _banner(body) == "SECRET//NOFORN"  # demo.lcc19 is the highest track us.j3 reads
    assert "USFJ / 7th Fleet picture" in body
    config = _config(body)
    assert config["tileUrl"] is None
    assert config["basemap"] == "/static/basemap/region.geojson"
    assert config["locale"] == "en"
    assert response.headers["cache-control"] == "no-store"


def test_japanese_reader_never_gets_noforn(site: Site) -> None:
    response = site.get("/map", "jp.j3")
    assert response.status_code == 200
    body = response.text
    assert "NOFORN" not in body
    assert "Blue Ridge" not in body  # the NOFORN track's callsign is nowhere on the page
    config = _config(body)
    assert config["locale"] == "ja"
    assert config["strings"]["speed"] == "速力"
    assert "航跡" in body
    assert "日本限り" in _banner(body)  # demo.amami (極秘//日本限り), in the JPN scheme


def test_reader_without_tracks_gets_an_unclassified_page(site: Site) -> None:
    response = site.get("/map", "journalist")
    assert response.status_code == 200
    assert _banner(response.text) == "UNCLASSIFIED"


def test_bases_of_both_nations(site: Site) -> None:
    response = site.get("/map/bases.json", "journalist")
    assert response.status_code == 200
    bases = response.json()
    by_id = {b["id"]: b for b in bases}
    assert by_id["yokota"]["nation"] == "USA"
    assert by_id["yokota"]["name_ja"] == "横田飛行場"
    assert by_id["misawa"]["nation"] == "JOINT"
    assert by_id["camp_yonaguni"]["nation"] == "JPN"
    assert by_id["camp_yonaguni"]["nation_label"] == "Japan"
    assert "camp_courtney" not in by_id  # no sourced coordinates
    for base in bases:
        assert BOX[0] <= base["lon"] <= BOX[2] and BOX[1] <= base["lat"] <= BOX[3]


def test_bases_are_named_in_the_readers_language(site: Site) -> None:
    bases = {b["id"]: b for b in site.get("/map/bases.json", "jp.adc").json()}
    assert bases["camp_yonaguni"]["nation_label"] == "日本"
    assert bases["misawa"]["nation_label"] == "日米共同"


def test_a_tile_server_replaces_the_basemap(site: Site) -> None:
    tiles = "https://tiles.example.mil/{z}/{x}/{y}.png"
    response = site.get("/map", "us.7flt", map_tile_url=tiles)
    assert _config(response.text)["tileUrl"] == tiles


def test_nation_of_the_seeds_free_text() -> None:
    assert map_page._nation("US (shared with JASDF)") == "USA"
    assert map_page._nation("US/JP joint") == "JOINT"
    assert map_page._nation("JP") == "JPN"


def test_vendored_files_match_their_manifest() -> None:
    vendor = STATIC / "vendor"
    manifest = json.loads((vendor / "VENDORED.json").read_text(encoding="utf-8"))
    names = {p["name"] for p in manifest["packages"]}
    assert {"htmx.org", "leaflet", "milsymbol", "uplot"} <= names
    for package in manifest["packages"]:
        paths = {f["path"] for f in package["files"]}
        assert f"{package['folder']}/LICENSE" in paths, package["name"]
        for f in package["files"]:
            data = (vendor / f["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["sha256"], f["path"]
    listed = {f["path"] for p in manifest["packages"] for f in p["files"]}
    on_disk = {
        str(p.relative_to(vendor))
        for p in vendor.rglob("*")
        if p.is_file() and p.name not in {"VENDORED.json", "VENDORED.md"}
    }
    assert on_disk == listed  # nothing vendored without a record


def test_basemap_is_clipped_to_the_region_and_attributed() -> None:
    folder = STATIC / "basemap"
    geojson = json.loads((folder / "region.geojson").read_text(encoding="utf-8"))
    names = {f["properties"]["name"] for f in geojson["features"]}
    assert {"Japan", "South Korea", "Taiwan", "China"} <= names
    for feature in geojson["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            for ring in polygon:
                assert ring[0] == ring[-1] and len(ring) >= 4
                for lon, lat in ring:
                    assert BOX[0] <= lon <= BOX[2] and BOX[1] <= lat <= BOX[3]
    attribution = (folder / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "Natural Earth" in attribution and "public domain" in attribution
    assert (folder / "LICENSE-world-atlas").is_file()
    assert (folder / "region.geojson").stat().st_size < 1_000_000
