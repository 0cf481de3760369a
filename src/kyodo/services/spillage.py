"""The spillage guard in the message path: refuse, or accept a justified and audited override.

What the guard says is the same on a post and in a preview (`assess`): the findings, the
lowest label the author may use in the net that covers them (`services/guard_advice.py`), or
the level the text needs when the net cannot hold it, whether an override is allowed, and the
reason as a code with parameters (`guard.above_label`…) that each transport words in its
reader's language. A refusal on a post is audited; a preview is not (see `preview`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kyodo.audit.chain import AuditEntry
from kyodo.domain.identity import Role
from kyodo.errors import GuardRefused
from kyodo.labels import Label, join_all, label_to_dict, render_marking
from kyodo.policy import nets as net_rules
from kyodo.services.guard_advice import Advice, Need, NetShape, Verdict, advise
from kyodo.services.nets import list_my_nets
from kyodo.services.nets.access import net_for, net_rule, net_view
from kyodo.spillage import GuardResult, MarkingRule, RuleSet, check

if TYPE_CHECKING:
    from kyodo.domain.identity import Person
    from kyodo.domain.nets import Net
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

MIN_JUSTIFICATION = 15

# The reasons a person is shown, as catalogue keys (web/js_strings.py words them).
ABOVE_LABEL = "guard.above_label"  # {suggested}: raise the label to it
ABOVE_CEILING = "guard.above_ceiling"  # {level, net}: no label in this net covers the text
NOT_FOR_AUTHOR = "guard.not_for_author"  # {level, net}: only at a label the author may not use
NO_OVERRIDE = "guard.no_override"  # a justification from someone who may not override
JUSTIFICATION_SHORT = "guard.justification_short"  # {minimum}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a draft is refused: a catalogue key, its parameters (labels as JSON objects, so
    each reader sees them in their scheme), and the same in English for logs and the API."""

    code: str
    params: dict[str, Any]
    english: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """The guard's answer for one draft in one net."""

    result: GuardResult
    findings: tuple[dict[str, Any], ...]
    advice: Advice
    overridable: bool  # the author holds may_override and the net may hold what was found
    reason: Reason | None = None  # None when the draft passes
    recipients: list[Person] = field(default_factory=list)
    # Where the author may post it instead, when this net cannot carry it: (net, label there).
    elsewhere: list[tuple[Net, Label]] = field(default_factory=list)

    @property
    def suggested(self) -> Label | None:
        """The label to raise the draft to in this net; None where the net cannot hold it."""
        return self.advice.label


async def assess(
    ctx: ServiceContext, actor: Actor, net: Net, text: str, label: Label
) -> Assessment:
    """The guard's findings and advice for `text` at `label` in `net` (nothing stored)."""
    result = check(text, label, ctx.guard_rules, ctx.registry)
    if not result.findings:  # the common case on the post path: nothing more to work out
        return Assessment(result, (), _passes(label), overridable=False)
    marking_rules = marking_rule_ids(ctx.guard_rules)
    findings = tuple(
        {**f.as_dict(ctx.registry), "marking": f.rule_id in marking_rules} for f in result.findings
    )
    if not result.refused:
        return Assessment(result, findings, _passes(label), overridable=False)
    needs = needs_of(result, marking_rules)
    shape = NetShape(net.name, net.ceiling, await _partners(ctx, net))
    nation = actor.subject.nation

    def may_read(candidate: Label) -> bool:
        return ctx.decisions.can_read(actor.subject, candidate)

    advice = advise(
        ctx.registry,
        label,
        needs,
        shape,
        author_nation=nation,
        may_read=may_read,
        fallback=ctx.registry.fit(result.suggested),
    )
    # An override keeps the author's own label: it says the guard misread the words (a level
    # rule's inference), so it is offered even where the net could not hold the text's
    # suggested level. A marking written in the text is the text's own claim: above what the
    # net may hold, or what the author may read, no override passes it.
    markings_fit = all(
        net.ceiling.dominates(f.minimum) and may_read(f.minimum)
        for f in result.findings
        if f.rule_id in marking_rules and f.above_label
    )
    overridable = Role.MAY_OVERRIDE.value in actor.subject.roles and markings_fit
    reason = _reason(ctx, net, advice)
    return Assessment(result, findings, advice, overridable, reason)


