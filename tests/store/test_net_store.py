"""The NetStore contract (services/ports.py), on each back-end: nets by id and name, members and
their roles, memberships, and the read marker that never moves back or past what one may read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from kyodo.domain.nets import Member, Message, Net, NetRole
from kyodo.errors import Conflict, NotFound
from kyodo.services.context import ServiceContext

from tests.store.contract import NOW, label, person, reader


def net(ctx: ServiceContext, net_id: str, name: str, ceiling: str = "SECRET//NOFORN") -> Net:
    return Net(
        id=net_id,
        name=name,
        purpose=f"the {name} net",
        org_id=None,
        ceiling=label(ctx, ceiling),
        entry=label(ctx, "UNCLASSIFIED"),
        default_label=label(ctx, "UNCLASSIFIED"),
        retention_days=30,
        created_at=NOW,
    )


async def test_a_net_reads_back_by_id_and_by_name_and_updates(ctx: ServiceContext) -> None:
    made = net(ctx, "n-harbor", "港 harbor", "TOP SECRET//SI//REL TO USA, JPN")
    async with ctx.db.transaction() as tx:
        await tx.nets.add(made)
    async with ctx.db.transaction() as tx:
        assert await tx.nets.get("n-harbor") == made
        assert await tx.nets.get("n-harbor", lock=True) == made
        assert await tx.nets.get_by_name("港 harbor") == made
        changed = replace(made, purpose="new purpose", version=2, label=label(ctx, "SECRET"))
        await tx.nets.update(changed)
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.nets.get("n-harbor") == changed


async def test_missing_and_duplicate(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        await tx.nets.add(net(ctx, "n-1", "one"))
    for clash in (net(ctx, "n-1", "another name"), net(ctx, "n-2", "one")):
        with pytest.raises(Conflict):  # ids and names are unique
            async with ctx.db.transaction() as tx:
                await tx.nets.add(clash)
    async with ctx.db.transaction() as tx:
        with pytest.raises(NotFound):
            await tx.nets.get("n-2")
        with pytest.raises(NotFound):
            await tx.nets.get_by_name("another name")
        with pytest.raises(NotFound):
            await tx.nets.update(net(ctx, "n-2", "two"))


async def test_members_roles_and_memberships(ctx: ServiceContext) -> None:
    ann, ben = await person(ctx, "nets.ann"), await person(ctx, "nets.ben")
    async with ctx.db.transaction() as tx:
        for net_id, name in (("n-z", "zulu"), ("n-a", "alpha"), ("n-m", "mike")):
            await tx.nets.add(net(ctx, net_id, name))
        await tx.nets.add_member(Member("n-z", ann.id, NetRole.OWNER, NOW))
        await tx.nets.add_member(Member("n-z", ben.id, NetRole.READ_ONLY, NOW + timedelta(1)))
        await tx.nets.add_member(Member("n-a", ann.id, NetRole.MEMBER, NOW))
    with pytest.raises(Conflict):
        async with ctx.db.transaction() as tx:
            await tx.nets.add_member(Member("n-z", ben.id, NetRole.MEMBER, NOW))
    async with ctx.db.transaction() as tx:
        assert [m.person_id for m in await tx.nets.members("n-z")] == [ann.id, ben.id]
        assert await tx.nets.member("n-z", ben.id) == Member(
            "n-z", ben.id, NetRole.READ_ONLY, NOW + timedelta(1), 0
        )
        assert await tx.nets.member("n-m", ben.id) is None
        assert [n.name for n in await tx.nets.list_for(ann.id)] == ["alpha", "zulu"]
        assert {m.net_id for m in await tx.nets.memberships(ann.id)} == {"n-a", "n-z"}
        names = [n.name for n in await tx.nets.list_all()]
        assert names == sorted(names) and {"alpha", "mike", "zulu"} <= set(names)
        assert await tx.nets.remove_member("n-z", ben.id) is True
        assert await tx.nets.remove_member("n-z", ben.id) is False
        assert await tx.nets.list_for(ben.id) == []


async def test_the_read_marker_moves_forward_only_up_to_the_newest_readable_message(
    ctx: ServiceContext,
) -> None:
    us = await person(ctx, "nets.reader", clearance="SECRET")
    async with ctx.db.transaction() as tx:
        await tx.nets.add(net(ctx, "n-read", "read"))
        await tx.nets.add_member(Member("n-read", us.id, NetRole.MEMBER, NOW))
        seqs = [
            (
                await tx.messages.add(
                    Message(0, "n-read", us.id, label(ctx, m), f"m{n}", f"<p>m{n}</p>", NOW)
                )
            ).seq
            for n, m in enumerate(["UNCLASSIFIED", "SECRET//NOFORN", "TOP SECRET//NOFORN"])
        ]
    secret = reader(ctx, clearance="SECRET")
    async with ctx.db.transaction() as tx:
        assert await tx.nets.mark_read("n-read", us.id, seqs[0], secret) == seqs[0]
        # Past the newest message it may read: held at that one (the TOP SECRET one is hidden).
        assert await tx.nets.mark_read("n-read", us.id, seqs[2] + 100, secret) == seqs[1]
        assert await tx.nets.mark_read("n-read", us.id, seqs[0], secret) == seqs[1]  # not back
        assert await tx.nets.mark_read("n-read", "not-a-member", seqs[1], secret) is None
        member = await tx.nets.member("n-read", us.id)
    assert member is not None and member.last_read == seqs[1]
