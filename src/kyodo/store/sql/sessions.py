"""SQL store for login sessions and API tokens (by the hash of their secret)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from kyodo.services.ports import SessionRecord
from kyodo.store.sql.tables import sessions
from kyodo.store.sql.times import aware, required

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy import RowMapping
    from sqlalchemy.ext.asyncio import AsyncConnection


class SqlSessionStore:
    """Rows of the `sessions` table."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, record: SessionRecord) -> None:
        await self._conn.execute(
            sessions.insert().values(
                token_hash=record.token_hash,
                person_id=record.person_id,
                kind=record.kind,
                name=record.name,
                csrf_hash=record.csrf_hash,
                created_at=record.created_at,
                expires_at=record.expires_at,
                id=record.id or None,
                scopes=" ".join(sorted(record.scopes)) if record.scopes is not None else None,
                parent_id=record.parent_id,
            )
        )

    async def get(self, token_hash: str) -> SessionRecord | None:
        query = select(sessions).where(sessions.c.token_hash == token_hash)
        row = (await self._conn.execute(query)).first()
        return None if row is None else _record(row._mapping)

    async def get_by_id(self, record_id: str) -> SessionRecord | None:
        query = select(sessions).where(sessions.c.id == record_id)
        row = (await self._conn.execute(query)).first()
        return None if row is None else _record(row._mapping)

    async def list_for_person(self, person_id: str, kind: str) -> Sequence[SessionRecord]:
        query = (
            select(sessions)
            .where(sessions.c.person_id == person_id, sessions.c.kind == kind)
            .order_by(sessions.c.created_at, sessions.c.id)
        )
        return [_record(row._mapping) for row in await self._conn.execute(query)]

    async def delete(self, token_hash: str) -> None:
        await self._conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash))

    async def delete_for_person(self, person_id: str) -> int:
        result = await self._conn.execute(
            sessions.delete().where(sessions.c.person_id == person_id)
        )
        return int(result.rowcount)

    async def delete_expired(self, before: datetime) -> int:
        result = await self._conn.execute(
            sessions.delete().where(
                sessions.c.expires_at.is_not(None), sessions.c.expires_at < before
            )
        )
        return int(result.rowcount)


def _record(m: RowMapping) -> SessionRecord:
    scopes = m["scopes"]
    return SessionRecord(
        token_hash=m["token_hash"],
        person_id=m["person_id"],
        kind=m["kind"],
        name=m["name"],
        csrf_hash=m["csrf_hash"],
        created_at=required(m["created_at"]),
        expires_at=aware(m["expires_at"]),
        id=m["id"] or "",
        scopes=frozenset(scopes.split()) if scopes is not None else None,
        parent_id=m["parent_id"],
    )
