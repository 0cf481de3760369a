"""Staffing an action: comments and the OPR's decisions on them, each office's concurrence,
escalating a non-concurrence, and each nation's signature."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

from kyodo.domain.actions import (
    ESCALATION_ORDER,
    MACHINES,
    ActionKind,
    Comment,
    CommentDecision,
    CommentType,
    ConcurAnswer,
    Concurrence,
    EscalationLevel,
    NonConcurStatus,
    Signature,
)
from kyodo.errors import InvalidInput
from kyodo.policy import actions as action_rules
from kyodo.services.access import audit_entry
from kyodo.services.actions.access import Loaded, load, locked, refuse, rule
from kyodo.services.actions.notify import notify

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

MAX_TEXT = 20000


async def _open(ctx: ServiceContext, actor: Actor, action_id: str, audit_action: str) -> Loaded:
    loaded = await load(ctx, actor, action_id, audit_action)
    action = loaded.action
    if action.state in MACHINES[action.kind].terminal:
        await refuse(
            ctx, actor, action, audit_action, [f"the action is {action.state}"], conflict=True
        )
    return loaded


async def add_comment(
    ctx: ServiceContext,
    actor: Actor,
    action_id: str,
    *,
    type: CommentType,
    location: str,
    text: str,
    rationale: str,
    label: Label | None = None,
    org_id: str | None = None,
) -> Comment:
    """A comment for the commenter's own office (a party org), at a label they read."""
    loaded = await _open(ctx, actor, action_id, "action.comment")
    action = loaded.action
    if not text.strip():
        raise InvalidInput("a comment needs a text")
    if max(len(location), len(text), len(rationale)) > MAX_TEXT:
        raise InvalidInput(f"a comment's parts are at most {MAX_TEXT} characters")
    office = org_id or actor.subject.org or ""
    label = label or action.label
    decision = action_rules.may_comment(actor.subject, loaded.view, office, label)
    await rule(ctx, actor, decision, action, "action.comment")
    comment = Comment(
        id=uuid.uuid4().hex,
        action_id=action.id,
        org_id=office,
        author_id=actor.subject.id,
        type=type,
        location=location,
        text=text,
        rationale=rationale,
        label=label,
        created_at=ctx.clock(),
    )
    async with ctx.db.transaction() as tx:
        await tx.actions.add_comment(comment)
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "action.comment",
                "action",
                action.id,
                action.label.join(label),
                comment_id=comment.id,
                type=type.value,
                org_id=office,
            )
        )
    return comment


async def decide_comment(
    ctx: ServiceContext,
    actor: Actor,
    action_id: str,
    comment_id: str,
    decision: CommentDecision,
    reason: str = "",
) -> Comment:
    """The OPR accepts or rejects (with a reason) a comment they read, once."""
    loaded = await _open(ctx, actor, action_id, "action.decide_comment")
    action = loaded.action
    found = next((c for c in loaded.comments if c.id == comment_id), None)
    if found is None:
        raise InvalidInput(f"the action has no comment {comment_id!r}")
    allowed = action_rules.may_decide_comment(actor.subject, loaded.view)
    await rule(ctx, actor, allowed, action, "action.decide_comment", comment_id=comment_id)
    if not ctx.decisions.can_read(actor.subject, found.label):
        await refuse(
            ctx,
            actor,
            action,
            "action.decide_comment",
            ["the comment is withheld from you: it cannot be decided blind"],
        )
    if found.decision is not None:
        await refuse(
            ctx,
            actor,
            action,
            "action.decide_comment",
            [f"the comment was {found.decision.value} already"],
            conflict=True,
        )
    if decision is CommentDecision.REJECTED and len(reason.strip()) < 3:
        raise InvalidInput("a rejected comment needs a reason")
    if len(reason) > MAX_TEXT:
        raise InvalidInput(f"a reason is at most {MAX_TEXT} characters")
    decided = replace(
        found,
        decision=decision,
        decision_reason=reason,
        decided_by=actor.subject.id,
        decided_at=ctx.clock(),
    )
    async with ctx.db.transaction() as tx:
        await locked(tx, action)
        await tx.actions.update_comment(decided)
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "action.decide_comment",
                "action",
                action.id,
                action.label.join(found.label),
                comment_id=comment_id,
                decision=decision.value,
            )
        )
    return decided


