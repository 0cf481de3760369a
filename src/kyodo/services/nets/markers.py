"""Read markers: the last message a member has seen in a net, kept for every device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.errors import InvalidInput, NotFound, PermissionDenied
from kyodo.policy import nets as net_rules
from kyodo.services.nets.access import net_for, net_rule, net_view

if TYPE_CHECKING:
    from kyodo.domain.nets import Member, Net
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext


async def mark_read(ctx: ServiceContext, actor: Actor, net_id: str, seq: int) -> int:
    """Move the actor's read marker in a net forward to `seq` (at most the newest message of
    the net they may read); the marker, kept with the membership, gives the unread counts on
    every device the person uses."""
    if seq < 0:
        raise InvalidInput("seq must be 0 or more")
    await _member_for_marker(ctx, actor, net_id, cached=True)
    async with ctx.db.transaction() as tx:
        marker = await tx.nets.mark_read(net_id, actor.subject.id, seq, actor.subject)
    if marker is None:  # removed from the net since the cached look-up
        await _member_for_marker(ctx, actor, net_id, cached=False)
        raise NotFound(f"no net {net_id!r}")  # pragma: no cover - the line above raises
    return marker


async def read_marker(ctx: ServiceContext, actor: Actor, net_id: str) -> int:
    """The seq of the last message the actor has seen in a net of theirs."""
    _, member = await _member_for_marker(ctx, actor, net_id, cached=False)
    return member.last_read


async def _member_for_marker(
    ctx: ServiceContext, actor: Actor, net_id: str, *, cached: bool
) -> tuple[Net, Member]:
    net, member = await net_for(ctx, actor, net_id, cached=cached)
    view = net_view(net, member)
    await net_rule(
        ctx, actor, net_rules.may_keep_marker(actor.subject, view), net, "net.read_marker"
    )
    if member is None:  # the rule allows members only
        raise PermissionDenied("only members keep a read marker in a net")
    return net, member


async def read_markers(ctx: ServiceContext, actor: Actor) -> dict[str, int]:
    """The seq of the last message the actor has seen, per net they belong to."""
    async with ctx.db.transaction(write=False) as tx:
        return {m.net_id: m.last_read for m in await tx.nets.memberships(actor.subject.id)}
