"""SQL stores for nets, their members, messages, message versions and message search."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, or_, select, text, update

from kyodo.domain.nets import Member, Message, MessageVersion, Net, NetRole
from kyodo.errors import Conflict, NotFound
from kyodo.store.sql.driver import DriverInsert, execute_many, fetch_all, pg_arrays
from kyodo.store.sql.labels import readable_by
from kyodo.store.sql.tables import labels, message_versions, messages, net_members, nets

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncConnection

    from kyodo.labels import Label
    from kyodo.policy import Subject
    from kyodo.store.sql.labels import TransactionLabels


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _required(moment: datetime | None) -> datetime:
    aware = _aware(moment)
    if aware is None:
        raise ValueError("a required time is missing")
    return aware


class SqlNetStore:
    """Rows of `nets` and `net_members`."""

    def __init__(self, conn: AsyncConnection, label_rows: TransactionLabels) -> None:
        self._conn = conn
        self._labels = label_rows

    async def _label(self, label_id: int) -> Label:
        return await self._labels.fetch(self._conn, label_id)

    async def _net(self, row: Row[Any]) -> Net:
        m = row._mapping
        return Net(
            id=m["id"],
            name=m["name"],
            purpose=m["purpose"],
            org_id=m["org_id"],
            ceiling=await self._label(m["ceiling_label_id"]),
            entry=await self._label(m["entry_label_id"]),
            default_label=await self._label(m["default_label_id"]),
            retention_days=m["retention_days"],
            created_at=_required(m["created_at"]),
            version=m["version"],
            label=None if m["label_id"] is None else await self._label(m["label_id"]),
        )

    async def _values(self, net: Net) -> dict[str, Any]:
        return {
            "name": net.name,
            "purpose": net.purpose,
            "org_id": net.org_id,
            "ceiling_label_id": await self._labels.id_of(self._conn, net.ceiling),
            "entry_label_id": await self._labels.id_of(self._conn, net.entry),
            "default_label_id": await self._labels.id_of(self._conn, net.default_label),
            "retention_days": net.retention_days,
            "version": net.version,
            "label_id": None
            if net.label is None
            else await self._labels.id_of(self._conn, net.label),
        }

    async def add(self, net: Net) -> None:
        clash = await self._conn.execute(
            select(nets.c.id).where(or_(nets.c.id == net.id, nets.c.name == net.name))
        )
        if clash.first():
            raise Conflict(f"a net named {net.name!r} exists already")
        values = await self._values(net)
        await self._conn.execute(
            insert(nets).values(id=net.id, created_at=net.created_at, **values)
        )

    async def update(self, net: Net) -> None:
        values = await self._values(net)
        result = await self._conn.execute(update(nets).where(nets.c.id == net.id).values(**values))
        if not result.rowcount:
            raise NotFound(f"no net {net.id!r}")

    async def get(self, net_id: str, *, lock: bool = False) -> Net:
        query = select(nets).where(nets.c.id == net_id)
        if lock:  # PostgreSQL: FOR UPDATE; SQLite: a write transaction holds the only lock
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None:
            raise NotFound(f"no net {net_id!r}")
        return await self._net(row)

    async def get_by_name(self, name: str) -> Net:
        row = (await self._conn.execute(select(nets).where(nets.c.name == name))).first()
        if row is None:
            raise NotFound(f"no net named {name!r}")
        return await self._net(row)

    async def list_for(self, person_id: str) -> Sequence[Net]:
        query = (
            select(nets)
            .join(net_members, net_members.c.net_id == nets.c.id)
            .where(net_members.c.person_id == person_id)
            .order_by(nets.c.name)
        )
        return [await self._net(r) for r in await self._conn.execute(query)]

    async def list_all(self) -> Sequence[Net]:
        rows = await self._conn.execute(select(nets).order_by(nets.c.name))
        return [await self._net(r) for r in rows]

    async def add_member(self, member: Member) -> None:
        existing = await self.member(member.net_id, member.person_id)
        if existing is not None:
            raise Conflict("already a member of this net")
        await self._conn.execute(
            insert(net_members).values(
                net_id=member.net_id,
                person_id=member.person_id,
                role=member.role.value,
                added_at=member.added_at,
            )
        )

    async def remove_member(self, net_id: str, person_id: str) -> bool:
        result = await self._conn.execute(
            delete(net_members).where(
                and_(net_members.c.net_id == net_id, net_members.c.person_id == person_id)
            )
        )
        return bool(result.rowcount)

    async def member(self, net_id: str, person_id: str) -> Member | None:
        row = (
            await self._conn.execute(
                select(net_members).where(
                    and_(net_members.c.net_id == net_id, net_members.c.person_id == person_id)
                )
            )
        ).first()
        return None if row is None else _member(row)

    async def mark_read(self, net_id: str, person_id: str, seq: int, reader: Subject) -> int | None:
        """Move the member's read marker forward to `seq` (never back, never past the newest
        message of the net the reader may read: a marker ahead of it would hide the next
        messages from the unread count, and the server's newest seq would tell the reader how
        much traffic it cannot see); None if not a member."""
        newest = (
            await self._conn.execute(
                select(func.max(messages.c.seq)).where(
                    messages.c.net_id == net_id, readable_by(reader, messages.c.label_id)
                )
            )
        ).scalar()
        seq = min(seq, int(newest or 0))
        where = and_(net_members.c.net_id == net_id, net_members.c.person_id == person_id)
        await self._conn.execute(
            update(net_members).where(where, net_members.c.last_read < seq).values(last_read=seq)
        )
        found = (await self._conn.execute(select(net_members.c.last_read).where(where))).first()
        return None if found is None else int(found[0])

    async def members(self, net_id: str) -> Sequence[Member]:
        rows = await self._conn.execute(
            select(net_members)
            .where(net_members.c.net_id == net_id)
            .order_by(net_members.c.added_at)
        )
        return [_member(r) for r in rows]

    async def memberships(self, person_id: str) -> Sequence[Member]:
        rows = await self._conn.execute(
            select(net_members).where(net_members.c.person_id == person_id)
        )
        return [_member(r) for r in rows]


def _member(row: Row[Any]) -> Member:
    m = row._mapping
    return Member(
        m["net_id"], m["person_id"], NetRole(m["role"]), _required(m["added_at"]), m["last_read"]
    )


_NEW_MESSAGE = DriverInsert(
    messages,
    (
        "net_id",
        "author_id",
        "label_id",
        "text",
        "html",
        "reply_to",
        "version",
        "created_at",
        "purged",
        "rev",
    ),
)
_FIRST_VERSION = DriverInsert(
    message_versions, ("message_seq", "version", "label_id", "text", "editor_id", "at")
)


async def _pg_add_with_first_versions(
    conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert messages and their first versions (copies of the rows just inserted) in one
    PostgreSQL statement; the new seqs in the rows' order."""
    compiled = _NEW_MESSAGE.compiled(conn.dialect)
    new = f"{compiled.sql} RETURNING seq, label_id, text, author_id, created_at"
    sql = (
        f"WITH new AS ({new}),"  # noqa: S608 - schema names; every value is a parameter
        " first_version AS (INSERT INTO message_versions"
        " (message_seq, version, label_id, text, editor_id, at)"
        " SELECT seq, 1, label_id, text, author_id, created_at FROM new)"
        " SELECT seq FROM new"
    )
    # The serial assigns seqs in the insert's order (`ORDER BY given_order`) and RETURNING
    # gives them in any order: sorted, they pair up with the rows again.
    return sorted(int(found[0]) for found in await fetch_all(conn, sql, pg_arrays(compiled, rows)))


