"""Seals checkpoints of the audit chain with the deployment's key and publishes them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import structlog

from kyodo.audit.chain import ChainWalker, audit_time
from kyodo.audit.seal import is_sealed, sign_checkpoint
from kyodo.services.ports import AuditQuery

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kyodo.audit.seal import Checkpoint
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import CheckpointLog

log = structlog.get_logger(__name__)
_PAGE = 1000


class AuditSealer:
    """Every `every_records` new records, or `every_seconds` after a change, and at stop:
    checks the records since the last checkpoint follow it, then seals the head and publishes
    it (a log line for the log collector, and the checkpoint log). A chain that no longer
    follows its last checkpoint is never sealed: that would bless the tampering."""

    def __init__(
        self,
        ctx: ServiceContext,
        key: Ed25519PrivateKey,
        checkpoints: CheckpointLog,
        *,
        every_records: int = 1000,
        every_seconds: float = 60.0,
    ) -> None:
        self._ctx = ctx
        self._key = key
        self._log = checkpoints
        self._every_records = every_records
        self._every_seconds = every_seconds
        public = key.public_key()
        sealed = [c for c in checkpoints.read() if is_sealed(public, c)]
        self.last: Checkpoint | None = max(sealed, key=lambda c: c.seq, default=None)
        self._sealed_at = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._reported: str | None = None

    async def seal(self) -> Checkpoint | None:
        """Seal the current head if it moved and follows the last checkpoint; the new one."""
        async with self._lock:
            start = None if self.last is None else (self.last.seq, self.last.head_hash)
            walker = ChainWalker(start=start)
            after = None if self.last is None else self.last.seq
            async with self._ctx.db.transaction(write=False) as tx:
                while True:
                    page = await tx.audit.list(AuditQuery(), after, _PAGE)
                    for record in page:
                        broken = walker.step(record)
                        if broken is not None:
                            self._refuse(broken.reason)
                            return None
                    if len(page) < _PAGE:
                        break
                    after = page[-1].seq
            head = walker.report()
            if walker.count == 0:
                # Nothing after the checkpoint: fine, unless the log now ends before it.
                current, _ = await self._head()
                if self.last is not None and current < self.last.seq:
                    self._refuse(
                        f"the log ends at record {current}, below checkpoint {self.last.seq}"
                    )
                return None
            checkpoint = sign_checkpoint(self._key, head.head_seq, head.head_hash, audit_time())
            self._log.append(checkpoint)
            log.info("audit.checkpoint", **checkpoint.as_dict())
            self.last = checkpoint
            self._sealed_at = time.monotonic()
            self._reported = None
            return checkpoint

    async def _head(self) -> tuple[int, str]:
        async with self._ctx.db.transaction(write=False) as tx:
            return await tx.audit.head()

    def _refuse(self, reason: str) -> None:
        if reason != self._reported:  # once per break, not every period
            log.error(
                "audit.seal_refused", reason=reason, last_checkpoint=self.last and self.last.seq
            )
            self._reported = reason

    async def _due(self) -> bool:
        seq, _ = await self._head()
        since = seq - (self.last.seq if self.last else 0)
        if since <= 0:
            return False
        return since >= self._every_records or (
            time.monotonic() - self._sealed_at >= self._every_seconds
        )

    async def _run(self) -> None:
        poll = min(1.0, self._every_seconds)
        while True:
            await asyncio.sleep(poll)
            try:
                if await self._due():
                    await self.seal()
            except Exception:  # the database may be away for a while: try again next time
                log.exception("audit.seal_failed")

    async def start(self) -> None:
        """Seal what happened while the server was down, then keep sealing."""
        await self.seal()
        self._task = asyncio.create_task(self._run(), name="audit-sealer")

    async def stop(self) -> None:
        """Stop, sealing the last records written."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.seal()