def _passes(label: Label) -> Advice:
    """The advice for a draft that passes: its own label."""
    return Advice(Verdict.IN_NET, label, label, keeps_partners=True)


def needs_of(result: GuardResult, marking_rules: set[str]) -> list[Need]:
    """What each finding asks of the label. A marking written in the text says to whom it may
    go; a level rule says only how sensitive the words are (its minimum's releasability is
    the message's or the scheme's default, not something the text asked for)."""
    return [
        Need(
            f.minimum.rank,
            f.minimum.restrictive,
            f.minimum.releasable_to if f.rule_id in marking_rules else None,
        )
        for f in result.findings
    ]


def marking_rule_ids(rules: RuleSet) -> set[str]:
    """The ids of the rules that find markings written in the text."""
    return {r.id for r in rules.rules if isinstance(r, MarkingRule)}


def _reason(ctx: ServiceContext, net: Net, advice: Advice) -> Reason:
    needed = render_marking(advice.needed, ctx.registry)
    if advice.label is not None:
        suggested = render_marking(advice.label, ctx.registry)
        return Reason(
            ABOVE_LABEL,
            {"suggested": label_to_dict(advice.label, ctx.registry)},
            f"the text looks more sensitive than its label: at least {suggested}",
        )
    params = {"level": label_to_dict(advice.needed, ctx.registry), "net": net.name}
    if advice.verdict is Verdict.NOT_FOR_AUTHOR:
        return Reason(
            NOT_FOR_AUTHOR,
            params,
            f"the text needs {needed}, a label you may not use: it belongs in another net, "
            f"not in {net.name}",
        )
    return Reason(
        ABOVE_CEILING,
        params,
        f"the text looks like {needed}, above the ceiling of {net.name}: it belongs in "
        f"another net at that level, not here",
    )


async def _partners(ctx: ServiceContext, net: Net) -> frozenset[str]:
    """The nations of the net's members: those a suggestion should keep."""
    async with ctx.db.transaction(write=False) as tx:
        member_ids = [m.person_id for m in await tx.nets.members(net.id)]
        people = await tx.people.get_many(member_ids)
    return frozenset(p.nation for p in people.values())


async def guard_message(
    ctx: ServiceContext,
    actor: Actor,
    net: Net,
    text: str,
    label: Label,
    justification: str | None,
) -> tuple[dict[str, Any], ...]:
    """The findings of an allowed override (empty when the text is clean); GuardRefused,
    audited, otherwise."""
    found = await assess(ctx, actor, net, text, label)
    if found.reason is None:
        return ()
    reason = found.reason
    refused_override: Reason | None = None
    if justification is not None:
        if not found.overridable:
            if Role.MAY_OVERRIDE.value not in actor.subject.roles:
                refused_override = Reason(
                    NO_OVERRIDE, {}, "you may not override the spillage guard"
                )
            # else: what the text carries is beyond the net (the reason says where it goes)
        elif len(justification.strip()) < MIN_JUSTIFICATION:
            refused_override = Reason(
                JUSTIFICATION_SHORT,
                {"minimum": MIN_JUSTIFICATION},
                f"an override needs a written justification of at least {MIN_JUSTIFICATION} "
                "characters",
            )
        else:
            return found.findings
    await _audit_refusal(ctx, actor, net, label, found, refused_override)
    raise GuardRefused(
        (refused_override or reason).english,
        found.findings,
        None if found.suggested is None else render_marking(found.suggested, ctx.registry),
        overridable=found.overridable,
        reason=reason.code,
        params=reason.params,
        needed=render_marking(found.advice.needed, ctx.registry),
        override_reason=None if refused_override is None else refused_override.code,
        override_params=None if refused_override is None else refused_override.params,
    )


