"""Group commit: concurrent posts share transactions, keep one audit chain and their own revs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from kyodo.audit.chain import AuditRecord
from kyodo.errors import InvalidInput, NotFound
from kyodo.labels import parse_marking
from kyodo.services import audit, messages, nets
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.services.group_commit import GroupCommit

from tests.support.factories import add_person


async def test_a_failing_item_fails_alone_and_the_rest_are_written() -> None:
    written: list[list[int]] = []

    async def write(batch: Sequence[int]) -> list[int]:
        if 13 in batch:
            raise InvalidInput("13 is refused")
        written.append(list(batch))
        return [n * 2 for n in batch]

    commits = GroupCommit(max_batch=8)
    results = await asyncio.gather(
        *(commits.submit("numbers", write, n) for n in range(20)), return_exceptions=True
    )
    assert results[13].__class__ is InvalidInput
    assert [r for i, r in enumerate(results) if i != 13] == [n * 2 for n in range(20) if n != 13]
    assert sorted(n for batch in written for n in batch) == [n for n in range(20) if n != 13]
    # Everything that queued while the first item was written went in batches, not one by one.
    assert any(len(batch) > 1 for batch in written)


async def test_the_queue_runs_again_after_it_drained() -> None:
    async def write(batch: Sequence[str]) -> list[str]:
        return [s.upper() for s in batch]

    commits = GroupCommit()
    assert await commits.submit("s", write, "a") == "A"
    assert await commits.submit("s", write, "b") == "B"
    assert commits.batches == 2


async def test_cancelling_the_writer_fails_every_waiting_item_in_flight_or_queued() -> None:
    started = asyncio.Event()

    async def write(batch: Sequence[int]) -> list[int]:
        started.set()
        await asyncio.sleep(3600)  # a write that never finishes (a stuck database)
        return list(batch)

    commits = GroupCommit(max_batch=2)
    futures = [commits.enqueue("stuck", write, n) for n in range(5)]
    await started.wait()
    runner = commits._queues["stuck"].runner
    assert runner is not None
    runner.cancel()
    results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 5)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    await commits.flush()  # returns: nothing is left running


async def test_cancelling_during_one_by_one_retries_fails_the_rest_too() -> None:
    retrying = asyncio.Event()

    async def write(batch: Sequence[int]) -> list[int]:
        if len(batch) > 1:
            raise InvalidInput("the batch fails; each item is tried alone")
        retrying.set()
        await asyncio.sleep(3600)
        return list(batch)

    commits = GroupCommit()
    futures = [commits.enqueue("retry", write, n) for n in range(4)]  # one batch of four
    await retrying.wait()  # it failed; the first item is being written alone
    runner = commits._queues["retry"].runner
    assert runner is not None
    runner.cancel()
    results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 5)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)


async def _net_with_members(ctx: ServiceContext, operator: Actor) -> tuple[str, list[Actor]]:
    people = [await add_person(ctx, operator, f"poster{i}", clearance="SECRET") for i in range(4)]
    actors = [person_actor(p, "api") for p in people]
    net = await nets.create_net(
        ctx, actors[0], name="group commit", ceiling=parse_marking("SECRET", ctx.registry)
    )
    for person in people[1:]:
        await nets.add_member(ctx, actors[0], net.id, person.id)
    return net.id, actors


async def test_concurrent_posts_are_stored_with_revs_equal_to_their_audit_records(
    ctx: ServiceContext, operator: Actor
) -> None:
    net_id, actors = await _net_with_members(ctx, operator)
    seen: list[int] = []
    ctx.bus.subscribe(lambda event: seen.append(getattr(event, "rev", -1)))
    before = ctx.group_commit.batches
    posted = await asyncio.gather(
        *(
            messages.post_message(ctx, actors[i % 4], net_id, f"status report number {i}")
            for i in range(40)
        )
    )
    assert ctx.group_commit.batches - before < 40  # shared transactions
    revs = [p.message.rev for p in posted]
    assert len(set(revs)) == 40
    assert seen == sorted(seen)  # published in commit order: a resuming client misses nothing
    records = {r.seq: r async for r in _audit_records(ctx) if r.entry.action == "message.post"}
    for p in posted:
        record = records[p.message.rev]
        assert record.entry.object_id == str(p.message.seq)
        assert record.entry.actor == next(
            a.audit_name for a in actors if a.subject.id == p.message.author_id
        )
    report = await audit.verify_audit(ctx, operator)
    assert report.ok, report
    page = await messages.list_messages(ctx, actors[0], net_id, limit=100)
    assert sorted(m.message.text for m in page) == sorted(
        f"status report number {i}" for i in range(40)
    )


async def _audit_records(ctx: ServiceContext) -> AsyncIterator[AuditRecord]:
    async with ctx.db.transaction(write=False) as tx:
        async for record in tx.audit.walk():
            yield record


async def test_a_removed_member_cannot_post_even_though_membership_is_cached(
    ctx: ServiceContext, operator: Actor
) -> None:
    net_id, actors = await _net_with_members(ctx, operator)
    await messages.post_message(ctx, actors[1], net_id, "first, while a member")  # cached now
    await nets.remove_member(ctx, actors[0], net_id, actors[1].subject.id)
    with pytest.raises(NotFound):  # not a member: the net is not even shown
        await messages.post_message(ctx, actors[1], net_id, "after removal")
