"""The unit of work: effects and process-wide caches only after commit; checks and writes that
belong together in one transaction."""

from __future__ import annotations

import asyncio

import pytest

from kyodo.bus.events import Event, MembershipChanged
from kyodo.errors import KyodoError
from kyodo.labels import parse_marking
from kyodo.services import nets
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_org, add_person


async def test_a_label_id_from_a_rolled_back_transaction_never_names_another_label(
    ctx: ServiceContext, operator: Actor
) -> None:
    noforn = parse_marking("SECRET//NOFORN", ctx.registry)
    other = parse_marking("CONFIDENTIAL//REL TO USA, AUS", ctx.registry)
    with pytest.raises(RuntimeError):
        async with ctx.db.transaction() as tx:
            await tx.messages.store_labels([noforn])
            raise RuntimeError("the batch failed after storing its new label")
    async with ctx.db.transaction() as tx:
        await tx.messages.store_labels([other])  # on SQLite, reused the rolled-back rowid
    await add_org(ctx, operator, "usonly", marking="SECRET//NOFORN")
    await add_org(ctx, operator, "aus", marking="CONFIDENTIAL//REL TO USA, AUS")
    async with ctx.db.transaction(write=False) as tx:
        assert (await tx.orgs.get("usonly")).label == noforn
        assert (await tx.orgs.get("aus")).label == other


async def test_effects_run_after_commit_and_never_after_a_rollback(ctx: ServiceContext) -> None:
    seen: list[Event] = []
    ran: list[str] = []
    ctx.bus.subscribe(seen.append)
    event = MembershipChanged("n", "p", joined=True)
    with pytest.raises(RuntimeError):
        async with ctx.db.transaction() as tx:
            tx.publish(event)
            tx.after_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("abandoned")
    assert seen == [] and ran == []
    async with ctx.db.transaction() as tx:
        tx.publish(event)
        tx.after_commit(lambda: ran.append("committed"))
        assert seen == [] and ran == []  # not before the commit
    assert seen == [event] and ran == ["committed"]


async def test_an_entry_label_raised_while_a_member_is_added_never_leaves_them_in(
    ctx: ServiceContext, operator: Actor
) -> None:
    owner = await add_person(ctx, operator, "owner", clearance="TOP SECRET")
    journalist = await add_person(ctx, operator, "journalist", clearance="UNCLASSIFIED")
    owner_actor = person_actor(owner, "api")
    unclassified = parse_marking("UNCLASSIFIED", ctx.registry)
    secret = parse_marking("SECRET", ctx.registry)
    for attempt in range(12):
        net = await nets.create_net(
            ctx,
            owner_actor,
            name=f"race {attempt}",
            ceiling=secret,
            entry=unclassified,
            default_label=unclassified,
        )
        results = await asyncio.gather(
            nets.update_net(ctx, owner_actor, net.id, entry=secret),
            nets.add_member(ctx, owner_actor, net.id, journalist.id),
            return_exceptions=True,
        )
        assert all(
            r is None or not isinstance(r, Exception) or isinstance(r, KyodoError) for r in results
        )
        after = await nets.get_net(ctx, owner_actor, net.id)
        members = {m.person_id for m in await nets.list_members(ctx, owner_actor, net.id)}
        if journalist.id in members:
            assert after.entry == unclassified, (
                f"attempt {attempt}: journalist in a SECRET-entry net"
            )
