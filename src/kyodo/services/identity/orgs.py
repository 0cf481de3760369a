"""Organisations: the commands and their components, with counterpart links (admins change them)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kyodo.domain.identity import Org, Role
from kyodo.errors import InvalidInput, KyodoError, NotFound
from kyodo.policy import Action, Resource
from kyodo.services.access import audit_entry, require, require_role
from kyodo.services.identity.changes import changed_fields
from kyodo.services.paging import Page, page_limit, page_of

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext


async def create_org(ctx: ServiceContext, actor: Actor, org: Org) -> Org:
    """Admins add an organisation; parent and counterpart must exist and share no cycle."""
    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action="org.create",
        object_type="org",
        object_id=org.id,
        label=org.label,
    )
    try:
        nation = "+".join(ctx.registry.check_nation(n) for n in org.nation.split("+"))
    except KyodoError as exc:
        raise InvalidInput(exc.message) from None
    org = replace(org, nation=nation)
    async with ctx.db.transaction() as tx:
        for ref, what in ((org.parent_id, "parent"), (org.counterpart_id, "counterpart")):
            if ref is not None:
                try:
                    await tx.orgs.get(ref)
                except NotFound:
                    raise InvalidInput(f"{what} organisation {ref!r} does not exist") from None
        await tx.orgs.add(org)
        if org.counterpart_id is not None:
            other = await tx.orgs.get(org.counterpart_id)
            if other.counterpart_id is None:
                await tx.orgs.update(replace(other, counterpart_id=org.id))
        await tx.audit.append(
            audit_entry(
                ctx, actor, "org.create", "org", org.id, org.label, name=org.name, nation=org.nation
            )
        )
    return org


async def list_orgs(
    ctx: ServiceContext, actor: Actor, cursor: str | None = None, limit: int = 50
) -> Page[Org]:
    """The organisations the actor may read, by id."""
    limit = page_limit(limit)
    async with ctx.db.transaction(write=False) as tx:
        items = await tx.orgs.list(actor.subject, cursor, limit + 1)
    return page_of(items, limit, lambda org: org.id)


async def get_org(ctx: ServiceContext, actor: Actor, org_id: str) -> Org:
    """One organisation; NotFound if it does not exist or the actor may not read it."""
    async with ctx.db.transaction(write=False) as tx:
        org = await tx.orgs.get(org_id)
    await require(
        ctx,
        actor,
        Action.READ,
        Resource(org.label),
        audit_action="org.read",
        object_type="org",
        object_id=org_id,
        hide=True,
        not_found=f"no organisation {org_id!r}",
    )
    return org


async def update_org(
    ctx: ServiceContext,
    actor: Actor,
    org_id: str,
    *,
    label: Label | None = None,
    counterpart_id: str | None = None,
    name: str | None = None,
    name_ja: str | None = None,
) -> Org:
    """Admins change an organisation's label, counterpart or names (each change audited)."""
    before = await get_org(ctx, actor, org_id)
    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action="org.update",
        object_type="org",
        object_id=org_id,
        label=label or before.label,
    )
    after = replace(
        before,
        label=label or before.label,
        counterpart_id=counterpart_id if counterpart_id is not None else before.counterpart_id,
        name=name or before.name,
        name_ja=name_ja if name_ja is not None else before.name_ja,
    )
    async with ctx.db.transaction() as tx:
        if counterpart_id is not None and counterpart_id != org_id:
            await tx.orgs.get(counterpart_id)
        await tx.orgs.update(after)
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "org.update",
                "org",
                org_id,
                after.label,
                changes=changed_fields(
                    before, after, ("label", "counterpart_id", "name", "name_ja"), ctx
                ),
            )
        )
    return after
