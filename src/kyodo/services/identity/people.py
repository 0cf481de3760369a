"""People: create, list (label-filtered), read and change them, all audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from kyodo.bus.events import SessionEnded
from kyodo.domain.identity import UI_LANGUAGES, Person, Role
from kyodo.errors import InvalidInput, KyodoError, NotFound, PermissionDenied
from kyodo.policy import Action, Resource, make_subject
from kyodo.policy import people as people_rules
from kyodo.services import nets
from kyodo.services.access import audit_entry, enforce, require, require_role
from kyodo.services.identity.changes import changed_fields
from kyodo.services.paging import Page, page_limit, page_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True, slots=True)
class PersonInput:
    """What an admin gives to create a person."""

    username: str
    name: str
    nation: str
    clearance: str
    password: str | None = None
    name_ja: str | None = None
    grants: tuple[str, ...] = ()
    roles: tuple[str, ...] = ("member",)
    org_id: str | None = None
    label: Label | None = None
    releasability_grants: tuple[str, ...] = ()


def _roles(names: Iterable[str]) -> frozenset[Role]:
    try:
        return frozenset(Role(n) for n in names)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role in {sorted(names)}; roles are {allowed}") from None


def _nations(person: Person) -> frozenset[str]:
    """The nations a person reads as: their own and their releasability grants."""
    return frozenset({person.nation, *person.releasability_grants})


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def _security_attributes(
    ctx: ServiceContext,
    nation: str,
    clearance: str,
    grants: Iterable[str],
    releasability_grants: Iterable[str],
) -> tuple[str, str, int, frozenset[str], frozenset[str]]:
    try:
        subject = make_subject(
            ctx.registry,
            id="-",
            nation=nation,
            clearance=clearance,
            grants=grants,
            releasability_grants=releasability_grants,
        )
    except KyodoError as exc:
        raise InvalidInput(exc.message) from None
    return (
        subject.nation,
        subject.clearance,
        subject.clearance_rank,
        subject.grants,
        subject.releasability_grants,
    )


async def create_person(ctx: ServiceContext, actor: Actor, data: PersonInput) -> Person:
    """Admins add a person; nation, clearance and grants are checked against the schemes."""
    label = data.label or ctx.unclassified()
    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action="person.create",
        object_type="person",
        object_id=data.username,
        label=label,
    )
    username = data.username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise InvalidInput("username must be 1-64 characters without spaces")
    if not data.name.strip():
        raise InvalidInput("name must not be empty")
    nation, clearance, rank, grants, rel_grants = _security_attributes(
        ctx, data.nation, data.clearance, data.grants, data.releasability_grants
    )
    if data.password is not None:
        check_password(data.password)
    person = Person(
        id=uuid.uuid4().hex,
        username=username,
        name=data.name.strip(),
        name_ja=data.name_ja,
        nation=nation,
        clearance=clearance,
        clearance_rank=rank,
        label=label,
        grants=grants,
        roles=_roles(data.roles),
        org_id=data.org_id,
        releasability_grants=rel_grants,
    )
    await enforce(
        ctx,
        actor,
        people_rules.may_create_person(
            actor.subject,
            person.clearance_rank,
            frozenset(person.grants),
            _nations(person),
            frozenset(r.value for r in person.roles),
        ),
        audit_action="person.create",
        object_type="person",
        object_id=username,
        label=label,
    )
    password_hash = ctx.passwords.hash(data.password) if data.password is not None else None
    async with ctx.db.transaction() as tx:
        if person.org_id is not None:
            try:
                await tx.orgs.get(person.org_id)
            except NotFound:
                raise InvalidInput(f"organisation {person.org_id!r} does not exist") from None
        await tx.people.add(person, password_hash)
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "person.create",
                "person",
                person.id,
                label,
                username=person.username,
                nation=nation,
                clearance=clearance,
                grants=sorted(grants),
                roles=sorted(r.value for r in person.roles),
            )
        )
    return person


async def list_people(
    ctx: ServiceContext, actor: Actor, cursor: str | None = None, limit: int = 50
) -> Page[Person]:
    """The directory: people whose records the actor may read, by username."""
    limit = page_limit(limit)
    async with ctx.db.transaction(write=False) as tx:
        items = await tx.people.list(actor.subject, cursor, limit + 1)
    return page_of(items, limit, lambda person: person.username)


async def get_person(ctx: ServiceContext, actor: Actor, person_id: str) -> Person:
    """One person's record; NotFound if absent or unreadable."""
    async with ctx.db.transaction(write=False) as tx:
        person = await tx.people.get(person_id)
    await require(
        ctx,
        actor,
        Action.READ,
        Resource(person.label),
        audit_action="person.read",
        object_type="person",
        object_id=person_id,
        hide=True,
        not_found=f"no person {person_id!r}",
    )
    return person


