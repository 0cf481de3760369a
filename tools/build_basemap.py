"""Build the offline basemap (Natural Earth via world-atlas, clipped to the region) by hand.

Usage (from the repository root, with node's `npm` on the PATH and the registry reachable):

    python tools/build_basemap.py [--scale 10m|50m|110m] [--digits 3]

It downloads `world-atlas` with `npm pack`, decodes its TopoJSON `countries` object to GeoJSON
in Python (no node libraries needed), clips every ring to the region's box (Sutherland-Hodgman
against a rectangle), rounds coordinates, drops repeated points and writes
src/kyodo/web/static/basemap/region.geojson with the attribution and licence files beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vendor_assets import npm_pack

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "kyodo" / "web" / "static" / "basemap"
WORLD_ATLAS = ("world-atlas", "2.0.2")
# lon 118-150 E, lat 20-46 N: Japan, Korea, the Ryukyus, Taiwan and the east China coast.
BOX = (118.0, 20.0, 150.0, 46.0)

Point = tuple[float, float]
Ring = list[Point]


def decode_arcs(topology: dict[str, Any]) -> list[Ring]:
    """Absolute lon/lat arcs from quantized, delta-encoded TopoJSON arcs."""
    transform = topology.get("transform")
    arcs: list[Ring] = []
    for arc in topology["arcs"]:
        points: Ring = []
        x = y = 0.0
        for position in arc:
            if transform:
                x += position[0]
                y += position[1]
                sx, sy = transform["scale"]
                tx, ty = transform["translate"]
                points.append((x * sx + tx, y * sy + ty))
            else:
                points.append((float(position[0]), float(position[1])))
        arcs.append(points)
    return arcs


def ring_of(indexes: Sequence[int], arcs: list[Ring]) -> Ring:
    """Stitch arcs into one ring (a negative index ~i is arc i reversed)."""
    ring: Ring = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(arc if not ring else arc[1:])
    return ring


def clip_ring(ring: Ring, box: tuple[float, float, float, float]) -> Ring:
    """Sutherland-Hodgman clipping of a closed ring to an axis-aligned box."""
    west, south, east, north = box

    def clip(
        points: Ring, inside: Callable[[Point], bool], cut: Callable[[Point, Point], Point]
    ) -> Ring:
        if not points:
            return []
        result: Ring = []
        previous = points[-1]
        for current in points:
            if inside(current):
                if not inside(previous):
                    result.append(cut(previous, current))
                result.append(current)
            elif inside(previous):
                result.append(cut(previous, current))
            previous = current
        return result

    def at_x(x: float) -> Callable[[Point, Point], Point]:
        return lambda a, b: (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))

    def at_y(y: float) -> Callable[[Point, Point], Point]:
        return lambda a, b: (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)

    points = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
    points = clip(points, lambda p: p[0] >= west, at_x(west))
    points = clip(points, lambda p: p[0] <= east, at_x(east))
    points = clip(points, lambda p: p[1] >= south, at_y(south))
    points = clip(points, lambda p: p[1] <= north, at_y(north))
    return points


def tidy(ring: Ring, digits: int) -> list[list[float]] | None:
    """Round, drop repeated points, close the ring; None when fewer than three points remain."""
    out: list[list[float]] = []
    for x, y in ring:
        point = [round(x, digits), round(y, digits)]
        if not out or out[-1] != point:
            out.append(point)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    if len(out) < 3:
        return None
    return [*out, out[0]]


def clipped_features(topology: dict[str, Any], digits: int) -> list[dict[str, Any]]:
    """The `countries` object as GeoJSON features clipped to BOX (empty ones dropped)."""
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        if geometry["type"] == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue
        kept = []
        for polygon in polygons:
            rings = [tidy(clip_ring(ring_of(r, arcs), BOX), digits) for r in polygon]
            if rings and rings[0] is not None:
                kept.append([r for r in rings if r is not None])
        if kept:
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": geometry.get("properties", {}).get("name", "")},
                    "geometry": {"type": "MultiPolygon", "coordinates": kept},
                }
            )
    return features


ATTRIBUTION = """# Basemap

`region.geojson`: country polygons from **Natural Earth** ({scale} Admin 0 countries, version
4.1.0 as redistributed in the npm package world-atlas@{version}), clipped to lon {w}-{e} E,
lat {s}-{n} N and rounded to {digits} decimals by `tools/build_basemap.py`.

- Natural Earth data is in the **public domain** (https://www.naturalearthdata.com/about/terms-of-use/).
  "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com."
- world-atlas (the TopoJSON conversion) is under the ISC licence: `LICENSE-world-atlas`.
- Boundaries are Natural Earth's and imply no position on any territorial question.

Source: `world-atlas@{version}/package/countries-{scale}.json`, sha256 `{source_sha}`.
Output sha256: `{out_sha}`.
"""


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["110m", "50m", "10m"], default="10m")
    parser.add_argument("--digits", type=int, default=3)
    args = parser.parse_args()
    name, version = WORLD_ATLAS
    with tempfile.TemporaryDirectory(prefix="kyodo-basemap-") as tmp:
        package, _ = npm_pack(name, version, Path(tmp))
        source = package / f"countries-{args.scale}.json"
        source_sha = hashlib.sha256(source.read_bytes()).hexdigest()
        topology = json.loads(source.read_text(encoding="utf-8"))
        OUT.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package / "LICENSE", OUT / "LICENSE-world-atlas")
    features = clipped_features(topology, args.digits)
    collection = {
        "type": "FeatureCollection",
        "bbox": list(BOX),
        "features": features,
    }
    target = OUT / "region.geojson"
    target.write_text(
        json.dumps(collection, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8"
    )
    out_sha = hashlib.sha256(target.read_bytes()).hexdigest()
    w, s, e, n = BOX
    (OUT / "ATTRIBUTION.md").write_text(
        ATTRIBUTION.format(
            scale=args.scale,
            version=version,
            w=w,
            e=e,
            s=s,
            n=n,
            digits=args.digits,
            source_sha=source_sha,
            out_sha=out_sha,
        ),
        encoding="utf-8",
    )
    names = sorted(f["properties"]["name"] for f in features)
    print(f"{target}: {target.stat().st_size} bytes, {len(names)} countries: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
