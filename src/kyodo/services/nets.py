"""Nets and membership: vetted against the entry label by the policy, for admins as for anyone."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from kyodo.audit.chain import AuditEntry
from kyodo.bus.events import MembershipChanged, SubjectChanged
from kyodo.domain.nets import Member, Net, NetRole
from kyodo.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from kyodo.labels import join_all, label_to_dict, render_marking
from kyodo.policy import Action, Decision, Resource, decide
from kyodo.policy import nets as net_rules
from kyodo.policy.nets import NetView
from kyodo.services.access import audit_entry, audit_refusal, enforce, refusal_entry, require

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kyodo.domain.identity import Person
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import UnitOfWork

_NAME = re.compile(r"^[\w][\w .\-/()]{0,99}$")
SYSTEM = "system"


async def create_net(
    ctx: ServiceContext,
    actor: Actor,
    *,
    name: str,
    ceiling: Label,
    entry: Label | None = None,
    default_label: Label | None = None,
    purpose: str = "",
    org_id: str | None = None,
    retention_days: int | None = None,
    label: Label | None = None,
) -> Net:
    """A new net; the creator must be able to read its ceiling and becomes its owner. `label`
    labels its name, purpose and member list, if lower than its entry label."""
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput("a net name is 1-100 letters, digits, spaces or . - / ( )")
    entry = entry or ceiling
    default_label = default_label or entry
    if not ceiling.dominates(entry):
        raise InvalidInput("the entry label must be dominated by the ceiling")
    if not ceiling.dominates(default_label):
        raise InvalidInput("the default message label must be dominated by the ceiling")
    if label is not None and not entry.dominates(label):
        raise InvalidInput("the net's own label must be dominated by its entry label")
    retention = ctx.retention_floor_days if retention_days is None else retention_days
    if retention < ctx.retention_floor_days:
        raise InvalidInput(
            f"retention must be at least {ctx.retention_floor_days} days (the configured floor)"
        )
    await require(
        ctx,
        actor,
        Action.READ,
        Resource(ceiling),
        audit_action="net.create",
        object_type="net",
        object_id=name,
    )
    net = Net(
        id=uuid.uuid4().hex,
        name=name,
        purpose=purpose,
        org_id=org_id,
        ceiling=ceiling,
        entry=entry,
        default_label=default_label,
        retention_days=retention,
        created_at=ctx.clock(),
        label=label,
    )
    if actor.person is None:
        raise PermissionDenied("nets are created by people (the owner must be a member)")
    async with ctx.db.transaction() as tx:
        if org_id is not None:
            try:
                await tx.orgs.get(org_id)
            except NotFound:
                raise InvalidInput(f"organisation {org_id!r} does not exist") from None
        await tx.nets.add(net)
        await tx.nets.add_member(Member(net.id, actor.person.id, NetRole.OWNER, ctx.clock()))
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "net.create",
                "net",
                net.id,
                ceiling,
                name=name,
                entry=render_marking(entry, ctx.registry),
                retention_days=retention,
                owner_id=actor.person.id,
            )
        )
    return net


def net_view(net: Net, member: Member | None) -> NetView:
    """The net as the net rules see it, with the subject's role in it."""
    role = None if member is None else member.role.value
    return NetView(net.name, net.entry, net.ceiling, role, net.meta_label)


async def _net_for(
    ctx: ServiceContext, actor: Actor, net_id: str, *, cached: bool = False
) -> tuple[Net, Member | None]:
    """The net and the actor's membership; NotFound — the same answer as for a net that does
    not exist — unless a member, or an overseer who reads the net's entry label.

    `cached` may answer from the read cache (hot read paths and posting); changes read fresh."""
    net, member = await _load_net(ctx, net_id, actor.subject.id, cached)
    decision = net_rules.may_see_net(actor.subject, net_view(net, member))
    await net_rule(ctx, actor, decision, net, "net.read", hide=True)
    return net, member


async def net_rule(
    ctx: ServiceContext,
    actor: Actor,
    decision: Decision,
    net: Net,
    audit_action: str,
    *,
    object_type: str = "net",
    object_id: str | None = None,
    label: Label | None = None,
    hide: bool = False,
    not_found: str | None = None,
) -> None:
    """Enforce a rule of `policy.nets` (refusals audited, with the net's entry label unless
    given another); `hide` answers exactly as for a net (or `not_found`'s object) that does
    not exist."""
    await enforce(
        ctx,
        actor,
        decision,
        audit_action=audit_action,
        object_type=object_type,
        object_id=net.id if object_id is None else object_id,
        label=net.entry if label is None else label,
        hide=hide,
        not_found=not_found or f"no net {net.id!r}",
    )


