"""Re-create src/kyodo/web/static/vendor/ from the npm registry (by hand, never at install/run).

Usage (from the repository root, with node's `npm` on the PATH and the registry reachable):

    python tools/vendor_assets.py            # fetch the pinned versions, copy the dist files, write
                                             # VENDORED.json and VENDORED.md
    python tools/vendor_assets.py --check    # offline: the files on disk match VENDORED.json

`npm pack NAME@VERSION` downloads each package's tarball (npm checks the registry's integrity hash);
only the files listed below and the licence are copied. To upgrade a library, change its version
here, run the tool, look at the diff and run the browser tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "kyodo" / "web" / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    """One npm package: which files of its tarball go where under vendor/<folder>/."""

    name: str
    version: str
    folder: str
    files: dict[str, str]  # path inside the package -> file name under vendor/<folder>/
    licence_files: tuple[str, ...] = ("LICENSE",)
    note: str = ""


PACKAGES: tuple[Package, ...] = (
    Package(
        "htmx.org",
        "2.0.11",
        "htmx",
        {"dist/htmx.min.js": "htmx.min.js"},
        note="htmx 2 (the maintained 2.x line); htmx 4 changed attribute inheritance and events.",
    ),
    Package(
        "leaflet",
        "1.9.4",
        "leaflet",
        {
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
        },
    ),
    Package("milsymbol", "3.0.4", "milsymbol", {"dist/milsymbol.js": "milsymbol.js"}),
    Package(
        "uplot",
        "1.6.32",
        "uplot",
        {"dist/uPlot.iife.min.js": "uPlot.iife.min.js", "dist/uPlot.min.css": "uPlot.min.css"},
    ),
)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def npm_pack(name: str, version: str, workdir: Path) -> tuple[Path, dict[str, Any]]:
    """Download NAME@VERSION's tarball with `npm pack`, unpack it; (package dir, npm's metadata)."""
    out = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        ["npm", "pack", "--json", f"{name}@{version}", "--pack-destination", str(workdir)],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    meta = json.loads(out)[0]
    tarball = workdir / meta["filename"]
    target = workdir / f"{name}-{version}"
    with tarfile.open(tarball, "r:gz") as tar:
        tar.extractall(target, filter="data")
    return target / "package", meta


def licence_of(package_dir: Path) -> str:
    """The SPDX licence in the package's package.json."""
    data = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    return str(data.get("license", "UNKNOWN"))


def vendor(work: Path) -> list[dict[str, Any]]:
    """Fetch every package and copy its files; the manifest entries."""
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    VENDOR.mkdir(parents=True)
    manifest: list[dict[str, Any]] = []
    for pkg in PACKAGES:
        src, meta = npm_pack(pkg.name, pkg.version, work)
        if meta["version"] != pkg.version:
            raise SystemExit(f"{pkg.name}: npm returned {meta['version']}, wanted {pkg.version}")
        dest = VENDOR / pkg.folder
        files = []
        for inside, name in {**pkg.files, **{lic: lic for lic in pkg.licence_files}}.items():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / inside, target)
            files.append(
                {
                    "source": f"{pkg.name}@{pkg.version}/package/{inside}",
                    "path": f"{pkg.folder}/{name}",
                    "bytes": target.stat().st_size,
                    "sha256": sha256(target),
                }
            )
        manifest.append(
            {
                "name": pkg.name,
                "version": pkg.version,
                "licence": licence_of(src),
                "folder": pkg.folder,
                "tarball": f"https://registry.npmjs.org/{pkg.name}/-/{meta['filename']}",
                "integrity": meta["integrity"],
                "note": pkg.note,
                "files": files,
            }
        )
        print(f"{pkg.name}@{pkg.version}: {len(files)} files")
    return manifest


def write_manifest(manifest: list[dict[str, Any]]) -> None:
    """VENDORED.json (checked by the tests) and VENDORED.md (for people)."""
    (VENDOR / "VENDORED.json").write_text(
        json.dumps({"packages": manifest}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    lines = [
        "# Vendored front-end libraries",
        "",
        "Copied from the npm registry by `tools/vendor_assets.py` (run by hand); nothing is",
        "loaded from the internet at run time. `python tools/vendor_assets.py --check` verifies",
        "the files.",
        "",
        "| package | version | licence | files |",
        "|---|---|---|---|",
    ]
    for entry in manifest:
        files = entry["files"]
        paths = ", ".join(f"`{f['path']}`" for f in files)
        lines.append(f"| {entry['name']} | {entry['version']} | {entry['licence']} | {paths} |")
    lines += ["", "## SHA-256", ""]
    for entry in manifest:
        files = entry["files"]
        for f in files:
            lines.append(f"- `{f['path']}` ← `{f['source']}`: `{f['sha256']}`")
    lines += ["", "Tarball integrity (npm):", ""]
    lines += [f"- {e['name']}@{e['version']}: `{e['integrity']}`" for e in manifest]
    notes = [f"- {e['name']}: {e['note']}" for e in manifest if e["note"]]
    if notes:
        lines += ["", "Notes:", "", *notes]
    (VENDOR / "VENDORED.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def check() -> int:
    """Offline: every file in VENDORED.json exists with its hash; 0 when all match."""
    data = json.loads((VENDOR / "VENDORED.json").read_text(encoding="utf-8"))
    bad = 0
    for entry in data["packages"]:
        for f in entry["files"]:
            path = VENDOR / f["path"]
            if not path.is_file() or sha256(path) != f["sha256"]:
                print(f"MISMATCH {f['path']}", file=sys.stderr)
                bad += 1
    print("ok" if not bad else f"{bad} file(s) differ")
    return 1 if bad else 0


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify only (offline)")
    args = parser.parse_args()
    if args.check:
        return check()
    with tempfile.TemporaryDirectory(prefix="kyodo-vendor-") as tmp:
        write_manifest(vendor(Path(tmp)))
    return check()


if __name__ == "__main__":
    raise SystemExit(main())
