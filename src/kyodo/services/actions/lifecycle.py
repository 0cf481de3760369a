"""Actions created, their fields edited, and their state moved along the kind's machine."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kyodo.domain.actions import (
    ACTION_TYPES,
    LEGAL_BASES,
    MACHINES,
    Action,
    ActionKind,
    LabelledField,
    Priority,
    Transition,
    field_names,
    parse_time,
    past_deadline,
    step_blockers,
)
from kyodo.errors import InvalidInput, LabelError, NotFound
from kyodo.labels import parse_marking, render_marking
from kyodo.policy import actions as action_rules
from kyodo.services.access import audit_entry
from kyodo.services.actions.access import (
    load,
    locked,
    policy_view,
    refuse,
    rule,
)
from kyodo.services.actions.notify import notify
from kyodo.services.actions.views import required_nations

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

MAX_VALUE_CHARS = 20000
DATE_FIELDS = frozenset({"suspense", "ltiov", "required_delivery_date"})


@dataclass(frozen=True, slots=True)
class NewAction:
    """What a creator gives. Field labels default to the core label."""

    kind: ActionKind
    label: Label
    owner_org: str
    fields: Mapping[str, tuple[object, Label | None]]
    priority: Priority = Priority.ROUTINE
    opr_org: str | None = None
    ocr_orgs: tuple[str, ...] = ()
    action_officer_id: str | None = None
    owning_net_id: str | None = None
    bilateral: bool = False
    mutual_consent: bool | None = None  # None: Joint Committee items (jc_reference) consent


def _value(name: str, raw: object) -> object:
    """A field's value checked: JSON scalars or a list of strings, dates ISO 8601, the
    closed vocabularies respected."""
    ok = raw is None or isinstance(raw, str | int | float | bool)
    if isinstance(raw, list):
        ok = all(isinstance(v, str) for v in raw)
    if not ok:
        raise InvalidInput(f"field {name}: a value is text, a number, true/false or a list of text")
    if len(json.dumps(raw, ensure_ascii=False)) > MAX_VALUE_CHARS:
        raise InvalidInput(f"field {name}: longer than {MAX_VALUE_CHARS} characters")
    if name in DATE_FIELDS and raw not in (None, "") and parse_time(raw) is None:  # type: ignore[arg-type]
        raise InvalidInput(f"field {name}: an ISO 8601 date-time, e.g. 2026-12-24T09:00:00Z")
    if name == "action_type" and raw is not None and raw not in ACTION_TYPES:
        raise InvalidInput(f"field action_type: one of {', '.join(ACTION_TYPES)}")
    if name == "legal_basis" and raw is not None and raw not in LEGAL_BASES:
        raise InvalidInput(f"field legal_basis: one of {', '.join(LEGAL_BASES)}")
    return raw


def _fields(
    kind: ActionKind, given: Mapping[str, tuple[object, Label | None]], default: Label
) -> dict[str, LabelledField]:
    allowed = field_names(kind)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise InvalidInput(f"a {kind.value} has no field {', '.join(unknown)}")
    return {
        name: LabelledField(_value(name, value), label or default)  # type: ignore[arg-type]
        for name, (value, label) in given.items()
    }


def check_answer_ceiling(ctx: ServiceContext, fields: Mapping[str, LabelledField]) -> None:
    """An RFI's answer carries at most the label its asker set as the answer's ceiling."""
    ceiling = fields.get("answer_ceiling")
    if ceiling is None or not ceiling.value:
        return
    if not isinstance(ceiling.value, str):
        raise InvalidInput("field answer_ceiling: a marking, e.g. SECRET//REL TO USA, JPN")
    try:
        limit = parse_marking(ceiling.value, ctx.registry)
    except LabelError as error:
        raise InvalidInput(f"field answer_ceiling: {error.message}") from None
    answer = fields.get("answer")
    if answer is not None and not limit.dominates(answer.label):
        raise InvalidInput("the answer's label is above the answer ceiling the asker set")


async def _check_refs(ctx: ServiceContext, actor: Actor, new: NewAction) -> dict[str, str]:
    """Every org named exists and is one the actor may know (a hidden one answers like a
    missing one); the action officer exists; the owning net is one the actor sees."""
    from kyodo.services.nets.access import net_for

    orgs = [new.owner_org, *([new.opr_org] if new.opr_org else []), *new.ocr_orgs]
    if len(set(orgs)) != len(orgs):
        raise InvalidInput("the owner, the OPR and the OCRs are different organisations")
    nations: dict[str, str] = {}
    async with ctx.db.transaction(write=False) as tx:
        for org_id in orgs:
            try:
                org = await tx.orgs.get(org_id)
            except NotFound:
                org = None
            if org is None or not ctx.decisions.can_read(actor.subject, org.label):
                raise InvalidInput(f"organisation {org_id!r} does not exist")
            nations[org_id] = org.nation
        if new.action_officer_id is not None:
            try:
                person = await tx.people.get(new.action_officer_id)
            except NotFound:
                person = None
            if person is None or not ctx.decisions.can_read(actor.subject, person.label):
                raise InvalidInput(f"person {new.action_officer_id!r} does not exist")
    if new.owning_net_id is not None:
        try:
            net, _ = await net_for(ctx, actor, new.owning_net_id)
        except NotFound:
            raise InvalidInput(f"net {new.owning_net_id!r} does not exist") from None
        if not net.ceiling.dominates(new.label):
            raise InvalidInput(f"the action's label is above the ceiling of {net.name}")
    return nations


async def create_action(ctx: ServiceContext, actor: Actor, new: NewAction) -> Action:
    """A new action in its kind's first state; the creator, of the owning command, reads every
    label they give it. A bilateral action names party orgs of two nations or more."""
    fields = _fields(new.kind, new.fields, new.label)
    if new.kind is ActionKind.RFI:
        check_answer_ceiling(ctx, fields)
    title = fields.get("title")
    if title is None or not isinstance(title.value, str) or not title.value.strip():
        raise InvalidInput("an action needs a title")
    nations = await _check_refs(ctx, actor, new)
    now = ctx.clock()
    mutual = new.mutual_consent
    if mutual is None:
        mutual = "jc_reference" in fields and bool(fields["jc_reference"].value)
    action = Action(
        id=uuid.uuid4().hex,
        kind=new.kind,
        owner_org=new.owner_org,
        creator_id=actor.subject.id,
        label=new.label,
        state=MACHINES[new.kind].initial,
        priority=new.priority,
        created_at=now,
        updated_at=now,
        fields=fields,
        opr_org=new.opr_org,
        ocr_orgs=new.ocr_orgs,
        action_officer_id=new.action_officer_id,
        owning_net_id=new.owning_net_id,
        bilateral=new.bilateral,
        mutual_consent=mutual,
    )
    if new.bilateral and len(required_nations(action, nations)) < 2:
        raise InvalidInput("a bilateral action names party organisations of two nations")
    view = policy_view(action, nations)
    decision = action_rules.may_create(actor.subject, view, [f.label for f in fields.values()])
    await rule(ctx, actor, decision, action, "action.create", label=action.whole_label)
    async with ctx.db.transaction() as tx:
        await tx.actions.add(action)
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "action.create",
                "action",
                action.id,
                action.whole_label,
                kind=action.kind.value,
                state=action.state,
                bilateral=action.bilateral,
                fields={n: render_marking(f.label, ctx.registry) for n, f in fields.items()},
            )
        )
    await notify(ctx, actor, action, f"created by {actor.name}")
    return action


async def edit_fields(
    ctx: ServiceContext,
    actor: Actor,
    action_id: str,
    changes: Mapping[str, tuple[object, Label | None]],
    *,
    priority: Priority | None = None,
) -> Action:
    """The owner or OPR changes field values (and labels, never lowered), only of fields they
    read, while the action is open."""
    loaded = await load(ctx, actor, action_id, "action.edit")
    action = loaded.action
    if action.state in MACHINES[action.kind].terminal:
        await refuse(
            ctx, actor, action, "action.edit", [f"the action is {action.state}"], conflict=True
        )
    allowed = field_names(action.kind)
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidInput(f"a {action.kind.value} has no field {', '.join(unknown)}")
    fields = dict(action.fields)
    for name, (raw, label) in sorted(changes.items()):
        current = action.fields.get(name)
        new_label = label or (action.label if current is None else current.label)
        decision = action_rules.may_edit_field(
            actor.subject, loaded.view, None if current is None else current.label, new_label
        )
        await rule(ctx, actor, decision, action, "action.edit", field=name)
        fields[name] = LabelledField(_value(name, raw), new_label)  # type: ignore[arg-type]
    if action.kind is ActionKind.RFI:
        check_answer_ceiling(ctx, fields)
    if "title" in changes and not str(fields["title"].value or "").strip():
        raise InvalidInput("an action needs a title")
    if priority is not None:
        decision = action_rules.may_edit_field(actor.subject, loaded.view, None, action.label)
        await rule(ctx, actor, decision, action, "action.edit", field="priority")
    async with ctx.db.transaction() as tx:
        stored = await locked(tx, action)
        after = replace(
            stored,
            fields=fields,
            priority=priority or stored.priority,
            version=stored.version + 1,
            updated_at=ctx.clock(),
        )
        await tx.actions.update(after)
        changed = {n: render_marking(fields[n].label, ctx.registry) for n in sorted(changes)}
        label = after.label
        for n in changes:
            label = label.join(fields[n].label)
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "action.edit",
                "action",
                action.id,
                label,
                fields=changed,
                priority=None if priority is None else priority.value,
            )
        )
    return after


async def transition(
    ctx: ServiceContext, actor: Actor, action_id: str, step_name: str, reason: str = ""
) -> Action:
    """Take a step of the action's machine: the state must have it, the actor be one of its
    parties, no open non-concurrence may stop an advance, and a bilateral action enters its
    approved states only with every nation's signature of this round."""
    loaded = await load(ctx, actor, action_id, "action.transition")
    action = loaded.action
    machine = MACHINES[action.kind]
    step = machine.step(action.state, step_name)
    if step is None:
        await refuse(
            ctx,
            actor,
            action,
            "action.transition",
            [f"no step {step_name!r} from {action.state}"],
            conflict=True,
            step=step_name,
        )
        raise AssertionError("unreachable")
    decision = action_rules.may_take_step(actor.subject, loaded.view, step.name, step.parties)
    await rule(ctx, actor, decision, action, "action.transition", step=step.name)
    blockers = step_blockers(action, step, loaded.concurrences, loaded.signatures, loaded.nations)
    if action.kind is ActionKind.RFI and step.name == "answer":
        ltiov = action.fields.get("ltiov")
        if ltiov is not None and past_deadline(action, ltiov.value, ctx.clock()):
            readable = ctx.decisions.can_read(actor.subject, ltiov.label)
            blockers.append(
                "the RFI has expired: its LTIOV has passed"
                if readable
                else "the RFI cannot be answered now (a condition on a field withheld from you)"
            )
    if blockers:
        await refuse(ctx, actor, action, "action.transition", blockers, step=step.name)
    async with ctx.db.transaction() as tx:
        current = await locked(tx, action)
        now = ctx.clock()
        after = replace(
            current,
            state=step.target,
            round=current.round + 1 if step.reopens else current.round,
            mutual_consent=current.mutual_consent or step.target == "JC_AGENDA",
            version=current.version + 1,
            updated_at=now,
        )
        await tx.actions.update(after)
        await tx.actions.add_transition(
            Transition(
                action.id, actor.subject.id, now, action.state, step.target, step.name, reason
            )
        )
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "action.transition",
                "action",
                action.id,
                action.label,
                step=step.name,
                source=action.state,
                target=step.target,
            )
        )
    await notify(ctx, actor, after, f"{step.name} by {actor.name}")
    return after
