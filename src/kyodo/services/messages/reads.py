"""Reading messages: by seq, a net's (all or the latest), changes since a rev, search, versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.errors import InvalidInput, NotFound
from kyodo.policy import Action, Resource
from kyodo.policy import nets as net_rules
from kyodo.services.access import require
from kyodo.services.nets.access import net_for, net_rule, net_view

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from kyodo.domain.nets import Member, Message, MessageVersion, Net
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class AuthoredMessage:
    """A message and its author's username (their id if their record is gone), what every
    transport shows with it."""

    message: Message
    author: str


async def author_name(tx: UnitOfWork, person_id: str) -> str:
    """The username of a message's author, or their id if their record is gone."""
    return (await author_names(tx, [person_id]))[person_id]


async def author_names(tx: UnitOfWork, person_ids: Iterable[str]) -> dict[str, str]:
    """The usernames of these authors in one read (the id of one whose record is gone)."""
    wanted = set(person_ids)
    found = await tx.people.get_many(wanted)
    return {i: found[i].username if i in found else i for i in wanted}


async def with_authors(tx: UnitOfWork, found: Sequence[Message]) -> list[AuthoredMessage]:
    """The messages with their authors' usernames, read in one query for the whole page."""
    names = await author_names(tx, (m.author_id for m in found))
    return [AuthoredMessage(m, names[m.author_id]) for m in found]


async def authored(ctx: ServiceContext, message: Message) -> AuthoredMessage:
    """A message the caller has already read, with its author's username looked up."""
    async with ctx.db.transaction(write=False) as tx:
        return AuthoredMessage(message, await author_name(tx, message.author_id))


async def message_for(
    ctx: ServiceContext, actor: Actor, seq: int, *, audit_action: str | None = None
) -> tuple[Message, Net, Member | None]:
    """A message the actor may read, its net and the actor's membership; the answer for a
    message in a net the actor may not see, or above what they read, is the answer for a
    message that does not exist. Refusals are audited as `audit_action` if given, else as
    reading the net or the message."""
    absent = f"no message {seq}"
    async with ctx.db.transaction(write=False) as tx:
        try:
            message = await tx.messages.get(seq)
        except NotFound:
            raise NotFound(absent) from None
    try:
        net, member = await net_for(
            ctx, actor, message.net_id, audit_action=audit_action or "net.read"
        )
    except NotFound:
        raise NotFound(absent) from None
    await require(
        ctx,
        actor,
        Action.READ,
        Resource(message.label),
        audit_action=audit_action or "message.read",
        object_type="message",
        object_id=str(seq),
        hide=True,
        not_found=absent,
    )
    return message, net, member


async def member_message_for(
    ctx: ServiceContext, actor: Actor, seq: int, audit_action: str | None = None
) -> tuple[Message, Net, Member | None]:
    """As `message_for`, for members only (like the net's list): an overseer who may see the
    net but not its messages gets the answer for a message that does not exist."""
    message, net, member = await message_for(ctx, actor, seq, audit_action=audit_action)
    await net_rule(
        ctx,
        actor,
        net_rules.may_read_messages(actor.subject, net_view(net, member)),
        net,
        audit_action or "message.read",
        object_type="message",
        object_id=str(seq),
        label=message.label,
        hide=True,
        not_found=f"no message {seq}",
    )
    return message, net, member


async def get_message(ctx: ServiceContext, actor: Actor, seq: int) -> AuthoredMessage:
    """One message the actor may read (members only, like the net's list)."""
    message, _, _ = await member_message_for(ctx, actor, seq)
    return await authored(ctx, message)


async def _readable_net(ctx: ServiceContext, actor: Actor, net_id: str) -> None:
    """The net's messages are the actor's to read (a member), or the answer of a missing net."""
    net, member = await net_for(ctx, actor, net_id)
    decision = net_rules.may_read_messages(actor.subject, net_view(net, member))
    await net_rule(ctx, actor, decision, net, "net.read", hide=True)


async def list_messages(
    ctx: ServiceContext, actor: Actor, net_id: str, *, after: int | None = None, limit: int = 100
) -> Sequence[AuthoredMessage]:
    """The net's messages the actor may read, oldest first, after seq `after`."""
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500")
    await _readable_net(ctx, actor, net_id)
    async with ctx.db.transaction(write=False) as tx:
        return await with_authors(tx, await tx.messages.list([net_id], actor.subject, after, limit))


async def latest_messages(
    ctx: ServiceContext, actor: Actor, net_id: str, limit: int
) -> Sequence[AuthoredMessage]:
    """The newest `limit` of the net's messages the actor may read, oldest first (a chat view
    opens on them; what lies before is read with `list_messages`)."""
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500")
    await _readable_net(ctx, actor, net_id)
    async with ctx.db.transaction(write=False) as tx:
        return await with_authors(tx, await tx.messages.latest(net_id, actor.subject, limit))


async def changes_since(
    ctx: ServiceContext, actor: Actor, net_ids: Sequence[str], after_rev: int, limit: int = 1000
) -> Sequence[AuthoredMessage]:
    """What changed in these nets after `after_rev` that the actor may read (stream replay)."""
    async with ctx.db.transaction(write=False) as tx:
        return await with_authors(
            tx, await tx.messages.changes(net_ids, actor.subject, after_rev, limit)
        )


async def message_versions(ctx: ServiceContext, actor: Actor, seq: int) -> Sequence[MessageVersion]:
    """Every version of a message: its author and records officers."""
    message, net, _ = await message_for(ctx, actor, seq)
    await net_rule(
        ctx,
        actor,
        net_rules.may_read_versions(actor.subject, message.author_id),
        net,
        "message.versions",
        object_type="message",
        object_id=str(seq),
        label=message.label,
    )
    async with ctx.db.transaction(write=False) as tx:
        return [
            v
            for v in await tx.messages.versions(seq)
            if ctx.decisions.can_read(actor.subject, v.label)
        ]


async def search_messages(
    ctx: ServiceContext, actor: Actor, query: str, *, net_id: str | None = None, limit: int = 50
) -> Sequence[AuthoredMessage]:
    """Search the actor's nets; only messages the actor may read are returned."""
    query = query.strip()
    if not query or len(query) > 200:
        raise InvalidInput("a search needs 1-200 characters")
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200")
    if net_id is not None:
        await net_for(ctx, actor, net_id)  # audited, and the answer of a missing net
    async with ctx.db.transaction(write=False) as tx:
        mine = [n.id for n in await tx.nets.list_for(actor.subject.id)]
        if net_id is not None and net_id not in mine:
            mine = []
        elif net_id is not None:
            mine = [net_id]
        if not mine:
            return []
        return await with_authors(tx, await tx.messages.search(mine, actor.subject, query, limit))
