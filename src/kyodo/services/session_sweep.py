"""Expired sessions and API tokens are deleted from the store, periodically and audited."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog

from kyodo.audit.chain import AuditEntry

if TYPE_CHECKING:
    from kyodo.services.context import ServiceContext

log = structlog.get_logger(__name__)
SYSTEM = "(kyodo)"


async def purge_expired(ctx: ServiceContext) -> int:
    """Delete the sessions and tokens past their expiry (already refused at every use, but
    their hashes, names and scopes need not be kept); the count is audited."""
    async with ctx.db.transaction() as tx:
        count = await tx.sessions.delete_expired(ctx.clock())
        if count:
            await tx.audit.append(
                AuditEntry(
                    actor=SYSTEM,
                    action="session.purge",
                    object_type="session",
                    object_id="(expired)",
                    details={"count": count},
                )
            )
    return count


class SessionSweeper:
    """Runs `purge_expired` at start and every `every_seconds` until stopped."""

    def __init__(self, ctx: ServiceContext, every_seconds: float = 3600.0) -> None:
        self._ctx = ctx
        self._every = every_seconds
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            # A purge under way finishes even when the sweeper stops: cancelled half-way, it
            # would abandon its database connection instead of returning it.
            purging = asyncio.ensure_future(self._purge())
            try:
                await asyncio.shield(purging)
            except asyncio.CancelledError:
                await purging
                raise
            await asyncio.sleep(self._every)

    async def _purge(self) -> None:
        try:
            await purge_expired(self._ctx)
        except Exception:  # the database may be away for a while: try again next time
            log.exception("session.purge_failed")

    def start(self) -> None:
        """Start sweeping in the background."""
        self._task = asyncio.create_task(self._run(), name="session-sweeper")

    async def stop(self) -> None:
        """Stop sweeping (a purge under way finishes first)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
