"""SQL store for chat receipts and the GeoChat ids of messages posted from TAK clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import select

from kyodo.domain.receipts import Receipt, ReceiptKind
from kyodo.store.sql.tables import chat_receipts, chat_refs
from kyodo.store.sql.times import required

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncConnection

    from kyodo.store.sql.dialects.base import Dialect


class SqlReceiptStore:
    """Rows of `chat_receipts` (one per message, person and kind: the first) and `chat_refs`."""

    def __init__(self, conn: AsyncConnection, dialect: Dialect) -> None:
        self._conn = conn
        self._dialect = dialect

    async def add_ref(self, ref: str, message_seq: int) -> None:
        # A messageId sent twice (a client resending) keeps naming the first message.
        values = {"ref": ref, "message_seq": message_seq}
        await self._conn.execute(self._dialect.insert_if_new(chat_refs, values, "ref"))

    async def message_for_ref(self, ref: str) -> int | None:
        query = select(chat_refs.c.message_seq).where(chat_refs.c.ref == ref)
        return cast("int | None", (await self._conn.execute(query)).scalar())

    async def record(self, receipt: Receipt) -> bool:
        values = {
            "message_seq": receipt.message_seq,
            "person_id": receipt.person_id,
            "kind": receipt.kind,
            "at": receipt.at,
        }
        key = ("message_seq", "person_id", "kind")
        result = await self._conn.execute(self._dialect.insert_if_new(chat_receipts, values, key))
        return bool(getattr(result, "rowcount", 0))

    async def list(self, message_seq: int) -> Sequence[Receipt]:
        query = (
            select(chat_receipts)
            .where(chat_receipts.c.message_seq == message_seq)
            .order_by(chat_receipts.c.at, chat_receipts.c.person_id, chat_receipts.c.kind)
        )
        rows = (await self._conn.execute(query)).all()
        return [
            Receipt(
                message_seq=row.message_seq,
                person_id=row.person_id,
                kind=cast("ReceiptKind", row.kind),
                at=required(row.at),
            )
            for row in rows
        ]