class SqlMessageStore:
    """Rows of `messages`, `message_versions` and the search index."""

    def __init__(self, conn: AsyncConnection, label_rows: TransactionLabels) -> None:
        self._conn = conn
        self._labels = label_rows

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
            created_at=_required(m["created_at"]),
            reply_to=m["reply_to"],
            version=m["version"],
            edited_at=_aware(m["edited_at"]),
            deleted_at=_aware(m["deleted_at"]),
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
        """New messages (version 1, with the rev of each draft), in order: one statement per
        table."""
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
        if self._conn.dialect.name == "postgresql":
            seqs = await _pg_add_with_first_versions(self._conn, rows)
            return [replace(m, seq=seq) for m, seq in zip(batch, seqs, strict=True)]
        # SQLite gives each new row of a rowid table the largest rowid plus one, row after row
        # in the order given, and returns them in any order: sorted, the seqs pair up with the
        # rows again. They must then be consecutive; if not, stop rather than mislabel a message.
        seqs = sorted(int(s) for s in await _NEW_MESSAGE.run_returning(self._conn, rows, "seq"))
        if seqs and seqs[-1] - seqs[0] != len(seqs) - 1:
            raise RuntimeError(f"message seqs of one insert are not consecutive: {seqs}")
        versions = [
            {
                "message_seq": seq,
                "version": 1,
                "label_id": label_id,
                "text": m.text,
                "editor_id": m.author_id,
                "at": m.created_at,
            }
            for m, seq, label_id in zip(batch, seqs, label_ids, strict=True)
        ]
        await _FIRST_VERSION.run(self._conn, versions)
        # PostgreSQL indexes the column itself; SQLite's FTS5 table is kept here.
        await execute_many(
            self._conn,
            "INSERT INTO messages_fts (rowid, text) VALUES (?, ?)",
            [(seq, m.text) for m, seq in zip(batch, seqs, strict=True)],
        )
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

    async def _index(self, seq: int, body: str | None) -> None:
        if self._conn.dialect.name != "sqlite":
            return  # PostgreSQL indexes the column itself
        await self._conn.execute(text("DELETE FROM messages_fts WHERE rowid = :seq"), {"seq": seq})
        if body is not None:
            await self._conn.execute(
                text("INSERT INTO messages_fts (rowid, text) VALUES (:seq, :body)"),
                {"seq": seq, "body": body},
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
        await self._index(message.seq, message.text)

    async def tombstone(self, seq: int, by: str, at: datetime) -> None:
        await self._conn.execute(
            update(messages).where(messages.c.seq == seq).values(deleted_at=at, deleted_by=by)
        )
        await self._index(seq, None)

    async def purge(self, seq: int) -> None:
        """Remove the text of a message and its versions (records officer, after retention)."""
        await self._conn.execute(
            update(message_versions).where(message_versions.c.message_seq == seq).values(text="")
        )
        await self._conn.execute(
            update(messages).where(messages.c.seq == seq).values(text="", html="", purged=True)
        )
        await self._index(seq, None)

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
                    _required(m["at"]),
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
        words = query_text.split()
        if self._conn.dialect.name == "sqlite":
            if all(len(w) >= 3 for w in words):
                # FTS5 trigram: each word quoted, all must match.
                match = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
                ids = (
                    select(text("rowid"))
                    .select_from(text("messages_fts"))
                    .where(text("messages_fts MATCH :match"))
                )
                query = query.where(messages.c.seq.in_(ids)).params(match=match)
            else:
                for word in words:  # trigram needs 3 characters; short words scan with LIKE
                    query = query.where(messages.c.text.contains(word, autoescape=True))
        else:
            vector = func.to_tsvector("simple", messages.c.text)
            ascii_words = [w for w in words if w.isascii()]
            other = [w for w in words if not w.isascii()]
            if ascii_words:
                query = query.where(
                    vector.op("@@")(func.plainto_tsquery("simple", " ".join(ascii_words)))
                )
            for word in other:  # 'simple' does not split Japanese: substring match
                query = query.where(messages.c.text.contains(word, autoescape=True))
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
                _required(m["at"]),
            )
