"""Loading an action for an actor: hidden like a missing one unless the policy lets them read
its core; the policy's view of it (party orgs and their nations); refusals audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.errors import Conflict, NotFound, PermissionDenied
from kyodo.policy import Decision
from kyodo.policy import actions as action_rules
from kyodo.services.access import audit_refusal, enforce, refusal_entry
from kyodo.services.actions.views import required_nations

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kyodo.domain.actions import Action, Comment, Concurrence, Signature
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Loaded:
    """An action the actor may read, with what its rules need."""

    action: Action
    view: action_rules.ActionView
    concurrences: Sequence[Concurrence]
    signatures: Sequence[Signature]
    comments: Sequence[Comment]
    nations: frozenset[str]


def not_found(action_id: str) -> str:
    return f"no action {action_id!r}"


def policy_view(action: Action, org_nations: Mapping[str, str]) -> action_rules.ActionView:
    return action_rules.ActionView(
        label=action.label,
        creator_id=action.creator_id,
        owner_org=action.owner_org,
        opr_org=action.opr_org,
        ocr_orgs=frozenset(action.ocr_orgs),
        action_officer_id=action.action_officer_id,
        org_nations=dict(org_nations),
    )


async def org_nations(tx: UnitOfWork, org_ids: Sequence[str]) -> dict[str, str]:
    """The nation of each org that exists."""
    found: dict[str, str] = {}
    for org_id in dict.fromkeys(org_ids):
        try:
            found[org_id] = (await tx.orgs.get(org_id)).nation
        except NotFound:
            continue
    return found


async def load(ctx: ServiceContext, actor: Actor, action_id: str, audit_action: str) -> Loaded:
    """The action and its coordination state; NotFound — the answer for a missing one — if
    the actor may not read its core (the refusal audited)."""
    async with ctx.db.transaction(write=False) as tx:
        try:
            action = await tx.actions.get(action_id)
        except NotFound:
            raise NotFound(not_found(action_id)) from None
        nations = await org_nations(tx, action.party_orgs)
        view = policy_view(action, nations)
        decision = action_rules.may_read_action(actor.subject, view)
        if decision:
            loaded = Loaded(
                action,
                view,
                await tx.actions.concurrences(action_id),
                await tx.actions.signatures(action_id),
                await tx.actions.comments(action_id),
                required_nations(action, nations),
            )
    if not decision:
        await enforce(
            ctx,
            actor,
            decision,
            audit_action=audit_action,
            object_type="action",
            object_id=action_id,
            label=action.label,
            hide=True,
            not_found=not_found(action_id),
        )
    return loaded


async def rule(
    ctx: ServiceContext,
    actor: Actor,
    decision: Decision,
    action: Action,
    audit_action: str,
    *,
    label: Label | None = None,
    **details: object,
) -> None:
    """Enforce a rule of `policy.actions` on an action the actor reads: a refusal is audited
    (with the action's core label, or `label`) and answered with its reasons."""
    if decision.allowed:
        return
    entry = refusal_entry(
        ctx,
        actor,
        decision,
        audit_action=audit_action,
        object_type="action",
        object_id=action.id,
        label=action.label if label is None else label,
        **details,
    )
    await audit_refusal(ctx, actor, entry)
    raise PermissionDenied(f"{audit_action} refused", decision.reasons)


async def refuse(
    ctx: ServiceContext,
    actor: Actor,
    action: Action,
    audit_action: str,
    reasons: Sequence[str],
    *,
    conflict: bool = False,
    **details: object,
) -> None:
    """Audit a refusal that is not a party rule (a step the state does not have, an open
    non-concurrence, a missing signature) and answer it: Conflict or PermissionDenied."""
    decision = Decision(False, tuple(reasons), ("state",))
    entry = refusal_entry(
        ctx,
        actor,
        decision,
        audit_action=audit_action,
        object_type="action",
        object_id=action.id,
        label=action.label,
        **details,
    )
    await audit_refusal(ctx, actor, entry)
    if conflict:
        raise Conflict(f"{audit_action} refused: {'; '.join(reasons)}")
    raise PermissionDenied(f"{audit_action} refused", tuple(reasons))


async def locked(tx: UnitOfWork, action: Action) -> Action:
    """The action as stored, locked for this transaction; Conflict if it changed since it was
    read (the checks were made on what was read)."""
    current = await tx.actions.get(action.id, lock=True)
    if current.version != action.version:
        raise Conflict("the action was changed meanwhile: read it again and retry")
    return current
