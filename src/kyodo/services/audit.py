"""Reading, verifying and exporting the audit log (security officers; the operator's CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.audit.chain import AuditEntry, ChainWalker, VerifyReport
from kyodo.domain.identity import Role
from kyodo.services.access import require_role
from kyodo.services.identity import Page, _limit

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from kyodo.audit.chain import AuditRecord
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import AuditQuery


async def _require_officer(ctx: ServiceContext, actor: Actor, action: str) -> None:
    """Every use of the log is a security officer's, and is itself audited (allow or deny)."""
    await require_role(
        ctx, actor, Role.SECURITY_OFFICER, audit_action=action, object_type="audit", object_id="log"
    )


async def list_audit(
    ctx: ServiceContext,
    actor: Actor,
    query: AuditQuery,
    cursor: int | None = None,
    limit: int = 100,
) -> Page[AuditRecord]:
    """Audit records matching the filters, oldest first; security officers only."""
    await _require_officer(ctx, actor, "audit.read")
    limit = _limit(limit)
    async with ctx.db.transaction(write=False) as tx:
        items = await tx.audit.list(query, cursor, limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return Page(items, str(items[-1].seq) if more else None)


async def verify_audit(
    ctx: ServiceContext, actor: Actor, anchors: Mapping[int, str] | None = None
) -> VerifyReport:
    """Walk the whole chain (streamed) and report the first break; security officers only.
    `anchors` (seq → hash, heads of earlier runs kept outside the database) also catch the
    newest records cut off."""
    await _require_officer(ctx, actor, "audit.verify")
    walker = ChainWalker(anchors)
    async with ctx.db.transaction(write=False) as tx:
        async for record in tx.audit.walk():
            broken = walker.step(record)
            if broken is not None:
                return broken
    return walker.report()


async def export_audit(ctx: ServiceContext, actor: Actor) -> AsyncIterator[AuditRecord]:
    """Every record in order, for an export; the export itself is audited first."""
    await _require_officer(ctx, actor, "audit.export")
    async with ctx.db.transaction() as tx:
        await tx.audit.append(
            AuditEntry(
                actor=actor.audit_name, action="audit.export", object_type="audit", object_id="log"
            )
        )
    async with ctx.db.transaction(write=False) as tx:
        async for record in tx.audit.walk():
            yield record
