"""Nets themselves: created, and changed (labels, purpose, retention) by owners and admins."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from kyodo.domain.nets import Member, Net, NetRole
from kyodo.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from kyodo.labels import render_marking
from kyodo.policy import Action, Resource
from kyodo.policy import nets as net_rules
from kyodo.services.access import audit_entry, require
from kyodo.services.nets.access import net_for, net_rule, require_manager
from kyodo.services.nets.members import membership_decision

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

_NAME = re.compile(r"^[\w][\w .\-/()]{0,99}$")


async def create_net(
    ctx: ServiceContext,
    actor: Actor,
    *,
    name: str,
    ceiling: Label,
    entry: Label | None = None,
    default_label: Label | None = None,
    purpose: str = "",
    org_id: str | None = None,
    retention_days: int | None = None,
    label: Label | None = None,
) -> Net:
    """A new net; the creator must be able to read its ceiling and becomes its owner. `label`
    labels its name, purpose and member list, if lower than its entry label."""
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput("a net name is 1-100 letters, digits, spaces or . - / ( )")
    entry = entry or ceiling
    default_label = default_label or entry
    if not ceiling.dominates(entry):
        raise InvalidInput("the entry label must be dominated by the ceiling")
    if not ceiling.dominates(default_label):
        raise InvalidInput("the default message label must be dominated by the ceiling")
    if label is not None and not entry.dominates(label):
        raise InvalidInput("the net's own label must be dominated by its entry label")
    retention = ctx.retention_floor_days if retention_days is None else retention_days
    if retention < ctx.retention_floor_days:
        raise InvalidInput(
            f"retention must be at least {ctx.retention_floor_days} days (the configured floor)"
        )
    await require(
        ctx,
        actor,
        Action.READ,
        Resource(ceiling),
        audit_action="net.create",
        object_type="net",
        object_id=name,
    )
    net = Net(
        id=uuid.uuid4().hex,
        name=name,
        purpose=purpose,
        org_id=org_id,
        ceiling=ceiling,
        entry=entry,
        default_label=default_label,
        retention_days=retention,
        created_at=ctx.clock(),
        label=label,
    )
    if actor.person is None:
        raise PermissionDenied("nets are created by people (the owner must be a member)")
    async with ctx.db.transaction() as tx:
        if org_id is not None:
            try:
                await tx.orgs.get(org_id)
            except NotFound:
                raise InvalidInput(f"organisation {org_id!r} does not exist") from None
        await tx.nets.add(net)
        await tx.nets.add_member(Member(net.id, actor.person.id, NetRole.OWNER, ctx.clock()))
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "net.create",
                "net",
                net.id,
                ceiling,
                name=name,
                entry=render_marking(entry, ctx.registry),
                retention_days=retention,
                owner_id=actor.person.id,
            )
        )
    return net


async def update_net(
    ctx: ServiceContext,
    actor: Actor,
    net_id: str,
    *,
    ceiling: Label | None = None,
    entry: Label | None = None,
    default_label: Label | None = None,
    purpose: str | None = None,
    retention_days: int | None = None,
    label: Label | None = None,
) -> Net:
    """Owners and admins change a net. The ceiling may be lowered only if no message is above
    it; the entry label raised only if every member still qualifies."""
    net, member = await net_for(ctx, actor, net_id)
    await require_manager(ctx, actor, net, member, "net.update")
    if label is not None:
        # The label of the net's name and members is raised by an update, never lowered.
        await net_rule(
            ctx, actor, net_rules.may_relabel_by_edit(net.meta_label, label), net, "net.update"
        )
    after = replace(
        net,
        ceiling=ceiling or net.ceiling,
        entry=entry or net.entry,
        default_label=default_label or net.default_label,
        purpose=net.purpose if purpose is None else purpose,
        retention_days=net.retention_days if retention_days is None else retention_days,
        version=net.version + 1,
        label=label or net.label,
    )
    if after.retention_days < ctx.retention_floor_days:
        raise InvalidInput(f"retention must be at least {ctx.retention_floor_days} days")
    if not after.ceiling.dominates(after.entry) or not after.ceiling.dominates(after.default_label):
        raise InvalidInput("the entry and default labels must be dominated by the ceiling")
    if not after.entry.dominates(after.meta_label):
        raise InvalidInput("the net's own label must be dominated by its entry label")
    await require(
        ctx,
        actor,
        Action.READ,
        Resource(after.ceiling),
        audit_action="net.update",
        object_type="net",
        object_id=net_id,
    )
    async with ctx.db.transaction() as tx:
        current = await tx.nets.get(net_id, lock=True)  # members are added under this lock
        if current.version != net.version:
            raise Conflict(f"{net.name} was changed meanwhile: read it again and retry")
        above = await tx.messages.count_above(net_id, after.ceiling)
        if above:
            raise Conflict(f"{above} message(s) in {net.name} are above the new ceiling")
        roster = await tx.nets.members(net_id)
        people = await tx.people.get_many([m.person_id for m in roster])
        for m in roster:
            person = people[m.person_id]
            allowed, reasons = membership_decision(person, after)
            if not allowed:
                raise Conflict(f"member {person.username} would not qualify: {'; '.join(reasons)}")
        await tx.nets.update(after)
        changes = {
            key: [
                render_marking(getattr(net, key), ctx.registry),
                render_marking(getattr(after, key), ctx.registry),
            ]
            for key in ("ceiling", "entry", "default_label", "meta_label")
            if getattr(net, key) != getattr(after, key)
        }
        await tx.audit.append(
            audit_entry(ctx, actor, "net.update", "net", net_id, after.ceiling, changes=changes)
        )
        tx.after_commit(partial(ctx.reads.forget_net, net_id))
    return after