async def _load_net(
    ctx: ServiceContext, net_id: str, person_id: str, cached: bool
) -> tuple[Net, Member | None]:
    if cached:
        net = await ctx.reads.nets.fetch(net_id, lambda: _read_net(ctx, net_id))
        roster = await ctx.reads.rosters.fetch(net_id, lambda: _read_roster(ctx, net_id))
        return net, roster.get(person_id)
    # A change committed while this is read forgets the net: then it is not stored.
    nets_at = ctx.reads.nets.generation
    net = await _read_net(ctx, net_id)
    member = await _read_member(ctx, net_id, person_id)
    ctx.reads.nets.put(net_id, net, read_at=nets_at)
    return net, member


async def _read_net(ctx: ServiceContext, net_id: str) -> Net:
    async with ctx.db.transaction(write=False) as tx:
        try:
            return await tx.nets.get(net_id)
        except NotFound:
            raise NotFound(f"no net {net_id!r}") from None


async def _read_member(ctx: ServiceContext, net_id: str, person_id: str) -> Member | None:
    async with ctx.db.transaction(write=False) as tx:
        return await tx.nets.member(net_id, person_id)


async def _read_roster(ctx: ServiceContext, net_id: str) -> dict[str, Member]:
    async with ctx.db.transaction(write=False) as tx:
        return {m.person_id: m for m in await tx.nets.members(net_id)}


async def get_net(ctx: ServiceContext, actor: Actor, net_id: str) -> Net:
    """A net the actor belongs to (or administers)."""
    net, _ = await _net_for(ctx, actor, net_id)
    return net


async def list_my_nets(ctx: ServiceContext, actor: Actor) -> Sequence[Net]:
    """The nets the actor is a member of."""
    async with ctx.db.transaction(write=False) as tx:
        return await tx.nets.list_for(actor.subject.id)


async def mark_read(ctx: ServiceContext, actor: Actor, net_id: str, seq: int) -> int:
    """Move the actor's read marker in a net forward to `seq` (at most the newest message of
    the net they may read); the marker, kept with the membership, gives the unread counts on
    every device the person uses."""
    if seq < 0:
        raise InvalidInput("seq must be 0 or more")
    await _member_for_marker(ctx, actor, net_id, cached=True)
    async with ctx.db.transaction() as tx:
        marker = await tx.nets.mark_read(net_id, actor.subject.id, seq, actor.subject)
    if marker is None:  # removed from the net since the cached look-up
        await _member_for_marker(ctx, actor, net_id, cached=False)
        raise NotFound(f"no net {net_id!r}")  # pragma: no cover - the line above raises
    return marker


async def read_marker(ctx: ServiceContext, actor: Actor, net_id: str) -> int:
    """The seq of the last message the actor has seen in a net of theirs."""
    _, member = await _member_for_marker(ctx, actor, net_id, cached=False)
    return member.last_read


async def _member_for_marker(
    ctx: ServiceContext, actor: Actor, net_id: str, *, cached: bool
) -> tuple[Net, Member]:
    net, member = await _net_for(ctx, actor, net_id, cached=cached)
    view = net_view(net, member)
    await net_rule(
        ctx, actor, net_rules.may_keep_marker(actor.subject, view), net, "net.read_marker"
    )
    if member is None:  # the rule allows members only
        raise PermissionDenied("only members keep a read marker in a net")
    return net, member


async def read_markers(ctx: ServiceContext, actor: Actor) -> dict[str, int]:
    """The seq of the last message the actor has seen, per net they belong to."""
    async with ctx.db.transaction(write=False) as tx:
        return {m.net_id: m.last_read for m in await tx.nets.memberships(actor.subject.id)}


async def list_members(ctx: ServiceContext, actor: Actor, net_id: str) -> Sequence[Member]:
    """The members of a net the actor belongs to."""
    await _net_for(ctx, actor, net_id)
    async with ctx.db.transaction(write=False) as tx:
        return await tx.nets.members(net_id)


async def _require_manager(
    ctx: ServiceContext, actor: Actor, net: Net, member: Member | None, action: str
) -> None:
    await net_rule(
        ctx, actor, net_rules.may_manage(actor.subject, net_view(net, member)), net, action
    )


def membership_decision(person: Person, net: Net) -> tuple[bool, tuple[str, ...]]:
    """Whether the person may be a member (the policy's JOIN against the entry label)."""
    decision = decide(person.subject(), Action.JOIN, Resource(net.entry, container=net.container()))
    return decision.allowed, decision.reasons


