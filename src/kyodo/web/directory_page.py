"""The directory: organisations with the USFJ ↔ JJOC counterpart view, and people."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kyodo.domain.identity import Org
from kyodo.labels import join_all
from kyodo.services import identity
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.web.i18n import N_
from kyodo.web.people_view import clearance_text, display_name, readable_people
from kyodo.web.session import PageActor, context_of
from kyodo.web.templating import language_of, render_page

router = APIRouter(include_in_schema=False)
MAX_ORGS = 2000
NATIONS = {"USA": N_("United States"), "JPN": N_("Japan"), "USA+JPN": N_("Combined")}
NATION_ORDER = {"USA": 0, "JPN": 1}


async def readable_orgs(ctx: ServiceContext, actor: Actor) -> list[Org]:
    """Every organisation the actor may read."""
    found: list[Org] = []
    cursor: str | None = None
    while len(found) < MAX_ORGS:
        page = await identity.list_orgs(ctx, actor, cursor, 200)
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def org_name(org: Org, lang: str) -> str:
    """The Japanese name for Japanese readers where one is recorded (統合作戦司令部, 在日米軍)."""
    return org.name_ja if lang == "ja" and org.name_ja else org.name


def _tree(orgs: list[Org], lang: str) -> list[dict[str, Any]]:
    """Organisations in tree order (parents before children), with their depth."""
    by_parent: dict[str | None, list[Org]] = {}
    ids = {o.id for o in orgs}
    for org in orgs:
        parent = org.parent_id if org.parent_id in ids else None
        by_parent.setdefault(parent, []).append(org)
    rows: list[dict[str, Any]] = []

    def walk(parent: str | None, depth: int) -> None:
        children = sorted(
            by_parent.get(parent, []), key=lambda o: (NATION_ORDER.get(o.nation, 2), o.abbr)
        )
        for org in children:
            rows.append({"org": org, "name": org_name(org, lang), "depth": min(depth, 6)})
            walk(org.id, depth + 1)

    walk(None, 0)
    return rows


def counterpart_pairs(orgs: list[Org]) -> list[tuple[Org, Org]]:
    """(US, Japanese) counterpart pairs among the readable organisations, USFJ ↔ JJOC first."""
    by_id = {o.id: o for o in orgs}
    pairs: dict[frozenset[str], tuple[Org, Org]] = {}
    for org in orgs:
        other = by_id.get(org.counterpart_id or "")
        if other is None or org.nation == other.nation:
            continue
        us, jp = (
            (org, other)
            if NATION_ORDER.get(org.nation, 2) <= NATION_ORDER.get(other.nation, 2)
            else (other, org)
        )
        pairs.setdefault(frozenset({us.id, jp.id}), (us, jp))
    return sorted(
        pairs.values(), key=lambda p: (p[0].id != "usfj", p[0].parent_id is not None, p[0].abbr)
    )


@router.get("/directory", response_class=HTMLResponse)
async def directory(request: Request, actor: PageActor) -> Response:
    """Organisations (tree and counterparts side by side) and people the person may read."""
    ctx = context_of(request)
    lang = language_of(request, actor)
    orgs = await readable_orgs(ctx, actor)
    people = await readable_people(ctx, actor)
    org_by_id = {o.id: o for o in orgs}
    person_rows = [
        {
            "person": p,
            "name": display_name(p, lang),
            "clearance": clearance_text(p, ctx.registry, lang),
            "org": org_by_id[p.org_id].abbr if p.org_id in org_by_id else "",
        }
        for p in sorted(people, key=lambda p: (NATION_ORDER.get(p.nation, 2), p.username))
    ]
    labels = [o.label for o in orgs] + [p.label for p in people]
    return render_page(
        request,
        "directory.html",
        actor=actor,
        active="directory",
        page_label=join_all(*labels) if labels else None,
        pairs=[
            {"us": us, "jp": jp, "us_name": org_name(us, lang), "jp_name": org_name(jp, lang)}
            for us, jp in counterpart_pairs(orgs)
        ],
        tree=_tree(orgs, lang),
        people=person_rows,
        nations=NATIONS,
    )
