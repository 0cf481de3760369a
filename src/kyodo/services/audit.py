"""Reading, verifying and exporting the audit log (security officers; the operator's CLI)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from kyodo.audit.chain import AuditEntry, ChainWalker, VerifyReport, parse_audit_time
from kyodo.domain.identity import Role
from kyodo.errors import InvalidInput, LabelError
from kyodo.labels import label_from_json
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


def _checked(query: AuditQuery) -> AuditQuery:
    """The query with its times in the records' form; a time that is not one is refused (it
    would otherwise compare as text and quietly match nothing, or everything)."""
    times: dict[str, str | None] = {}
    for name in ("since", "until"):
        value = getattr(query, name)
        if value is None:
            continue
        try:
            times[name] = parse_audit_time(value)
        except ValueError:
            raise InvalidInput(
                f"{name}: {value!r} is not an ISO 8601 time (e.g. 2025-01-31 or "
                "2025-01-31T09:30:00Z; without a zone it is UTC)"
            ) from None
    return replace(query, **times) if times else query


class _Readable:
    """Whether the reader may read a record's label (a record without one is at the lowest
    label; one whose label cannot be understood is not readable). Parsed labels are kept for
    the call, as most records share a few labels."""

    def __init__(self, ctx: ServiceContext, actor: Actor) -> None:
        self._ctx = ctx
        self._subject = actor.subject
        self._seen: dict[str, bool] = {}

    def __call__(self, record: AuditRecord) -> bool:
        label = record.entry.label
        if label is None:
            return True
        key = json.dumps(label, sort_keys=True)
        found = self._seen.get(key)
        if found is None:
            try:
                parsed = label_from_json(label, self._ctx.registry)
            except LabelError:
                found = False
            else:
                found = self._ctx.decisions.can_read(self._subject, parsed)
            self._seen[key] = found
        return found


def _filters_hidden_fields(query: AuditQuery) -> bool:
    """Whether the query filters on a field a redacted stub hides: then a stub in the answer
    would say its hidden field matched, so unreadable records are left out instead."""
    return query.object_id is not None


async def list_audit(
    ctx: ServiceContext,
    actor: Actor,
    query: AuditQuery,
    cursor: int | None = None,
    limit: int = 100,
) -> Page[AuditRecord]:
    """Audit records matching the filters, oldest first; security officers only. A record
    whose label the reader may not read comes as a redacted stub (`AuditRecord.redact`), so
    the sequence stays whole; with a filter on a hidden field it is left out."""
    await _require_officer(ctx, actor, "audit.read")
    limit = _limit(limit)
    query = _checked(query)
    readable = _Readable(ctx, actor)
    leave_out = _filters_hidden_fields(query)
    shown: list[AuditRecord] = []
    after = cursor
    async with ctx.db.transaction(write=False) as tx:
        while len(shown) <= limit:
            batch = await tx.audit.list(query, after, limit + 1)
            for record in batch:
                if readable(record):
                    shown.append(record)
                elif not leave_out:
                    shown.append(record.redact())
            if len(batch) <= limit:
                break
            after = batch[-1].seq
    more = len(shown) > limit
    shown = shown[:limit]
    # The cursor is always a record the reader was shown, never a left-out one.
    return Page(shown, str(shown[-1].seq) if more else None)


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
    readable = _Readable(ctx, actor)
    async with ctx.db.transaction(write=False) as tx:
        async for record in tx.audit.walk():
            yield record if readable(record) else record.redact()
