"""The spillage guard in the message path: refuse, or accept a justified and audited override."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kyodo.audit.chain import AuditEntry
from kyodo.domain.identity import Role
from kyodo.errors import GuardRefused
from kyodo.labels import Label, join_all, label_to_dict, render_marking
from kyodo.services.nets import get_net
from kyodo.spillage import GuardResult, MarkingRule, check

if TYPE_CHECKING:
    from kyodo.domain.identity import Person
    from kyodo.domain.nets import Net
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

MIN_JUSTIFICATION = 15


async def guard_message(
    ctx: ServiceContext,
    actor: Actor,
    net: Net,
    text: str,
    label: Label,
    justification: str | None,
) -> tuple[dict[str, Any], ...]:
    """The findings of an allowed override (empty when the text is clean); GuardRefused
    otherwise. Above the net's ceiling there is no override: the message belongs elsewhere."""
    result = check(text, label, ctx.guard_rules, ctx.registry)
    if not result.refused:
        return ()
    findings = tuple(f.as_dict(ctx.registry) for f in result.findings)
    in_net = suggestion_in_net(ctx, result, net)
    suggested = render_marking(in_net, ctx.registry)
    above_ceiling = not net.ceiling.dominates(in_net)
    may_override = Role.MAY_OVERRIDE.value in actor.subject.roles and not above_ceiling
    if justification is not None and may_override:
        if len(justification.strip()) < MIN_JUSTIFICATION:
            raise GuardRefused(
                f"an override needs a written justification of at least {MIN_JUSTIFICATION} "
                "characters",
                findings,
                suggested,
                overridable=True,
            )
        return findings
    # The record quotes what the guard found and names the net: it is at least as sensitive
    # as the text looks, not as the (too low) label the author gave it.
    record_label = ctx.registry.fit(join_all(label, in_net, net.entry))
    async with ctx.db.transaction() as tx:
        await tx.audit.append(
            AuditEntry(
                actor=actor.audit_name,
                action="message.guard_refused",
                object_type="net",
                object_id=net.id,
                decision="deny",
                label=label_to_dict(record_label, ctx.registry),
                reasons=tuple(f"{f['rule_id']}: {f['text']}" for f in findings),
                details={"suggested": suggested, "net": net.name},
            )
        )
    if above_ceiling:
        message = (
            f"the text looks like {suggested}, above the ceiling of {net.name}: "
            "it belongs in another net"
        )
    elif justification is not None:
        message = "you may not override the spillage guard"
    else:
        message = f"the text looks more sensitive than its label: at least {suggested}"
    raise GuardRefused(message, findings, suggested, overridable=may_override)


def suggestion_in_net(ctx: ServiceContext, result: GuardResult, net: Net) -> Label:
    """The guard's suggestion as a label for this net.

    A level rule raises the message's label but cannot know its releasability when the message
    was unrestricted (UNCLASSIFIED): there the net's ceiling releasability is the sensible one,
    not the scheme's NOFORN default. Markings found in the text keep their own releasability.
    """
    marking_rules = {r.id for r in ctx.guard_rules.rules if isinstance(r, MarkingRule)}
    label = result.label
    rel = label.releasable_to if label.releasable_to is not None else net.ceiling.releasable_to
    suggested = label
    for finding in result.findings:
        minimum = finding.minimum
        if finding.rule_id not in marking_rules and label.releasable_to is None:
            minimum = Label(
                minimum.policy,
                minimum.level,
                minimum.rank,
                minimum.restrictive,
                rel if minimum.rank > 0 else None,
                minimum.informative,
            )
        suggested = suggested.join(minimum)
    return suggested


async def preview(
    ctx: ServiceContext, actor: Actor, text: str, label: Label, net_id: str | None
) -> tuple[GuardResult, Label, Net | None, list[Person]]:
    """What the guard says about a draft, and who would receive it at this label in that net."""
    result = check(text, label, ctx.guard_rules, ctx.registry)
    if net_id is None:
        return result, result.suggested, None, []
    net = await get_net(ctx, actor, net_id)
    async with ctx.db.transaction(write=False) as tx:
        member_ids = [m.person_id for m in await tx.nets.members(net_id)]
        found = await tx.people.get_many(member_ids)
    people = [found[person_id] for person_id in member_ids]
    # Only people whose record the caller may read, as in the directory (`/people`).
    readers = [
        p
        for p in people
        if ctx.decisions.can_read(actor.subject, p.label)
        and ctx.decisions.can_read(p.subject(), label)
    ]
    return result, suggestion_in_net(ctx, result, net), net, readers
