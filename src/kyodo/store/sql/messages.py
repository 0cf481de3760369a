"""SQL store for messages, their versions and message search."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, insert, select, update

from kyodo.domain.nets import Message, MessageVersion
from kyodo.errors import NotFound
from kyodo.store.sql.labels import readable_by
from kyodo.store.sql.tables import labels, message_versions, messages
from kyodo.store.sql.times import aware, required

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from datetime import datetime

    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncConnection

    from kyodo.labels import Label
    from kyodo.policy import Subject
    from kyodo.store.sql.dialects.base import Dialect
    from kyodo.store.sql.labels import TransactionLabels


class SqlMessageStore:
    """Rows of `messages`, `message_versions` and the search index."""

    def __init__(
        self, conn: AsyncConnection, label_rows: TransactionLabels, dialect: Dialect
    ) -> None:
        self._conn = conn
        self._labels = label_rows
        self._dialect = dialect

    def _select(self) -> Any:
        return select(messages, labels.c.body).join(labels, labels.c.id == messages.c.label_id)

    def _message(self, row: Row[Any]) -> Message:
        m = row._mapping
        return Message(
            seq=m["seq"],
            net_id=m["net_id"],
            author_id=m["author_id"],
            label=self._labels.label(m["label_id"], m["body"]),
            text=m["text"],
            html=m["html"],
            created_at=required(m["created_at"]),
            reply_to=m["reply_to"],
            version=m["version"],
            edited_at=aware(m["edited_at"]),
            deleted_at=aware(m["deleted_at"]),
            deleted_by=m["deleted_by"],
            purged=bool(m["purged"]),
            rev=m["rev"],
        )

    async def add(self, message: Message) -> Message:
        return (await self.add_many([message]))[0]

    async def store_labels(self, found: Sequence[Label]) -> None:
        """Make sure these labels have rows (a write takes this lock before the audit chain's,
        as every other write does, so two writes never wait on each other's)."""
        for label in found:
            await self._labels.id_of(self._conn, label)

    async def add_many(self, batch: Sequence[Message]) -> list[Message]:
        """New messages (version 1, with the rev of each draft), in order, with their first
        versions and search entries: the dialect's `add_messages`, straight to the driver."""
        label_ids = [await self._labels.id_of(self._conn, m.label) for m in batch]
        rows = [
            {
                "net_id": m.net_id,
                "author_id": m.author_id,
                "label_id": label_id,
                "text": m.text,
                "html": m.html,
                "reply_to": m.reply_to,
                "version": 1,
                "created_at": m.created_at,
                "purged": False,
                "rev": m.rev,
            }
            for m, label_id in zip(batch, label_ids, strict=True)
        ]
        seqs = await self._dialect.add_messages(self._conn, rows)
        return [replace(m, seq=seq) for m, seq in zip(batch, seqs, strict=True)]

    async def _add_version(self, version: MessageVersion) -> None:
        await self._conn.execute(
            insert(message_versions).values(
                message_seq=version.message_seq,
                version=version.version,
                label_id=await self._labels.id_of(self._conn, version.label),
                text=version.text,
                editor_id=version.editor_id,
                at=version.at,
            )
        )

    async def set_rev(self, seq: int, rev: int) -> None:
        """Stamp a message with the audit seq of its latest change."""
        await self._conn.execute(update(messages).where(messages.c.seq == seq).values(rev=rev))

    async def changes(
        self, net_ids: Sequence[str], reader: Subject, after_rev: int, limit: int
    ) -> Sequence[Message]:
        """Messages of these nets changed after `after_rev`, readable by `reader`, in rev order."""
        query = self._select().where(
            and_(
                messages.c.net_id.in_(list(net_ids)),
                messages.c.rev > after_rev,
                readable_by(reader, messages.c.label_id),
            )
        )
        rows = await self._conn.execute(query.order_by(messages.c.rev).limit(limit))
        return [self._message(r) for r in rows]

    async def get(self, seq: int) -> Message:
        row = (await self._conn.execute(self._select().where(messages.c.seq == seq))).first()
        if row is None:
            raise NotFound(f"no message {seq}")
        return self._message(row)

    async def replies(self, seq: int) -> Sequence[Message]:
        query = self._select().where(messages.c.reply_to == seq).order_by(messages.c.seq)
        return [self._message(row) for row in await self._conn.execute(query)]

    async def edit(self, message: Message, editor_id: str) -> None:
        """Store a new current version (the old one stays in message_versions)."""
        if message.edited_at is None:
            raise ValueError("an edit needs its time")
        await self._conn.execute(
            update(messages)
            .where(messages.c.seq == message.seq)
            .values(
                label_id=await self._labels.id_of(self._conn, message.label),
                text=message.text,
                html=message.html,
                version=message.version,
                edited_at=message.edited_at,
            )
        )
        await self._add_version(
            MessageVersion(
                message.seq,
                message.version,
                message.label,
                message.text,
                editor_id,
                message.edited_at,
            )
        )
        await self._dialect.index_message(self._conn, message.seq, message.text)

    async def tombstone(self, seq: int, by: str, at: datetime) -> None:
        await self._conn.execute(
            update(messages).where(messages.c.seq == seq).values(deleted_at=at, deleted_by=by)
        )
        await self._dialect.index_message(self._conn, seq, None)

    async def purge(self, seq: int) -> None:
        """Remove the text of a message and its versions (records officer, after retention)."""
        await self._conn.execute(
            update(message_versions).where(message_versions.c.message_seq == seq).values(text="")
        )
        await self._conn.execute(
            update(messages).where(messages.c.seq == seq).values(text="", html="", purged=True)
        )
        await self._dialect.index_message(self._conn, seq, None)

    async def versions(self, seq: int) -> Sequence[MessageVersion]:
        query = (
            select(message_versions, labels.c.body)
            .join(labels, labels.c.id == message_versions.c.label_id)
            .where(message_versions.c.message_seq == seq)
            .order_by(message_versions.c.version)
        )
        result = []
        for row in await self._conn.execute(query):
            m = row._mapping
            result.append(
                MessageVersion(
                    m["message_seq"],
                    m["version"],
                    self._labels.label(m["label_id"], m["body"]),
                    m["text"],
                    m["editor_id"],
                    required(m["at"]),
                )
            )
        return result

    async def list(
        self,
        net_ids: Sequence[str],
        reader: Subject | None,
        after: int | None,
        limit: int,
        *,
        include_deleted: bool = True,
    ) -> Sequence[Message]:
        """Messages of the nets in seq order; with a reader, only those it may read."""
        query = self._select().where(messages.c.net_id.in_(list(net_ids)))
        if reader is not None:
            query = query.where(readable_by(reader, messages.c.label_id))
        if after is not None:
            query = query.where(messages.c.seq > after)
        if not include_deleted:
            query = query.where(messages.c.deleted_at.is_(None))
        rows = await self._conn.execute(query.order_by(messages.c.seq).limit(limit))
        return [self._message(r) for r in rows]

    async def latest(self, net_id: str, reader: Subject, limit: int) -> Sequence[Message]:
        """The newest `limit` messages of the net that `reader` may read, oldest first."""
        query = self._select().where(
            and_(messages.c.net_id == net_id, readable_by(reader, messages.c.label_id))
        )
        rows = await self._conn.execute(query.order_by(messages.c.seq.desc()).limit(limit))
        return [self._message(r) for r in reversed(rows.all())]

    async def search(
        self, net_ids: Sequence[str], reader: Subject, query_text: str, limit: int
    ) -> Sequence[Message]:
        """Undeleted messages of these nets matching the words, readable by `reader`."""
        query = self._select().where(
            and_(
                messages.c.net_id.in_(list(net_ids)),
                messages.c.deleted_at.is_(None),
                readable_by(reader, messages.c.label_id),
            )
        )
        query = self._dialect.matching(query, query_text.split())
        rows = await self._conn.execute(query.order_by(messages.c.seq.desc()).limit(limit))
        return [self._message(r) for r in rows]

    async def count_above(self, net_id: str, ceiling: Label) -> int:
        """How many messages of the net a (new) ceiling would not dominate."""
        query = (
            select(messages.c.label_id, labels.c.body, func.count())
            .join(labels, labels.c.id == messages.c.label_id)
            .where(messages.c.net_id == net_id)
            .group_by(messages.c.label_id, labels.c.body)
        )
        return sum(
            int(count)
            for label_id, body, count in await self._conn.execute(query)
            if not ceiling.dominates(self._labels.label(label_id, body))
        )

    async def expired(self, net_id: str, before: datetime) -> Sequence[Message]:
        rows = await self._conn.execute(
            self._select().where(
                and_(
                    messages.c.net_id == net_id,
                    messages.c.created_at < before,
                    messages.c.purged.is_(False),
                )
            )
        )
        return [self._message(r) for r in rows]

    async def walk(self) -> AsyncIterator[Message]:
        """Every message, unfiltered, in seq order (streamed: the deep audit check)."""
        stream = await self._conn.stream(self._select().order_by(messages.c.seq))
        async for row in stream:
            yield self._message(row)

    async def walk_versions(self) -> AsyncIterator[MessageVersion]:
        """Every stored version of every message, in (seq, version) order (streamed)."""
        query = (
            select(message_versions, labels.c.body)
            .join(labels, labels.c.id == message_versions.c.label_id)
            .order_by(message_versions.c.message_seq, message_versions.c.version)
        )
        stream = await self._conn.stream(query)
        async for row in stream:
            m = row._mapping
            yield MessageVersion(
                m["message_seq"],
                m["version"],
                self._labels.label(m["label_id"], m["body"]),
                m["text"],
                m["editor_id"],
                required(m["at"]),
            )
