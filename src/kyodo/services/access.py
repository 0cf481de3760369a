"""Authorisation in the service layer: ask the policy, audit a refusal, raise the right error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.audit.chain import AuditEntry
from kyodo.errors import NotFound, PermissionDenied
from kyodo.labels import label_to_dict
from kyodo.policy import Action, Resource

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext


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
    record_label: Label | None = None,
) -> None:
    """Raise unless the policy allows; the refusal is audited in its own transaction (so it is
    kept even though the caller's work is abandoned). `hide` answers NotFound instead of
    PermissionDenied, for objects the actor may not know exist. The refusal's record carries
    `record_label` (the object's label, when the resource checked is not the object, e.g. a
    role check), else the resource's: only readers of it see the record in full."""
    decision = ctx.decisions.decide(actor.subject, action, resource)
    if decision.allowed:
        return
    async with ctx.db.transaction() as tx:
        await tx.audit.append(
            AuditEntry(
                actor=actor.audit_name,
                action=audit_action,
                object_type=object_type,
                object_id=object_id,
                decision="deny",
                label=label_to_dict(record_label or resource.label, ctx.registry),
                reasons=decision.reasons,
            )
        )
    if hide:
        raise NotFound(f"no {object_type} {object_id!r}")
    raise PermissionDenied(f"{audit_action} refused", decision.reasons)


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
