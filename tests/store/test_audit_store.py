"""The AuditStore contract (services/ports.py), on each back-end: one hash chain however records
are appended, its head, the filtered and paged list, and the walk."""

from __future__ import annotations

import itertools

from kyodo.audit.chain import GENESIS_HASH, AuditEntry
from kyodo.services.context import ServiceContext
from kyodo.services.ports import AuditQuery


def _entry(n: int, actor: str = "auditor", action: str = "org.create") -> AuditEntry:
    return AuditEntry(actor, action, "org", f"o{n}", details={"n": n, "name": f"組織 {n}"})


async def test_an_empty_log_has_the_genesis_head(ctx: ServiceContext) -> None:
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.audit.head() == (0, GENESIS_HASH)
        assert [r async for r in tx.audit.walk()] == []


async def test_single_and_batched_appends_make_one_chain(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        assert await tx.audit.next_seq() == 1
        first = await tx.audit.append(_entry(1))
        assert first.seq == 1 and first.prev_hash == GENESIS_HASH
        assert await tx.audit.next_seq() == 2
        batch = await tx.audit.append_many([_entry(n) for n in range(2, 6)])
    async with ctx.db.transaction() as tx:
        last = await tx.audit.append(_entry(6))
    assert [r.seq for r in batch] == [2, 3, 4, 5] and last.seq == 6
    async with ctx.db.transaction(write=False) as tx:
        walked = [r async for r in tx.audit.walk()]
        assert await tx.audit.head() == (6, last.hash)
    assert [r.seq for r in walked] == [1, 2, 3, 4, 5, 6]
    assert [r.entry for r in walked] == [_entry(n) for n in range(1, 7)]
    assert walked[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(walked))
    assert [r.hash for r in walked] == [first.hash, *(r.hash for r in batch), last.hash]


async def test_list_filters_pages_after_a_seq_and_keeps_order(ctx: ServiceContext) -> None:
    actors = itertools.cycle(["ann", "ben", "cat"])
    actions = itertools.cycle(["auth.login", "net.create"])
    for n in range(1, 13):  # one transaction each: times of their own
        async with ctx.db.transaction() as tx:
            await tx.audit.append(_entry(n, next(actors), next(actions)))
    async with ctx.db.transaction(write=False) as tx:
        everything = await tx.audit.list(AuditQuery(), None, 100)
        assert [r.seq for r in everything] == list(range(1, 13))
        paged: list[int] = []
        after = None
        while page := await tx.audit.list(AuditQuery(), after, 5):
            assert len(page) <= 5
            paged += [r.seq for r in page]
            after = page[-1].seq
        assert paged == list(range(1, 13))
        by_ben = await tx.audit.list(AuditQuery(actor="ben"), None, 100)
        assert [r.seq for r in by_ben] == [2, 5, 8, 11]
        ben_logins = await tx.audit.list(AuditQuery(actor="ben", action="auth.login"), None, 100)
        assert [r.seq for r in ben_logins] == [5, 11]
        one = await tx.audit.list(AuditQuery(object_type="org", object_id="o7"), None, 100)
        assert [r.seq for r in one] == [7]
        assert await tx.audit.list(AuditQuery(actor="nobody"), None, 100) == []
        since, until = everything[3].time, everything[6].time
        window = await tx.audit.list(AuditQuery(since=since, until=until), None, 100)
        # `since` is inclusive, `until` exclusive (records of one instant may share a time).
        assert [r.seq for r in window] == [r.seq for r in everything if since <= r.time < until]
        assert window and window[0].seq == 4
