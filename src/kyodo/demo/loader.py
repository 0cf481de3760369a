"""Loads the demo organisations and people through the services (so it is all audited)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from kyodo.demo.actions import load_actions
from kyodo.domain.identity import Org
from kyodo.domain.nets import NetRole
from kyodo.domain.tracks import Position, TrackReport
from kyodo.errors import Conflict, NotFound
from kyodo.labels import parse_marking
from kyodo.services import identity, messages, nets, tracks
from kyodo.services.actor import person_actor

if TYPE_CHECKING:
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext


def _read(name: str) -> Any:
    return json.loads(resources.files("kyodo.demo").joinpath(name).read_text(encoding="utf-8"))


def seed() -> dict[str, Any]:
    """The public-source seed (organisations, bases, units, sources)."""
    data: dict[str, Any] = _read("seed.json")
    return data


def personas() -> dict[str, Any]:
    """The fictional demo people and their shared password."""
    data: dict[str, Any] = _read("personas.json")
    return data


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A demo account to print for the person trying Kyodo."""

    username: str
    password: str
    name: str
    nation: str
    clearance: str
    roles: tuple[str, ...]


async def load_demo(ctx: ServiceContext, actor: Actor) -> list[DemoLogin]:
    """Create what is missing of the demo data (idempotent) and return the demo logins."""
    data = seed()
    orgs = sorted(data["organizations"], key=_depth_key(data["organizations"]))
    for record in orgs:
        org = Org(
            id=record["id"],
            abbr=record["abbr"],
            name=record["name"],
            name_ja=record.get("name_ja"),
            nation=record["nation"],
            parent_id=record.get("parent_id"),
            # Counterparts are linked after both exist.
            counterpart_id=None,
            label=ctx.unclassified(),
            sources=tuple(record.get("source", ())),
        )
        try:
            await identity.create_org(ctx, actor, org)
        except Conflict:
            continue
    for record in orgs:
        if record.get("counterpart_id"):
            current = await identity.get_org(ctx, actor, record["id"])
            if current.counterpart_id is None:
                await identity.update_org(
                    ctx, actor, record["id"], counterpart_id=record["counterpart_id"]
                )
    await load_picture(ctx, actor)
    people = personas()
    logins: list[DemoLogin] = []
    for record in people["people"]:
        data_in = identity.PersonInput(
            username=record["username"],
            name=record["name"],
            name_ja=record.get("name_ja"),
            nation=record["nation"],
            clearance=record["clearance"],
            password=people["password"],
            grants=tuple(record.get("grants", ())),
            roles=tuple(record.get("roles", ("member",))),
            org_id=record.get("org_id"),
        )
        with contextlib.suppress(Conflict):
            await identity.create_person(ctx, actor, data_in)
        logins.append(
            DemoLogin(
                record["username"],
                people["password"],
                record["name"],
                record["nation"],
                record["clearance"],
                data_in.roles,
            )
        )
    await load_nets(ctx)
    await load_actions(ctx)
    return logins


async def load_nets(ctx: ServiceContext) -> int:
    """The demo nets with their members and a few messages, created by their owners through
    the services (membership is vetted as for anyone); returns how many were created."""
    created = 0
    for record in _read("nets.json")["nets"]:
        owner = await _person(ctx, record["owner"])
        with contextlib.suppress(NotFound):
            await nets.find_net(ctx, owner, record["name"])
            continue  # loaded before
        ceiling = parse_marking(record["ceiling"], ctx.registry)
        net = await nets.create_net(
            ctx,
            owner,
            name=record["name"],
            purpose=record["purpose"],
            ceiling=ceiling,
            entry=parse_marking(record["entry"], ctx.registry) if "entry" in record else None,
            default_label=parse_marking(record["default_label"], ctx.registry)
            if "default_label" in record
            else None,
        )
        for username, role in record["members"]:
            member = await _person(ctx, username)
            await nets.add_member(ctx, owner, net.id, member.subject.id, NetRole(role))
        for username, text, marking in record["messages"]:
            label = parse_marking(marking, ctx.registry) if marking else None
            await messages.post_message(
                ctx, await _person(ctx, username), net.id, text, label=label
            )
        created += 1
    return created


async def _person(ctx: ServiceContext, username: str) -> Actor:
    return person_actor(await identity.find_person(ctx, username), "demo")


async def load_picture(ctx: ServiceContext, actor: Actor) -> int:
    """Demo feeds and tracks: units at their home bases' public coordinates (idempotent)."""
    picture: dict[str, Any] = _read("picture.json")
    bases = {b["id"]: b for b in seed()["bases"]}
    units = {u["name"]: u for u in seed()["units_assets"]}
    feed_ids: list[str] = []
    for spec in picture["feeds"]:
        try:
            feed = await tracks.find_feed(ctx, spec["name"])
        except NotFound:
            feed = await tracks.create_feed(
                ctx,
                actor,
                name=spec["name"],
                description=spec["description"],
                ceiling=parse_marking(spec["ceiling"], ctx.registry),
                default_label=parse_marking(spec["default_label"], ctx.registry),
            )
        feed_ids.append(feed.id)
    now = ctx.clock()
    for spec in picture["tracks"]:
        base = bases[spec["base"]]
        unit = units[spec["unit"]]
        sources = sorted({*unit["source"], base["coord_source"]})
        await tracks.report_track(
            ctx,
            actor,
            feed_ids[spec["feed"]],
            TrackReport(
                uid=spec["uid"],
                type=spec["type"],
                callsign=spec["callsign"],
                position=Position(base["lat"], base["lon"], now),
                # Home-base positions do not move: they stay on the picture for a month.
                start=now,
                stale=now + timedelta(days=30),
                label=parse_marking(spec["label"], ctx.registry),
                remarks=f"{unit['type']} — at {base['name']} (approximate). Sources: "
                + ", ".join(sources),
                how="h-g-i-g-o",
            ),
        )
    return len(picture["tracks"])


def _depth_key(records: list[dict[str, Any]]) -> Any:
    parents = {r["id"]: r.get("parent_id") for r in records}

    def depth(org_id: str) -> tuple[int, str]:
        level, current = 0, parents.get(org_id)
        while current is not None and level < 20:
            level, current = level + 1, parents.get(current)
        return (level, org_id)

    return lambda record: depth(record["id"])
