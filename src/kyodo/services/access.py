"""Authorisation in the service layer: ask the policy, audit a refusal, raise the right error."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import TYPE_CHECKING

import structlog

from kyodo.audit.chain import AuditEntry
from kyodo.errors import NotFound, PermissionDenied
from kyodo.labels import label_to_dict
from kyodo.policy import Action, Resource

if TYPE_CHECKING:
    from collections.abc import Callable

    from kyodo.labels import Label
    from kyodo.policy import Decision
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

log = structlog.get_logger(__name__)


async def audit_refusal(ctx: ServiceContext, actor: Actor, entry: AuditEntry) -> None:
    """Audit one refusal: through the actor's sink if it has one, else in its own transaction
    (so it is kept even though the caller's work is abandoned)."""
    if actor.refusals is not None:
        await actor.refusals.record(entry)
        return
    async with ctx.db.transaction() as tx:
        await tx.audit.append(entry)


def refusal_entry(
    ctx: ServiceContext,
    actor: Actor,
    decision: Decision,
    *,
    audit_action: str,
    object_type: str,
    object_id: str,
    label: Label | None,
    **details: object,
) -> AuditEntry:
    """The `deny` audit entry of a refused decision, its reasons in full; `label` is the label
    of what it describes (only readers of it see the record in full)."""
    return AuditEntry(
        actor=actor.audit_name,
        action=audit_action,
        object_type=object_type,
        object_id=object_id,
        decision="deny",
        label=None if label is None else label_to_dict(label, ctx.registry),
        reasons=decision.reasons,
        details=dict(details),
    )


async def enforce(
    ctx: ServiceContext,
    actor: Actor,
    decision: Decision,
    *,
    audit_action: str,
    object_type: str,
    object_id: str,
    label: Label | None,
    hide: bool = False,
    not_found: str | None = None,
    answer: tuple[str, ...] | None = None,
    message: str | None = None,
    **details: object,
) -> None:
    """The one place a policy decision (`policy.decide` or a rule of `policy.nets`,
    `policy.people`, `policy.tracks`) becomes an answer: raise unless it allows, the refusal
    audited first with all its reasons (in its own transaction, so it is kept though the
    caller's work is abandoned, or through the actor's counting sink). `answer` replaces the
    reasons in the error the actor gets, where they describe something the actor may not know
    (a stored object they cannot read); `hide` answers NotFound — with `not_found`, the very
    text a missing object gets — for objects the actor may not know exist."""
    if decision.allowed:
        return
    entry = refusal_entry(
        ctx,
        actor,
        decision,
        audit_action=audit_action,
        object_type=object_type,
        object_id=object_id,
        label=label,
        **details,
    )
    await audit_refusal(ctx, actor, entry)
    if hide:
        raise NotFound(not_found or f"no {object_type} {object_id!r}")
    text = message or f"{audit_action} refused"
    if answer is None:
        codes = tuple(reason.as_dict() for reason in decision.codes)
        raise PermissionDenied(text, decision.reasons, codes)
    raise PermissionDenied(text, answer)


async def require(
    ctx: ServiceContext,
    actor: Actor,
    action: Action,
    resource: Resource,
    *,
    audit_action: str,
    object_type: str,
    object_id: str,
    hide: bool = False,
    not_found: str | None = None,
    record_label: Label | None = None,
) -> None:
    """Raise unless the policy allows `action` on `resource` (see `enforce`). The refusal's
    record carries `record_label` (the object's label, when the resource checked is not the
    object, e.g. a role check), else the resource's: only readers of it see it in full."""
    await enforce(
        ctx,
        actor,
        ctx.decisions.decide(actor.subject, action, resource),
        audit_action=audit_action,
        object_type=object_type,
        object_id=object_id,
        label=record_label or resource.label,
        hide=hide,
        not_found=not_found,
    )


async def require_role(
    ctx: ServiceContext,
    actor: Actor,
    role: str,
    *,
    audit_action: str,
    object_type: str,
    object_id: str,
    label: Label | None = None,
    record_label: Label | None = None,
) -> None:
    """Raise PermissionDenied unless the actor holds `role` (and can read `label`, if given)."""
    await require(
        ctx,
        actor,
        Action.WRITE,
        Resource(label or ctx.unclassified(), required_role=role),
        audit_action=audit_action,
        object_type=object_type,
        object_id=object_id,
        record_label=record_label,
    )


def audit_entry(
    ctx: ServiceContext,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    label: Label | None = None,
    **details: object,
) -> AuditEntry:
    """An `allow` audit entry for a change the actor made."""
    return AuditEntry(
        actor=actor.audit_name,
        action=action,
        object_type=object_type,
        object_id=object_id,
        decision="allow",
        label=None if label is None else label_to_dict(label, ctx.registry),
        details=dict(details),
    )


class CountedRefusals:
    """The refusals of one connection, audited as at most two records per interval: the first
    refusal of an interval at once, in full; the ones after it counted, and written as one
    `refusals.counted` record (how many, of which actions) when the interval ends or the
    connection closes (`close`). A peer that sends refused events as fast as it can thus
    writes a bounded number of records, and every refusal is still in a count.

    The counted record names no object and carries no label: the refusals it sums may
    concern objects its readers may not read."""

    def __init__(
        self,
        ctx: ServiceContext,
        actor_name: str,
        connection: str,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self.actor_name = actor_name
        self.connection = connection
        self.interval = interval
        self.total = 0  # refusals recorded, for the transport's limit
        self._clock = clock
        self._ends: float | None = None  # when the current interval ends
        self._counted: Counter[str] = Counter()  # refusals after the first, by action
        self._timer: asyncio.Task[None] | None = None
        self._closed = False

    async def record(self, entry: AuditEntry) -> None:
        self.total += 1
        now = self._clock()
        if self._ends is not None and now < self._ends and not self._closed:
            self._counted[entry.action] += 1
            if self._timer is None:
                self._timer = asyncio.create_task(self._flush_at(self._ends))
            return
        await self._flush()
        self._ends = now + self.interval
        await self._append(
            AuditEntry(
                actor=entry.actor,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                decision=entry.decision,
                label=entry.label,
                reasons=entry.reasons,
                details={**entry.details, "connection": self.connection},
            )
        )

    async def close(self) -> None:
        """Write the count not yet written (the connection is going)."""
        self._closed = True
        timer, self._timer = self._timer, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        await self._flush()

    async def _flush_at(self, moment: float) -> None:
        await asyncio.sleep(max(moment - self._clock(), 0.0))
        self._timer = None
        await self._flush()

    async def _flush(self) -> None:
        # Taken before the write, so refusals counted while it is written go in the next one.
        counted, self._counted = self._counted, Counter()
        if not counted:
            return
        await self._append(
            AuditEntry(
                actor=self.actor_name,
                action="refusals.counted",
                object_type="connection",
                object_id=self.connection,
                decision="deny",
                label=None,
                reasons=(f"{counted.total()} more refusals within {self.interval:g} s",),
                details={"count": counted.total(), "actions": dict(sorted(counted.items()))},
            )
        )

    async def _append(self, entry: AuditEntry) -> None:
        try:
            async with self.ctx.db.transaction() as tx:
                await tx.audit.append(entry)
        except Exception:
            # The peer is refused either way; the log keeps the count the audit could not.
            log.exception("refusal not audited", connection=self.connection, action=entry.action)
