"""PostgreSQL activity of the bench database during a step (the postgres back-end only)."""

from __future__ import annotations

import asyncio
from typing import Any


class PgMonitor:
    """Samples pg_stat_activity of the bench database: backends active, and waiting on a lock
    (the audit chain's pg_advisory_xact_lock serialises every write transaction)."""

    def __init__(self, conn: Any, database: str) -> None:
        self.conn = conn
        self.database = database
        self.result: dict[str, float] = {}

    async def _xacts(self) -> tuple[int, int]:
        row = await self.conn.fetchrow(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1",
            self.database,
        )
        return int(row["xact_commit"]), int(row["xact_rollback"])

    async def sample(self) -> dict[str, float]:
        active = locked = 0
        count = 0
        commits, rollbacks = await self._xacts()
        try:
            while True:
                row = await self.conn.fetchrow(
                    "SELECT count(*) FILTER (WHERE state = 'active') AS active, "
                    "count(*) FILTER (WHERE wait_event_type = 'Lock') AS locked "
                    "FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                    self.database,
                )
                active += row["active"]
                locked += row["locked"]
                count += 1
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            pass
        await asyncio.sleep(1.2)  # backends report their counters at most once a second
        commits_after, rollbacks_after = await self._xacts()
        return {
            "active": active / max(count, 1),
            "lock": locked / max(count, 1),
            "commits": commits_after - commits,
            "rollbacks": rollbacks_after - rollbacks,
        }