async def add_member(
    ctx: ServiceContext, actor: Actor, net_id: str, person_id: str, role: NetRole = NetRole.MEMBER
) -> Member:
    """Add a person if — and only if — the policy says they can read the net's entry label.

    No role bypasses this: the refusal names the failing property and is audited.
    """
    net, member = await _net_for(ctx, actor, net_id)
    await _require_manager(ctx, actor, net, member, "net.add_member")
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
        allowed, reasons = membership_decision(person, net)
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
        raise PermissionDenied(f"{person.username} cannot join {net.name}", reasons)
    return new


async def remove_member(ctx: ServiceContext, actor: Actor, net_id: str, person_id: str) -> None:
    """Owners and admins remove a member; anyone may leave."""
    net, member = await _net_for(ctx, actor, net_id)
    if person_id != actor.subject.id:
        await _require_manager(ctx, actor, net, member, "net.remove_member")
    async with ctx.db.transaction() as tx:
        if not await tx.nets.remove_member(net_id, person_id):
            raise NotFound("not a member of this net")
        await tx.audit.append(
            audit_entry(ctx, actor, "net.remove_member", "net", net_id, net.entry, person=person_id)
        )
        tx.after_commit(partial(ctx.reads.forget_member, net_id))
        tx.publish(MembershipChanged(net_id, person_id, joined=False, reason="removed"))


async def update_net(
    ctx: ServiceContext,
    actor: Actor,
    net_id: str,
    *,
    ceiling: Label | None = None,
    entry: Label | None = None,
    default_label: Label | None = None,
    purpose: str | None = None,
    retention_days: int | None = None,
    label: Label | None = None,
) -> Net:
    """Owners and admins change a net. The ceiling may be lowered only if no message is above
    it; the entry label raised only if every member still qualifies."""
    net, member = await _net_for(ctx, actor, net_id)
    await _require_manager(ctx, actor, net, member, "net.update")
    if label is not None:
        # The label of the net's name and members is raised by an update, never lowered.
        await net_rule(
            ctx, actor, net_rules.may_relabel_by_edit(net.meta_label, label), net, "net.update"
        )
    after = replace(
        net,
        ceiling=ceiling or net.ceiling,
        entry=entry or net.entry,
        default_label=default_label or net.default_label,
        purpose=net.purpose if purpose is None else purpose,
        retention_days=net.retention_days if retention_days is None else retention_days,
        version=net.version + 1,
        label=label or net.label,
    )
    if after.retention_days < ctx.retention_floor_days:
        raise InvalidInput(f"retention must be at least {ctx.retention_floor_days} days")
    if not after.ceiling.dominates(after.entry) or not after.ceiling.dominates(after.default_label):
        raise InvalidInput("the entry and default labels must be dominated by the ceiling")
    if not after.entry.dominates(after.meta_label):
        raise InvalidInput("the net's own label must be dominated by its entry label")
    await require(
        ctx,
        actor,
        Action.READ,
        Resource(after.ceiling),
        audit_action="net.update",
        object_type="net",
        object_id=net_id,
    )
    async with ctx.db.transaction() as tx:
        current = await tx.nets.get(net_id, lock=True)  # members are added under this lock
        if current.version != net.version:
            raise Conflict(f"{net.name} was changed meanwhile: read it again and retry")
        above = await tx.messages.count_above(net_id, after.ceiling)
        if above:
            raise Conflict(f"{above} message(s) in {net.name} are above the new ceiling")
        for m in await tx.nets.members(net_id):
            person = await tx.people.get(m.person_id)
            allowed, reasons = membership_decision(person, after)
            if not allowed:
                raise Conflict(f"member {person.username} would not qualify: {'; '.join(reasons)}")
        await tx.nets.update(after)
        changes = {
            key: [
                render_marking(getattr(net, key), ctx.registry),
                render_marking(getattr(after, key), ctx.registry),
            ]
            for key in ("ceiling", "entry", "default_label", "meta_label")
            if getattr(net, key) != getattr(after, key)
        }
        await tx.audit.append(
            audit_entry(ctx, actor, "net.update", "net", net_id, after.ceiling, changes=changes)
        )
        tx.after_commit(partial(ctx.reads.forget_net, net_id))
    return after


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


async def net_roster(ctx: ServiceContext, net_id: str) -> tuple[Net, Mapping[str, Member]]:
    """A net and its members by person id, for delivering what was posted in it (no actor: not
    a permission check). From the read cache: a change made through this process holds at
    once, one made elsewhere within the cache's lifetime."""
    net = await ctx.reads.nets.fetch(net_id, lambda: _read_net(ctx, net_id))
    roster = await ctx.reads.rosters.fetch(net_id, lambda: _read_roster(ctx, net_id))
    return net, roster