async def find_person(ctx: ServiceContext, username: str) -> Person:
    """A person by username, for the operator's CLI (no policy: the operator holds the DB)."""
    async with ctx.db.transaction(write=False) as tx:
        return await tx.people.get_by_username(username)


@dataclass(frozen=True, slots=True)
class PersonChanges:
    """What an admin may change; None leaves a field as it is."""

    name: str | None = None
    name_ja: str | None = None
    nation: str | None = None
    clearance: str | None = None
    grants: tuple[str, ...] | None = None
    releasability_grants: tuple[str, ...] | None = None
    roles: tuple[str, ...] | None = None
    org_id: str | None = None
    label: Label | None = None
    active: bool | None = None


async def update_person(
    ctx: ServiceContext, actor: Actor, person_id: str, changes: PersonChanges
) -> Person:
    """Admins change a person. A change to nation, clearance or grants takes effect at once:
    the person's cached decisions are dropped and the change is audited with before/after."""
    before = await get_person(ctx, actor, person_id)
    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action="person.update",
        object_type="person",
        object_id=person_id,
        label=changes.label or before.label,
    )
    nation, clearance, rank, grants, rel_grants = _security_attributes(
        ctx,
        changes.nation or before.nation,
        changes.clearance or before.clearance,
        changes.grants if changes.grants is not None else before.grants,
        changes.releasability_grants
        if changes.releasability_grants is not None
        else before.releasability_grants,
    )
    after = replace(
        before,
        name=changes.name or before.name,
        name_ja=changes.name_ja if changes.name_ja is not None else before.name_ja,
        nation=nation,
        clearance=clearance,
        clearance_rank=rank,
        grants=grants,
        releasability_grants=rel_grants,
        roles=_roles(changes.roles) if changes.roles is not None else before.roles,
        org_id=changes.org_id if changes.org_id is not None else before.org_id,
        label=changes.label or before.label,
        active=changes.active if changes.active is not None else before.active,
        version=before.version + 1,
    )
    fields = (
        "name",
        "name_ja",
        "nation",
        "clearance",
        "grants",
        "releasability_grants",
        "roles",
        "org_id",
        "label",
        "active",
    )
    diff = changed_fields(before, after, fields, ctx)
    await enforce(
        ctx,
        actor,
        people_rules.may_change_person(
            actor.subject,
            person_id,
            frozenset(diff),
            frozenset(after.grants - before.grants),
            raised_rank=after.clearance_rank
            if after.clearance_rank > before.clearance_rank
            else None,
            nations=_nations(after) - _nations(before),
            roles=frozenset(r.value for r in after.roles - before.roles),
        ),
        audit_action="person.update",
        object_type="person",
        object_id=person_id,
        label=after.label,
        changes=diff,
    )
    async with ctx.db.transaction() as tx:
        if after.org_id is not None and after.org_id != before.org_id:
            try:
                await tx.orgs.get(after.org_id)
            except NotFound:
                raise InvalidInput(f"organisation {after.org_id!r} does not exist") from None
        await tx.people.update(after)
        if not after.active:
            await tx.sessions.delete_for_person(person_id)
        await tx.audit.append(
            audit_entry(ctx, actor, "person.update", "person", person_id, after.label, changes=diff)
        )
        tx.after_commit(partial(ctx.reads.forget_person, person_id))
        if not after.active:
            tx.publish(SessionEnded(person_id))
        if before.subject() != after.subject():
            tx.after_commit(partial(ctx.decisions.invalidate, person_id))
            # The memberships the change revokes go in the same transaction.
            await nets.revalidate_memberships(tx, ctx, after)
    return after


async def set_language(ctx: ServiceContext, actor: Actor, language: str | None) -> Person:
    """A person chooses the language the web UI speaks to them (remembered on any device), or
    None: the browser's again."""
    if actor.person is None:
        raise PermissionDenied("only a person has a language")
    if language is not None and language not in UI_LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(UI_LANGUAGES)}")
    async with ctx.db.transaction() as tx:
        after = replace(await tx.people.get(actor.person.id), language=language)
        await tx.people.update(after)
        await tx.audit.append(
            audit_entry(
                ctx, actor, "person.language", "person", after.id, after.label, language=language
            )
        )
        tx.after_commit(partial(ctx.reads.people.forget, after.id))
    return after
