"""Who sees a net: the net and the caller's membership, read or cached, vetted by the policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.errors import NotFound
from kyodo.policy import nets as net_rules
from kyodo.policy.nets import NetView
from kyodo.services.access import enforce

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kyodo.domain.nets import Member, Net
    from kyodo.labels import Label
    from kyodo.policy import Decision
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext


def net_view(net: Net, member: Member | None) -> NetView:
    """The net as the net rules see it, with the subject's role in it."""
    role = None if member is None else member.role.value
    return NetView(net.name, net.entry, net.ceiling, role, net.meta_label)


async def net_for(
    ctx: ServiceContext,
    actor: Actor,
    net_id: str,
    *,
    cached: bool = False,
    audit_action: str = "net.read",
) -> tuple[Net, Member | None]:
    """The net and the actor's membership; NotFound — the same answer as for a net that does
    not exist — unless a member, or an overseer who reads the net's entry label.

    `cached` may answer from the read cache (hot read paths and posting); changes read fresh."""
    net, member = await _load_net(ctx, net_id, actor.subject.id, cached)
    decision = net_rules.may_see_net(actor.subject, net_view(net, member))
    await net_rule(ctx, actor, decision, net, audit_action, hide=True)
    return net, member


async def net_rule(
    ctx: ServiceContext,
    actor: Actor,
    decision: Decision,
    net: Net,
    audit_action: str,
    *,
    object_type: str = "net",
    object_id: str | None = None,
    label: Label | None = None,
    hide: bool = False,
    not_found: str | None = None,
) -> None:
    """Enforce a rule of `policy.nets` (refusals audited, with the net's entry label unless
    given another); `hide` answers exactly as for a net (or `not_found`'s object) that does
    not exist."""
    await enforce(
        ctx,
        actor,
        decision,
        audit_action=audit_action,
        object_type=object_type,
        object_id=net.id if object_id is None else object_id,
        label=net.entry if label is None else label,
        hide=hide,
        not_found=not_found or f"no net {net.id!r}",
    )


async def _load_net(
    ctx: ServiceContext, net_id: str, person_id: str, cached: bool
) -> tuple[Net, Member | None]:
    if cached:
        net = await ctx.reads.nets.fetch(net_id, lambda: _read_net(ctx, net_id))
        roster = await ctx.reads.rosters.fetch(net_id, lambda: _read_roster(ctx, net_id))
        return net, roster.get(person_id)
    # A change committed while this is read forgets the net: then it is not stored.
    nets_at = ctx.reads.nets.generation
    net = await _read_net(ctx, net_id)
    member = await _read_member(ctx, net_id, person_id)
    ctx.reads.nets.put(net_id, net, read_at=nets_at)
    return net, member


async def _read_net(ctx: ServiceContext, net_id: str) -> Net:
    async with ctx.db.transaction(write=False) as tx:
        try:
            return await tx.nets.get(net_id)
        except NotFound:
            raise NotFound(f"no net {net_id!r}") from None


async def _read_member(ctx: ServiceContext, net_id: str, person_id: str) -> Member | None:
    async with ctx.db.transaction(write=False) as tx:
        return await tx.nets.member(net_id, person_id)


async def _read_roster(ctx: ServiceContext, net_id: str) -> dict[str, Member]:
    async with ctx.db.transaction(write=False) as tx:
        return {m.person_id: m for m in await tx.nets.members(net_id)}


async def get_net(ctx: ServiceContext, actor: Actor, net_id: str) -> Net:
    """A net the actor belongs to (or administers)."""
    net, _ = await net_for(ctx, actor, net_id)
    return net


async def find_net(ctx: ServiceContext, actor: Actor, name_or_id: str) -> Net:
    """A net the actor may see, by its name or else its id; NotFound — the answer for a net
    that does not exist — otherwise."""
    async with ctx.db.transaction(write=False) as tx:
        try:
            net_id = (await tx.nets.get_by_name(name_or_id)).id
        except NotFound:
            net_id = name_or_id
    net, _ = await net_for(ctx, actor, net_id, cached=True)
    return net


async def list_my_nets(ctx: ServiceContext, actor: Actor) -> Sequence[Net]:
    """The nets the actor is a member of."""
    async with ctx.db.transaction(write=False) as tx:
        return await tx.nets.list_for(actor.subject.id)


async def require_manager(
    ctx: ServiceContext, actor: Actor, net: Net, member: Member | None, action: str
) -> None:
    await net_rule(
        ctx, actor, net_rules.may_manage(actor.subject, net_view(net, member)), net, action
    )


async def net_roster(ctx: ServiceContext, net_id: str) -> tuple[Net, Mapping[str, Member]]:
    """A net and its members by person id, for delivering what was posted in it (no actor: not
    a permission check). From the read cache: a change made through this process holds at
    once, one made elsewhere within the cache's lifetime."""
    net = await ctx.reads.nets.fetch(net_id, lambda: _read_net(ctx, net_id))
    roster = await ctx.reads.rosters.fetch(net_id, lambda: _read_roster(ctx, net_id))
    return net, roster
