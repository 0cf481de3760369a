"""The ReceiptStore contract (services/ports.py), on each back-end: a GeoChat messageId names the
first message it was given to, and each (message, person, kind) keeps its first receipt."""

from __future__ import annotations

from datetime import timedelta

from kyodo.domain.receipts import Receipt
from kyodo.services.context import ServiceContext

from tests.store.contract import NOW, person
from tests.store.test_message_store import draft
from tests.store.test_net_store import net


async def _messages(ctx: ServiceContext, author: str, count: int) -> list[int]:
    async with ctx.db.transaction() as tx:
        await tx.nets.add(net(ctx, "n-rcpt", "receipts", "TOP SECRET//NOFORN"))
    async with ctx.db.transaction() as tx:
        await tx.nets.get("n-rcpt")  # PostgreSQL: add_many is not the first statement
        made = await tx.messages.add_many([draft(ctx, author, n, "n-rcpt") for n in range(count)])
    return [m.seq for m in made]


async def test_a_ref_names_the_first_message_it_was_given_to(ctx: ServiceContext) -> None:
    author = await person(ctx, "receipts.author")
    one, two = await _messages(ctx, author.id, 2)
    async with ctx.db.transaction() as tx:
        await tx.receipts.add_ref("f77dae64-3573-4dae-8447-c0c7a0219d7a", one)
        await tx.receipts.add_ref("f77dae64-3573-4dae-8447-c0c7a0219d7a", two)  # resent
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.receipts.message_for_ref("f77dae64-3573-4dae-8447-c0c7a0219d7a") == one
        assert await tx.receipts.message_for_ref("unknown") is None


async def test_each_kind_keeps_the_first_receipt_per_person_in_time_order(
    ctx: ServiceContext,
) -> None:
    author = await person(ctx, "receipts.writer")
    reader = await person(ctx, "receipts.reader")
    seq, other = await _messages(ctx, author.id, 2)
    read = Receipt(seq, reader.id, "read", NOW + timedelta(minutes=2))
    delivered = Receipt(seq, reader.id, "delivered", NOW + timedelta(minutes=1))
    own = Receipt(seq, author.id, "delivered", NOW + timedelta(minutes=3))
    async with ctx.db.transaction() as tx:
        assert await tx.receipts.record(read)
        assert await tx.receipts.record(delivered)
        assert await tx.receipts.record(own)
        # Another device of the same person, later: nothing new.
        later = Receipt(seq, reader.id, "read", NOW + timedelta(minutes=9))
        assert not await tx.receipts.record(later)
        await tx.receipts.record(Receipt(other, reader.id, "read", NOW))
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.receipts.list(seq) == [delivered, read, own]
        assert await tx.receipts.list(other + 1000) == []
