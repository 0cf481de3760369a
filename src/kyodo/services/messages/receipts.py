"""Chat receipts: a TAK client's delivered and read receipts recorded against the message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.domain.receipts import RECEIPT_KINDS, Receipt, ReceiptKind
from kyodo.errors import InvalidInput
from kyodo.services.messages.reads import member_message_for
from kyodo.services.messages.writes import KYODO_REF

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from kyodo.domain.identity import Person
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

# A message posted in Kyodo goes to TAK clients with the GeoChat messageId `kyodo-<seq>`
# (KYODO_REF); their receipts name it so. A TAK client's own messageIds are kept in `chat_refs`
# (never in this form: a client cannot make its message answer for another's receipts).


def chat_ref(seq: int) -> str:
    """The GeoChat messageId a message posted in Kyodo carries to TAK clients."""
    return f"{KYODO_REF}{seq}"


def own_ref(ref: str) -> bool:
    """Whether a messageId is of Kyodo's form (never recorded for a client's message)."""
    return ref.startswith(KYODO_REF)


async def message_seq_for(ctx: ServiceContext, ref: str) -> int | None:
    """The message a GeoChat messageId names, or None if it names none Kyodo keeps."""
    if own_ref(ref):
        number = ref.removeprefix(KYODO_REF)
        # Sequence numbers are 32-bit in PostgreSQL: a larger one names nothing.
        seq = int(number) if number.isascii() and number.isdigit() and len(number) < 11 else 0
        return seq if 0 < seq < 2**31 else None
    async with ctx.db.transaction(write=False) as tx:
        return await tx.receipts.message_for_ref(ref)


async def record_receipt(
    ctx: ServiceContext, actor: Actor, ref: str, kind: ReceiptKind, at: datetime
) -> Receipt | None:
    """Record that the actor's person was delivered, or read, the message GeoChat messageId
    `ref` names: only a person who may read it (else refused, audited, as a missing message).
    None if `ref` names no message Kyodo keeps, or the actor is no person (nothing to record)."""
    if kind not in RECEIPT_KINDS:
        raise InvalidInput(f"no receipt kind {kind!r}")
    person = actor.person
    seq = await message_seq_for(ctx, ref)
    if seq is None or person is None:
        return None
    await member_message_for(ctx, actor, seq, "message.receipt")
    receipt = Receipt(seq, person.id, kind, at)
    async with ctx.db.transaction() as tx:
        await tx.receipts.record(receipt)
    return receipt


async def message_receipts(
    ctx: ServiceContext, actor: Actor, seq: int
) -> Sequence[tuple[Receipt, Person]]:
    """A message's receipts, for one who may read the message, from the people whose records
    they may read (a receipt says its reader is a member: it is no more shown than the person)."""
    await member_message_for(ctx, actor, seq, "message.receipts")
    async with ctx.db.transaction(write=False) as tx:
        receipts = await tx.receipts.list(seq)
        people = await tx.people.get_many({r.person_id for r in receipts})
    can_read = ctx.decisions.can_read
    return [
        (r, p)
        for r in receipts
        if (p := people.get(r.person_id)) is not None and can_read(actor.subject, p.label)
    ]
