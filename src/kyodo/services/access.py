"""Authorisation in the service layer: ask the policy, audit a refusal, raise the right error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.audit.chain import AuditEntry
from kyodo.errors import NotFound, PermissionDenied
from kyodo.labels import label_to_dict
from kyodo.policy import Action, Decision, Resource

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


async def enforce(
    ctx: ServiceContext,
    actor: Actor,
    decision: Decision,
    *,
    audit_action: str,
    object_type: str,
    object_id: str,
    label: Label | None = None,
    hide: bool = False,
    not_found: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """The one place a policy decision (`policy.decide` or a rule of `policy.nets`,
    `policy.people`) becomes an answer: on a refusal, audit it in its own transaction (so it
    is kept though the caller's work is abandoned) and raise. `hide` answers NotFound — with
    `not_found`, the very text a missing object gets — for objects the actor may not know
    exist."""
    if decision.allowed:
        return
    await audit_refusal(
        ctx,
        actor,
        audit_action=audit_action,
        object_type=object_type,
        object_id=object_id,
        label=label,
        reasons=decision.reasons,
        details=details,
    )
    if hide:
        raise NotFound(not_found or f"no {object_type} {object_id!r}")
    raise PermissionDenied(f"{audit_action} refused", decision.reasons)


async def audit_refusal(
    ctx: ServiceContext,
    actor: Actor,
    *,
    audit_action: str,
    object_type: str,
    object_id: str,
    label: Label | None,
    reasons: tuple[str, ...],
    details: dict[str, object] | None = None,
) -> None:
    """Record a refusal in its own transaction."""
    async with ctx.db.transaction() as tx:
        await tx.audit.append(
            AuditEntry(
                actor=actor.audit_name,
                action=audit_action,
                object_type=object_type,
                object_id=object_id,
                decision="deny",
                label=None if label is None else label_to_dict(label, ctx.registry),
                reasons=reasons,
                details=dict(details or {}),
            )
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
