"""Loads the demo coordination actions through the services, walked to where the demo shows
them (a facility request in Japanese staffing, an RFI with its LTIOV, a tasker held by a
non-concurrence, a bilateral approval half signed)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from kyodo.domain.actions import ActionKind, CommentType, ConcurAnswer, Priority
from kyodo.errors import NotFound
from kyodo.labels import parse_marking
from kyodo.services import actions, identity, nets
from kyodo.services.actor import person_actor

if TYPE_CHECKING:
    from datetime import datetime

    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

_RELATIVE = re.compile(r"@([+-]\d+)d")


def _dated(value: Any, now: datetime) -> Any:
    """'@+3d' becomes the ISO date-time three days from now (at the hour)."""
    if not isinstance(value, str):
        return value
    base = now.replace(minute=0, second=0, microsecond=0)
    return _RELATIVE.sub(
        lambda m: (base + timedelta(days=int(m.group(1)))).strftime("%Y-%m-%dT%H:%MZ"), value
    )


async def _person(ctx: ServiceContext, username: str) -> Actor:
    return person_actor(await identity.find_person(ctx, username), "demo")


async def load_actions(ctx: ServiceContext) -> int:
    """The demo actions, unless any action exists; returns how many were created."""
    async with ctx.db.transaction(write=False) as tx:
        if await tx.actions.list(None):
            return 0
    specs = json.loads(
        resources.files("kyodo.demo").joinpath("actions.json").read_text(encoding="utf-8")
    )["actions"]
    now = ctx.clock()
    for spec in specs:
        creator = await _person(ctx, spec["creator"])
        net_id = None
        if "net" in spec:
            try:
                net_id = (await nets.find_net(ctx, creator, spec["net"])).id
            except NotFound:
                net_id = None
        fields = {
            name: (
                _dated(value, now),
                None if marking is None else parse_marking(marking, ctx.registry),
            )
            for name, (value, marking) in spec["fields"].items()
        }
        made = await actions.create_action(
            ctx,
            creator,
            actions.NewAction(
                kind=ActionKind(spec["kind"]),
                label=parse_marking(spec["label"], ctx.registry),
                owner_org=spec["owner_org"],
                opr_org=spec.get("opr_org"),
                ocr_orgs=tuple(spec.get("ocr_orgs", ())),
                bilateral=spec.get("bilateral", False),
                priority=Priority(spec.get("priority", "routine")),
                owning_net_id=net_id,
                fields=fields,
            ),
        )
        for username, step in spec.get("walk", ()):
            await actions.transition(ctx, await _person(ctx, username), made.id, step)
        if "non_concur" in spec:
            nc = spec["non_concur"]
            office = await _person(ctx, nc["by"])
            comment = await actions.add_comment(
                ctx,
                office,
                made.id,
                type=CommentType.CRITICAL,
                location=nc["location"],
                text=nc["text"],
                rationale=nc["rationale"],
            )
            await actions.concur(ctx, office, made.id, ConcurAnswer.NON_CONCUR, comment.id)
        for username in spec.get("signed_by", ()):
            await actions.sign(ctx, await _person(ctx, username), made.id)
    return len(specs)
