"""The map page: live tracks over the offline basemap and the bases of both nations."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from kyodo.api.deps import CurrentActor
from kyodo.labels import join_all
from kyodo.services import tracks
from kyodo.settings import Settings
from kyodo.web.i18n import N_, translations
from kyodo.web.session import PageActor, context_of
from kyodo.web.templating import language_of, render_page

router = APIRouter(include_in_schema=False)

# Where the map opens: the Japanese archipelago, Korea and the Ryukyus in view.
CENTER = (32.0, 131.0)
ZOOM = 5
NATION_NAMES = {
    "USA": N_("United States"),
    "JPN": N_("Japan"),
    "JOINT": N_("Joint (United States and Japan)"),
}
NATION_SHORT = {"USA": "US", "JPN": "JP", "JOINT": "US·JP"}


def _nation(text: str) -> str:
    """USA, JPN or JOINT from the seed's free-text nation ("US (shared with JASDF)", "JP")."""
    upper = text.upper()
    if upper.startswith("US/JP") or "JOINT" in upper:
        return "JOINT"
    if upper.startswith("US"):
        return "USA"
    return "JPN"


@functools.cache
def bases() -> tuple[dict[str, Any], ...]:
    """The public-source bases with coordinates (UNCLASSIFIED) from the demo seed data."""
    seed = json.loads(
        resources.files("kyodo.demo").joinpath("seed.json").read_text(encoding="utf-8")
    )
    found = []
    for base in seed.get("bases", ()):
        lat, lon = base.get("lat"), base.get("lon")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            continue  # the seed has no sourced coordinates for some camps
        found.append(
            {
                "id": str(base["id"]),
                "name": str(base.get("name", "")),
                "name_ja": str(base.get("name_ja", "")),
                "nation": _nation(str(base.get("nation", ""))),
                "lat": float(lat),
                "lon": float(lon),
                "services": [str(s) for s in base.get("services", ())],
            }
        )
    return tuple(found)


@router.get("/map", response_class=HTMLResponse)
async def map_page(request: Request, actor: PageActor) -> HTMLResponse:
    """The live picture the person may read; the banner starts at the highest label on it."""
    ctx = context_of(request)
    feeds = await tracks.list_feeds(ctx, actor)
    live = await tracks.list_tracks(ctx, actor, limit=5000)
    page_label = join_all(*(t.label for t in live)) if live else None
    settings: Settings = request.app.state.settings
    return render_page(
        request,
        "map.html",
        actor=actor,
        page_label=page_label,
        feeds=[{"id": f.id, "name": f.name} for f in feeds],
        feed_names={f.id: f.name for f in feeds},
        active="map",
        tile_url=settings.map_tile_url,
        center=list(CENTER),
        zoom=ZOOM,
        track_count=len(live),
    )


@router.get("/map/bases.json")
async def map_bases(request: Request, actor: CurrentActor) -> JSONResponse:
    """The bases of both nations (public sources, UNCLASSIFIED), named in the reader's language."""
    gettext = translations(language_of(request, actor)).gettext
    body = [
        {
            **base,
            "nation_short": NATION_SHORT[base["nation"]],
            "nation_label": gettext(NATION_NAMES[base["nation"]]),
        }
        for base in bases()
    ]
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