async def concur(
    ctx: ServiceContext,
    actor: Actor,
    action_id: str,
    answer: ConcurAnswer,
    comment_id: str | None = None,
) -> Concurrence:
    """A coordinating office answers through one of its people. A non-concurrence rests on
    a critical comment of that office and stays open until the office concurs after all
    (resolved) or the owner or OPR escalates it."""
    loaded = await _open(ctx, actor, action_id, "action.concur")
    action = loaded.action
    office = actor.subject.org or ""
    decision = action_rules.may_concur(actor.subject, loaded.view, office)
    await rule(ctx, actor, decision, action, "action.concur")
    previous = next((c for c in loaded.concurrences if c.org_id == office), None)
    status: NonConcurStatus | None = None
    if answer is ConcurAnswer.NON_CONCUR:
        critical = next(
            (
                c
                for c in loaded.comments
                if c.id == comment_id and c.org_id == office and c.type is CommentType.CRITICAL
            ),
            None,
        )
        if critical is None:
            await refuse(
                ctx,
                actor,
                action,
                "action.concur",
                ["a non-concurrence needs a critical comment of your office"],
            )
        status = NonConcurStatus.OPEN
    elif answer is ConcurAnswer.CONCUR_WITH_COMMENT and not any(
        c.org_id == office for c in loaded.comments
    ):
        await refuse(
            ctx,
            actor,
            action,
            "action.concur",
            ["a concurrence with comment needs a comment of your office"],
        )
    if (
        answer is not ConcurAnswer.NON_CONCUR
        and previous is not None
        and (previous.answer is ConcurAnswer.NON_CONCUR)
    ):
        status = NonConcurStatus.RESOLVED
    found = Concurrence(
        action_id=action.id,
        org_id=office,
        answer=answer,
        person_id=actor.subject.id,
        at=ctx.clock(),
        comment_id=comment_id if answer is ConcurAnswer.NON_CONCUR else None,
        status=status,
        level=EscalationLevel.WORKING if previous is None else previous.level,
    )
    async with ctx.db.transaction() as tx:
        current = await locked(tx, action)
        await tx.actions.put_concurrence(found)
        await tx.actions.update(replace(current, version=current.version + 1))
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "action.concur",
                "action",
                action.id,
                action.label,
                org_id=office,
                answer=answer.value,
                status=None if status is None else status.value,
            )
        )
    if answer is ConcurAnswer.NON_CONCUR:
        await notify(ctx, actor, action, f"non-concurrence of {office}")
    return found


async def escalate(
    ctx: ServiceContext, actor: Actor, action_id: str, org_id: str, reason: str
) -> Concurrence:
    """The owner or OPR takes an office's non-concurrence up one level (working → bilateral
    operations coordination → Joint Committee, the last for SOFA items only); it then no
    longer stops the action at the working level."""
    loaded = await _open(ctx, actor, action_id, "action.escalate")
    action = loaded.action
    decision = action_rules.may_escalate(actor.subject, loaded.view)
    await rule(ctx, actor, decision, action, "action.escalate", org_id=org_id)
    found = next((c for c in loaded.concurrences if c.org_id == org_id), None)
    if found is None or found.answer is not ConcurAnswer.NON_CONCUR:
        raise InvalidInput(f"{org_id} has no non-concurrence to escalate")
    if len(reason.strip()) < 3:
        raise InvalidInput("an escalation needs a reason")
    at = ESCALATION_ORDER.index(found.level)
    top = len(ESCALATION_ORDER) - (1 if action.kind is ActionKind.FACILITY_ACCESS else 2)
    if at + 1 > top:
        await refuse(
            ctx,
            actor,
            action,
            "action.escalate",
            [f"a non-concurrence goes no higher than {ESCALATION_ORDER[top].value} for this kind"],
            conflict=True,
        )
    level = ESCALATION_ORDER[at + 1]
    escalated = replace(found, status=NonConcurStatus.ESCALATED, level=level, at=ctx.clock())
    async with ctx.db.transaction() as tx:
        current = await locked(tx, action)
        await tx.actions.put_concurrence(escalated)
        mutual = current.mutual_consent or level is EscalationLevel.JOINT_COMMITTEE
        await tx.actions.update(
            replace(current, version=current.version + 1, mutual_consent=mutual)
        )
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "action.escalate",
                "action",
                action.id,
                action.label,
                org_id=org_id,
                level=level.value,
                reason=reason,
            )
        )
    await notify(ctx, actor, action, f"non-concurrence of {org_id} escalated to {level.value}")
    return escalated


async def sign(ctx: ServiceContext, actor: Actor, action_id: str) -> Signature:
    """An approver signs a bilateral action for their own nation, in their own chain, having
    read all of it; one signature per nation and round, before the approval step."""
    loaded = await _open(ctx, actor, action_id, "action.sign")
    action = loaded.action
    if not action.bilateral:
        await refuse(
            ctx,
            actor,
            action,
            "action.sign",
            ["only a bilateral action is signed by each nation"],
            conflict=True,
        )
    nation = actor.subject.nation
    decision = action_rules.may_sign(actor.subject, loaded.view, nation, loaded.nations)
    await rule(ctx, actor, decision, action, "action.sign", nation=nation)
    if not ctx.decisions.can_read(actor.subject, action.whole_label):
        await refuse(
            ctx,
            actor,
            action,
            "action.sign",
            ["part of the action is withheld from you: nobody signs blind"],
        )
    if action.state in MACHINES[action.kind].approved:
        await refuse(
            ctx,
            actor,
            action,
            "action.sign",
            [f"the action is {action.state}: past approval"],
            conflict=True,
        )
    if any(s.nation == nation and s.round == action.round for s in loaded.signatures):
        await refuse(
            ctx,
            actor,
            action,
            "action.sign",
            [f"{nation} has signed this round already"],
            conflict=True,
        )
    signature = Signature(
        action_id=action.id,
        nation=nation,
        person_id=actor.subject.id,
        org_id=actor.subject.org or "",
        at=ctx.clock(),
        round=action.round,
    )
    async with ctx.db.transaction() as tx:
        current = await locked(tx, action)
        await tx.actions.add_signature(signature)
        await tx.actions.update(replace(current, version=current.version + 1))
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "action.sign",
                "action",
                action.id,
                action.label,
                nation=nation,
                round=action.round,
            )
        )
    await notify(ctx, actor, action, f"signed for {nation}")
    return signature
