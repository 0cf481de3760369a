"""The map page's endpoints without a browser; the vendored files and basemap as recorded."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import httpx
import pytest

from kyodo.api.app import create_app
from kyodo.demo.loader import load_demo
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings
from kyodo.web import map_page

from tests.support.factories import login, make_operator

STATIC = Path(map_page.__file__).resolve().parent / "static"
BOX = (118.0, 20.0, 150.0, 46.0)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The map reads nothing storage-specific: SQLite only (overrides the two back-ends)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'kyodo.db'}"


@pytest.fixture
async def demo(ctx: ServiceContext) -> ServiceContext:
    await load_demo(ctx, make_operator(ctx))
    return ctx


def _config(body: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="map-config">(.*?)</script>', body, re.S)
    assert found, "the map page carries its configuration as a JSON block"
    value: dict[str, object] = json.loads(found.group(1))
    return value


def _banner(body: str) -> str:
    found = re.search(r'<div id="banner-top"[^>]*>(.*?)</div>', body, re.S)
    assert found
    return html.unescape(found.group(1)).strip()


async def test_map_needs_a_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/map")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/map"


async def test_bases_need_a_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/map/bases.json")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_us_reader_sees_the_noforn_banner_and_the_us_feed(
    demo: ServiceContext, client: httpx.AsyncClient
) -> None:
    await login(client, "us.j3", "kyodo-demo")
    response = await client.get("/map")
    assert response.status_code == 200
    body = response.text
    assert _banner(body) == "SECRET//NOFORN"  # demo.lcc19 is the highest track us.j3 reads
    assert "USFJ / 7th Fleet picture" in body
    config = _config(body)
    assert config["tileUrl"] is None
    assert config["basemap"] == "/static/basemap/region.geojson"
    assert config["locale"] == "en"
    assert response.headers["cache-control"] == "no-store"


async def test_japanese_reader_never_gets_noforn(
    demo: ServiceContext, client: httpx.AsyncClient
) -> None:
    await login(client, "jp.j3", "kyodo-demo")
    response = await client.get("/map")
    assert response.status_code == 200
    body = response.text
    assert "NOFORN" not in body
    assert "Blue Ridge" not in body  # the NOFORN track's callsign is nowhere on the page
    config = _config(body)
    assert config["locale"] == "ja"
    assert config["strings"]["speed"] == "速力"  # type: ignore[index]
    assert "航跡" in body
    assert "日本限り" in _banner(body)  # demo.amami (極秘//日本限り), in the JPN scheme


async def test_reader_without_tracks_gets_an_unclassified_page(
    demo: ServiceContext, client: httpx.AsyncClient
) -> None:
    await login(client, "journalist", "kyodo-demo")
    response = await client.get("/map")
    assert response.status_code == 200
    assert _banner(response.text) == "UNCLASSIFIED"


async def test_bases_of_both_nations(demo: ServiceContext, client: httpx.AsyncClient) -> None:
    await login(client, "journalist", "kyodo-demo")
    response = await client.get("/map/bases.json")
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


async def test_bases_are_named_in_the_readers_language(
    demo: ServiceContext, client: httpx.AsyncClient
) -> None:
    await login(client, "jp.adc", "kyodo-demo")
    bases = {b["id"]: b for b in (await client.get("/map/bases.json")).json()}
    assert bases["camp_yonaguni"]["nation_label"] == "日本"
    assert bases["misawa"]["nation_label"] == "日米共同"


async def test_a_tile_server_replaces_the_basemap(ctx: ServiceContext, settings: Settings) -> None:
    await load_demo(ctx, make_operator(ctx))
    tiles = "https://tiles.example.mil/{z}/{x}/{y}.png"
    app = create_app(settings.model_copy(update={"map_tile_url": tiles}), context=ctx)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        await login(http, "us.7flt", "kyodo-demo")
        response = await http.get("/map")
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
