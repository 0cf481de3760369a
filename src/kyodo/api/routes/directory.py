"""Organisations and people: admins manage, members see a directory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kyodo.api.deps import Context, CurrentActor
from kyodo.api.labels_in import optional_label
from kyodo.api.schemas import (
    OrgIn,
    OrgOut,
    OrgPage,
    OrgPatch,
    PasswordIn,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonPatch,
    ResetRequestOut,
)
from kyodo.domain.identity import Org
from kyodo.services import identity

router = APIRouter(tags=["directory"])
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=64)]


@router.get("/orgs", response_model=OrgPage)
async def list_orgs(
    actor: CurrentActor, ctx: Context, cursor: Cursor = None, limit: Limit = 50
) -> OrgPage:
    """Organisations you may read, by id; follow `next_cursor` for more."""
    page = await identity.list_orgs(ctx, actor, cursor, limit)
    return OrgPage(
        items=[OrgOut.of(o, ctx.registry) for o in page.items], next_cursor=page.next_cursor
    )


@router.post("/orgs", response_model=OrgOut, status_code=201)
async def create_org(body: OrgIn, actor: CurrentActor, ctx: Context) -> OrgOut:
    """Add an organisation (admins)."""
    org = Org(
        id=body.id,
        abbr=body.abbr,
        name=body.name,
        name_ja=body.name_ja,
        nation=body.nation,
        parent_id=body.parent_id,
        counterpart_id=body.counterpart_id,
        label=optional_label(ctx, body.label) or ctx.unclassified(),
        sources=tuple(body.sources),
    )
    return OrgOut.of(await identity.create_org(ctx, actor, org), ctx.registry)


@router.get("/orgs/{org_id}", response_model=OrgOut)
async def get_org(org_id: str, actor: CurrentActor, ctx: Context) -> OrgOut:
    """One organisation (404 if it does not exist or you may not read it)."""
    return OrgOut.of(await identity.get_org(ctx, actor, org_id), ctx.registry)


@router.patch("/orgs/{org_id}", response_model=OrgOut)
async def update_org(org_id: str, body: OrgPatch, actor: CurrentActor, ctx: Context) -> OrgOut:
    """Change an organisation's names, counterpart or label (admins)."""
    org = await identity.update_org(
        ctx,
        actor,
        org_id,
        label=optional_label(ctx, body.label),
        counterpart_id=body.counterpart_id,
        name=body.name,
        name_ja=body.name_ja,
    )
    return OrgOut.of(org, ctx.registry)


@router.get("/people", response_model=PersonPage)
async def list_people(
    actor: CurrentActor, ctx: Context, cursor: Cursor = None, limit: Limit = 50
) -> PersonPage:
    """The directory of people you may read, by username."""
    page = await identity.list_people(ctx, actor, cursor, limit)
    return PersonPage(
        items=[PersonOut.of(p, ctx.registry) for p in page.items], next_cursor=page.next_cursor
    )


@router.post("/people", response_model=PersonOut, status_code=201)
async def create_person(body: PersonIn, actor: CurrentActor, ctx: Context) -> PersonOut:
    """Add a person (admins)."""
    data = identity.PersonInput(
        username=body.username,
        name=body.name,
        name_ja=body.name_ja,
        nation=body.nation,
        clearance=body.clearance,
        password=body.password,
        grants=tuple(body.grants),
        releasability_grants=tuple(body.releasability_grants),
        roles=tuple(body.roles),
        org_id=body.org_id,
        label=optional_label(ctx, body.label),
    )
    return PersonOut.of(await identity.create_person(ctx, actor, data), ctx.registry)


@router.get("/people/{person_id}", response_model=PersonOut)
async def get_person(person_id: str, actor: CurrentActor, ctx: Context) -> PersonOut:
    """One person (404 if absent or unreadable)."""
    return PersonOut.of(await identity.get_person(ctx, actor, person_id), ctx.registry)


@router.patch("/people/{person_id}", response_model=PersonOut)
async def update_person(
    person_id: str, body: PersonPatch, actor: CurrentActor, ctx: Context
) -> PersonOut:
    """Change a person's clearance, nation, grants, roles, org, label or status (admins)."""
    changes = identity.PersonChanges(
        name=body.name,
        name_ja=body.name_ja,
        nation=body.nation,
        clearance=body.clearance,
        grants=None if body.grants is None else tuple(body.grants),
        releasability_grants=None
        if body.releasability_grants is None
        else tuple(body.releasability_grants),
        roles=None if body.roles is None else tuple(body.roles),
        org_id=body.org_id,
        label=optional_label(ctx, body.label),
        active=body.active,
    )
    return PersonOut.of(await identity.update_person(ctx, actor, person_id, changes), ctx.registry)


@router.put("/people/{person_id}/password", status_code=204)
async def set_password(person_id: str, body: PasswordIn, actor: CurrentActor, ctx: Context) -> None:
    """Set a person's password (admins, or the person). An administrator's or security
    officer's needs another administrator's reset request (`approval`): two-person rule."""
    await identity.set_password(
        ctx, actor, person_id, body.password, body.current_password, approval=body.approval
    )


@router.post(
    "/people/{person_id}/password-reset-requests",
    response_model=ResetRequestOut,
    status_code=201,
)
async def request_password_reset(
    person_id: str, actor: CurrentActor, ctx: Context
) -> ResetRequestOut:
    """Ask for a reset of a privileged account's password; another administrator performs it
    with `PUT /people/{id}/password` and this request's id (valid 24 hours, once)."""
    return ResetRequestOut(request_id=await identity.request_password_reset(ctx, actor, person_id))
