"""Reading, verifying and exporting the audit log (security officers; the operator's CLI)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kyodo.audit.chain import AuditEntry, ChainWalker, VerifyReport, parse_audit_time
from kyodo.audit.reconcile import Reconciler, StoredText
from kyodo.audit.seal import sealed_anchors
from kyodo.domain.identity import Role
from kyodo.errors import InvalidInput, LabelError, NotFound
from kyodo.labels import label_from_json
from kyodo.services.access import require_role
from kyodo.services.paging import Page, page_limit, page_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from kyodo.audit.chain import AuditRecord
    from kyodo.audit.seal import Checkpoint
    from kyodo.labels import Label
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
    limit = page_limit(limit)
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
    # The cursor is always a record the reader was shown, never a left-out one.
    return page_of(shown, limit, lambda record: str(record.seq))


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


@dataclass(frozen=True, slots=True)
class DeepReport:
    """The chain checked against the sealed checkpoints, and the stored messages and
    memberships against the records that made them; ok only if nothing is wrong."""

    chain: VerifyReport
    checkpoints: int  # sealed checkpoints that vouched for the chain
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems


async def verify_audit_deep(
    ctx: ServiceContext,
    actor: Actor,
    checkpoints: Sequence[Checkpoint],
    public_key: Ed25519PublicKey,
    anchors: Mapping[int, str] | None = None,
) -> DeepReport:
    """`verify_audit` against the checkpoints sealed with `public_key`'s key (a tail cut off
    below the newest, or an older record edited and the chain re-hashed, is a break without a
    hand-kept anchor), then every stored message, version and membership against the audit
    record that created it; security officers only."""
    await _require_officer(ctx, actor, "audit.verify")
    sealed, problems = sealed_anchors(checkpoints, public_key)
    for seq, digest in (anchors or {}).items():
        if sealed.setdefault(seq, digest) != digest:
            problems.append(f"the anchor for record {seq} disagrees with a sealed checkpoint")
    if not sealed:
        problems.append("no sealed checkpoint: the newest records are not protected yet")
    walker = ChainWalker(sealed)
    labels: dict[str, Label | None] = {}

    def same_label(recorded: dict[str, Any] | None, stored: object) -> bool:
        key = json.dumps(recorded, sort_keys=True)
        if key not in labels:
            try:
                labels[key] = None if recorded is None else label_from_json(recorded, ctx.registry)
            except LabelError:
                labels[key] = None
        return labels[key] == stored

    reconciler = Reconciler(same_label)
    broken: VerifyReport | None = None
    async with ctx.db.transaction(write=False) as tx:
        async for record in tx.audit.walk():
            if broken is None:
                broken = walker.step(record)
            reconciler.see(record)  # the stored state is checked even past a break
        stored_versions: set[tuple[int, int]] = set()
        async for version in tx.messages.walk_versions():
            stored_versions.add((version.message_seq, version.version))
            reconciler.check_version(
                StoredText(version.message_seq, version.version, version.label, version.text)
            )
        reconciler.check_versions_present(stored_versions)
        async for message in tx.messages.walk():
            reconciler.check_message(
                StoredText(
                    message.seq, message.version, message.label, message.text, message.net_id
                ),
                message.purged,
            )
        ids: dict[str, str] = {}
        for key in reconciler.person_keys():
            try:
                ids[key] = (await tx.people.get_by_username(key)).id
            except NotFound:
                ids[key] = key  # a person id already (or a person since gone)
        members = [
            (net.id, member.person_id)
            for net in await tx.nets.list_all()
            for member in await tx.nets.members(net.id)
        ]
        reconciler.check_members(members, lambda key: ids.get(key, key))
    chain = broken or walker.report()
    return DeepReport(chain, len(sealed), problems + reconciler.problems)


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
