"""SQL store for nets and their members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from kyodo.domain.nets import Member, Net, NetRole
from kyodo.errors import Conflict, NotFound
from kyodo.store.sql.labels import readable_by
from kyodo.store.sql.tables import messages, net_members, nets
from kyodo.store.sql.times import required

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncConnection

    from kyodo.labels import Label
    from kyodo.policy import Subject
    from kyodo.store.sql.labels import TransactionLabels


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
            created_at=required(m["created_at"]),
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
        m["net_id"], m["person_id"], NetRole(m["role"]), required(m["added_at"]), m["last_read"]
    )
