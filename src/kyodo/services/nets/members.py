"""Membership of nets: vetted against the entry label by the policy, for admins as for anyone."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from kyodo.audit.chain import AuditEntry
from kyodo.bus.events import MembershipChanged, SubjectChanged
from kyodo.domain.nets import Member, Net, NetRole
from kyodo.errors import InvalidInput, NotFound, PermissionDenied
from kyodo.labels import join_all, label_to_dict
from kyodo.policy import Action, Decision, Resource, decide
from kyodo.services.access import audit_entry, audit_refusal, refusal_entry
from kyodo.services.nets.access import net_for, require_manager

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kyodo.domain.identity import Person
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import UnitOfWork

SYSTEM = "system"


async def list_members(ctx: ServiceContext, actor: Actor, net_id: str) -> Sequence[Member]:
    """The members of a net the actor belongs to."""
    await net_for(ctx, actor, net_id)
    async with ctx.db.transaction(write=False) as tx:
        return await tx.nets.members(net_id)


def join_decision(person: Person, net: Net) -> Decision:
    """The policy's JOIN of the person against the net's entry label."""
    return decide(person.subject(), Action.JOIN, Resource(net.entry, container=net.container()))


def membership_decision(person: Person, net: Net) -> tuple[bool, tuple[str, ...]]:
    """Whether the person may be a member (the policy's JOIN against the entry label)."""
    decision = join_decision(person, net)
    return decision.allowed, decision.reasons


async def add_member(
    ctx: ServiceContext, actor: Actor, net_id: str, person_id: str, role: NetRole = NetRole.MEMBER
) -> Member:
    """Add a person if — and only if — the policy says they can read the net's entry label.

    No role bypasses this: the refusal names the failing property and is audited.
    """
    net, member = await net_for(ctx, actor, net_id)
    await require_manager(ctx, actor, net, member, "net.add_member")
    refusal: tuple[Person, Net, tuple[str, ...]] | None = None
    async with ctx.db.transaction() as tx:
        # The decision and the insert share one transaction, under a lock on the net: an
        # entry label raised meanwhile is seen here, or waits for this to commit.
        net = await tx.nets.get(net_id, lock=True)
        try:
            person = await tx.people.get(person_id)
        except NotFound:
            raise InvalidInput(f"no person {person_id!r}") from None
        # A person whose record the caller may not read answers like one who does not exist.
        hidden = not ctx.decisions.can_read(actor.subject, person.label)
        joining = join_decision(person, net)
        allowed, reasons = joining.allowed, joining.reasons
        if hidden:
            refusal = (person, net, ("the caller may not read this person's record",))
        elif allowed and person.active:
            new = Member(net.id, person.id, role, ctx.clock())
            await tx.nets.add_member(new)
            await tx.audit.append(
                audit_entry(
                    ctx,
                    actor,
                    "net.add_member",
                    "net",
                    net.id,
                    net.entry,
                    person=person.username,
                    person_id=person.id,
                    role=role.value,
                )
            )
            tx.after_commit(partial(ctx.reads.forget_member, net.id))
            tx.publish(MembershipChanged(net.id, person.id, joined=True))
        else:
            refusal = (person, net, reasons if not allowed else ("the account is disabled",))
    if refusal is not None:
        person, net, reasons = refusal
        await audit_refusal(
            ctx,
            actor,
            refusal_entry(
                ctx,
                actor,
                Decision(False, reasons),
                audit_action="net.add_member",
                object_type="net",
                object_id=net.id,
                label=ctx.registry.fit(join_all(net.entry, person.label)),  # names both
                person=person.username,
                person_id=person.id,
                net=net.name,
            ),
        )
        if hidden:
            raise InvalidInput(f"no person {person_id!r}")
        codes = tuple(r.as_dict() for r in joining.codes) if not hidden and not allowed else ()
        raise PermissionDenied(f"{person.username} cannot join {net.name}", reasons, codes)
    return new


async def remove_member(ctx: ServiceContext, actor: Actor, net_id: str, person_id: str) -> None:
    """Owners and admins remove a member; anyone may leave."""
    net, member = await net_for(ctx, actor, net_id)
    if person_id != actor.subject.id:
        await require_manager(ctx, actor, net, member, "net.remove_member")
    async with ctx.db.transaction() as tx:
        if not await tx.nets.remove_member(net_id, person_id):
            raise NotFound("not a member of this net")
        await tx.audit.append(
            audit_entry(ctx, actor, "net.remove_member", "net", net_id, net.entry, person=person_id)
        )
        tx.after_commit(partial(ctx.reads.forget_member, net_id))
        tx.publish(MembershipChanged(net_id, person_id, joined=False, reason="removed"))


async def revalidate_memberships(tx: UnitOfWork, ctx: ServiceContext, person: Person) -> list[str]:
    """In the transaction that changed a person's clearance, nation or grants: remove them
    (audited) from every net whose entry label they no longer read, and tell live connections
    once it has committed. Returns the net ids."""
    removed: list[str] = []
    for membership in await tx.nets.memberships(person.id):
        net = await tx.nets.get(membership.net_id, lock=True)
        allowed, reasons = membership_decision(person, net)
        if allowed:
            continue
        await tx.nets.remove_member(net.id, person.id)
        await tx.audit.append(
            AuditEntry(
                actor=SYSTEM,
                action="net.member_removed",
                object_type="net",
                object_id=net.id,
                decision="deny",
                label=label_to_dict(net.entry, ctx.registry),
                reasons=reasons,
                details={"person": person.username, "person_id": person.id, "net": net.name},
            )
        )
        removed.append(net.id)
    tx.after_commit(partial(ctx.reads.forget_person, person.id))
    tx.publish(SubjectChanged(person.subject()))
    for net_id in removed:
        tx.publish(
            MembershipChanged(
                net_id, person.id, joined=False, reason="no longer cleared for this net"
            )
        )
    return removed
