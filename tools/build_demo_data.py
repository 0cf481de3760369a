"""Builds src/kyodo/demo/seed.json from ../shared/data/seed_data.json, keeping every source."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

NATIONS = {"US": "USA", "JP": "JPN", "US-JP": "USA+JPN"}


def _sources(record: Any, found: set[str]) -> None:
    if isinstance(record, dict):
        for key, value in record.items():
            if (key == "source" or key.endswith("_source")) and isinstance(value, str):
                found.add(value)
            elif (key == "source" or key.endswith("_source")) and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            else:
                _sources(value, found)
    elif isinstance(record, list):
        for item in record:
            _sources(item, found)


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    seed_path = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared/data/seed_data.json"
    )
    seed = json.loads(seed_path.read_text(encoding="utf-8"))
    orgs = []
    for org in seed["organizations"]:
        orgs.append(
            {
                "id": org["id"],
                "abbr": org.get("abbr") or org["id"].upper(),
                "name": org["name_en"],
                "name_ja": org.get("name_ja"),
                "nation": NATIONS[org["nation"]],
                "parent_id": org.get("parent"),
                "counterpart_id": org.get("counterpart"),
                "location": org.get("location"),
                "source": org.get("source", []),
            }
        )
    keep = ("bases", "units_assets", "classification", "terminology")
    out: dict[str, Any] = {
        "meta": {
            "derived_from": "shared/data/seed_data.json",
            "generated_by": "tools/build_demo_data.py",
            "note": seed["meta"]["purpose"] + ". Demo labels on this data are illustrative.",
            "caveats": seed["meta"]["caveats"],
        },
        "organizations": orgs,
        **{k: seed[k] for k in keep},
    }
    used: set[str] = set()
    _sources(out, used)
    out["sources"] = {k: v for k, v in seed["sources"].items() if k in used}
    missing = sorted(used - set(out["sources"]))
    if missing:
        raise SystemExit(f"source ids without a source entry: {missing}")
    target = root / "src/kyodo/demo/seed.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target} ({len(orgs)} organisations, {len(out['sources'])} sources)")


if __name__ == "__main__":
    main()