async def _audit_refusal(
    ctx: ServiceContext,
    actor: Actor,
    net: Net,
    label: Label,
    found: Assessment,
    refused_override: Reason | None,
) -> None:
    # The record quotes what the guard found and names the net: it is at least as sensitive
    # as the text looks, not as the (too low) label the author gave it. Its own transaction,
    # so that it survives the refused post.
    record_label = ctx.registry.fit(join_all(label, found.advice.needed, net.entry))
    suggested = found.suggested
    async with ctx.db.transaction() as tx:
        await tx.audit.append(
            AuditEntry(
                actor=actor.audit_name,
                action="message.guard_refused",
                object_type="net",
                object_id=net.id,
                decision="deny",
                label=label_to_dict(record_label, ctx.registry),
                reasons=tuple(f"{f['rule_id']}: {f['text']}" for f in found.findings),
                details={
                    "reason": None if found.reason is None else found.reason.code,
                    "override_refused": None if refused_override is None else refused_override.code,
                    "suggested": None
                    if suggested is None
                    else render_marking(suggested, ctx.registry),
                    "needed": render_marking(found.advice.needed, ctx.registry),
                    "net": net.name,
                },
            )
        )


async def preview(
    ctx: ServiceContext, actor: Actor, text: str, label: Label, net_id: str | None
) -> tuple[GuardResult, Assessment | None]:
    """What the guard says about a draft and, in a net, its advice and who would receive it
    at this label.

    Not audited: a preview stores and changes nothing, runs at every pause in typing, and
    tells the author only what the guard finds in their own words and which members they may
    already see would receive it. What is audited is the refusal of a post (`guard_message`).
    """
    if net_id is None:
        return check(text, label, ctx.guard_rules, ctx.registry), None
    # For the net's members only: an overseer who may see a net (not read it) must not learn
    # from the preview which members would receive a label.
    net, member = await net_for(ctx, actor, net_id)
    await net_rule(
        ctx,
        actor,
        net_rules.may_read_messages(actor.subject, net_view(net, member)),
        net,
        "guard.check",
        hide=True,
    )
    found = await assess(ctx, actor, net, text, label)
    async with ctx.db.transaction(write=False) as tx:
        member_ids = [m.person_id for m in await tx.nets.members(net_id)]
        people = await tx.people.get_many(member_ids)
    # Only people whose record the caller may read, as in the directory (`/people`).
    readers = [
        people[person_id]
        for person_id in member_ids
        if ctx.decisions.can_read(actor.subject, people[person_id].label)
        and ctx.decisions.can_read(people[person_id].subject(), label)
    ]
    elsewhere = (
        [] if found.advice.label is not None else await _elsewhere(ctx, actor, net, text, label)
    )
    return found.result, replace(found, recipients=readers, elsewhere=elsewhere)


MAX_ELSEWHERE = 5


async def _elsewhere(
    ctx: ServiceContext, actor: Actor, here: Net, text: str, label: Label
) -> list[tuple[Net, Label]]:
    """The author's other nets that can carry the text at a label the author may use, where
    the author may post, each with that label (at most a few)."""
    found: list[tuple[Net, Label]] = []
    for candidate in await list_my_nets(ctx, actor):
        if candidate.id == here.id or not candidate.ceiling.dominates(label):
            continue
        net, member = await net_for(ctx, actor, candidate.id, cached=True)
        if not net_rules.may_post(actor.subject, net_view(net, member)):
            continue
        there = await assess(ctx, actor, net, text, label)
        if there.suggested is not None:
            found.append((net, there.suggested))
        if len(found) == MAX_ELSEWHERE:
            break
    return found
