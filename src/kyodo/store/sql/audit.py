"""SQL store of the audit chain: appends under a lock so concurrent writers keep one chain."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kyodo.audit.chain import GENESIS_HASH, AuditEntry, AuditRecord, audit_time, seal
from kyodo.store.sql.driver import DriverInsert
from kyodo.store.sql.tables import audit_log

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncConnection

    from kyodo.services.ports import AuditQuery
    from kyodo.store.sql.dialects.base import Dialect


def _record(row: Row[Any]) -> AuditRecord:
    m = row._mapping
    entry = AuditEntry(
        actor=m["actor"],
        action=m["action"],
        object_type=m["object_type"],
        object_id=m["object_id"],
        decision=m["decision"],
        label=None if m["label"] is None else json.loads(m["label"]),
        reasons=tuple(json.loads(m["reasons"])),
        details=json.loads(m["details"]),
    )
    return AuditRecord(m["seq"], m["time"], entry, m["prev_hash"], m["hash"])


_INSERT = DriverInsert(audit_log, [column.name for column in audit_log.columns])


class SqlAuditStore:
    """Rows of `audit_log`, one chain."""

    def __init__(self, conn: AsyncConnection, dialect: Dialect) -> None:
        self._conn = conn
        self._dialect = dialect
        # The chain's head as this transaction left it: read once, under the lock, then kept.
        self._head: tuple[int, str] | None = None

    async def append(self, entry: AuditEntry) -> AuditRecord:
        return (await self.append_many([entry]))[0]

    async def next_seq(self) -> int:
        """The seq the next appended record will get (the lock is held until commit, so it
        stays so in this transaction)."""
        return (await self._lock_head())[0] + 1

    async def _lock_head(self) -> tuple[int, str]:
        if self._head is not None:
            return self._head
        # Held until commit: appenders queue here, so seq and prev_hash are read and written
        # by one of them at a time.
        await self._dialect.lock_audit_chain(self._conn)
        rows = await self._dialect.fetch_all(
            self._conn, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
        )
        last = rows[0] if rows else None
        self._head = (0, GENESIS_HASH) if last is None else (int(last[0]), str(last[1]))
        return self._head

    async def append_many(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Chain the entries in order after the current head: one read and one insert."""
        seq, prev = await self._lock_head()
        now = audit_time()
        records = []
        for entry in entries:
            seq += 1
            record = seal(seq, now, entry, prev)
            records.append(record)
            prev = record.hash
        rows = [
            {
                "seq": r.seq,
                "time": r.time,
                "actor": r.entry.actor,
                "action": r.entry.action,
                "object_type": r.entry.object_type,
                "object_id": r.entry.object_id,
                "decision": r.entry.decision,
                "label": None
                if r.entry.label is None
                else json.dumps(r.entry.label, ensure_ascii=False),
                "reasons": json.dumps(list(r.entry.reasons), ensure_ascii=False),
                "details": json.dumps(r.entry.details, ensure_ascii=False, sort_keys=True),
                "prev_hash": r.prev_hash,
                "hash": r.hash,
            }
            for r in records
        ]
        await self._dialect.insert(self._conn, _INSERT, rows)
        self._head = (seq, prev)
        return records

    async def head(self) -> tuple[int, str]:
        """The newest record's (seq, hash), (0, genesis) if none; read without the lock."""
        stmt = select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
        row = (await self._conn.execute(stmt)).first()
        return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))

    async def list(self, query: AuditQuery, after: int | None, limit: int) -> Sequence[AuditRecord]:
        stmt = select(audit_log)
        for column, value in (
            (audit_log.c.actor, query.actor),
            (audit_log.c.action, query.action),
            (audit_log.c.object_type, query.object_type),
            (audit_log.c.object_id, query.object_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if query.since is not None:
            stmt = stmt.where(audit_log.c.time >= query.since)
        if query.until is not None:
            stmt = stmt.where(audit_log.c.time < query.until)
        if after is not None:
            stmt = stmt.where(audit_log.c.seq > after)
        rows = await self._conn.execute(stmt.order_by(audit_log.c.seq).limit(limit))
        return [_record(r) for r in rows]

    async def walk(self) -> AsyncIterator[AuditRecord]:
        stream = await self._conn.stream(select(audit_log).order_by(audit_log.c.seq))
        async for row in stream:
            yield _record(row)
