"""Organisations and people: create, list (label-filtered), read, and change, all audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Generic, TypeVar

from kyodo.bus.events import SessionEnded
from kyodo.domain.identity import UI_LANGUAGES, Org, Person, Role
from kyodo.errors import InvalidInput, KyodoError, NotFound, PermissionDenied
from kyodo.policy import Action, Resource, make_subject
from kyodo.policy import people as people_rules
from kyodo.services import auth, nets
from kyodo.services.access import audit_entry, enforce, require, require_role
from kyodo.services.ports import AuditQuery

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

T = TypeVar("T")
MIN_PASSWORD_LENGTH = 10
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next (None at the end)."""

    items: Sequence[T]
    next_cursor: str | None


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    return limit


# ---- organisations -------------------------------------------------------------------------


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
    limit = _limit(limit)
    async with ctx.db.transaction(write=False) as tx:
        items = await tx.orgs.list(actor.subject, cursor, limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return Page(items, items[-1].id if more else None)


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
                changes=_diff(before, after, ("label", "counterpart_id", "name", "name_ja"), ctx),
            )
        )
    return after


# ---- people --------------------------------------------------------------------------------


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


def _check_password(password: str) -> None:
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
        _check_password(data.password)
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
    limit = _limit(limit)
    async with ctx.db.transaction(write=False) as tx:
        items = await tx.people.list(actor.subject, cursor, limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return Page(items, items[-1].username if more else None)


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
    diff = _diff(before, after, fields, ctx)
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


RESET_REQUEST = "person.password_reset_request"
RESET_REQUEST_HOURS = 24


async def request_password_reset(ctx: ServiceContext, actor: Actor, person_id: str) -> str:
    """An administrator asks for a reset of an administrator's or security officer's password
    (two-person rule): another administrator performs it, naming the request's id. Audited."""
    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action=RESET_REQUEST,
        object_type="person",
        object_id=person_id,
    )
    target = await get_person(ctx, actor, person_id)
    request_id = uuid.uuid4().hex
    async with ctx.db.transaction() as tx:
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                RESET_REQUEST,
                "person",
                person_id,
                target.label,
                request=request_id,
                requester_id=actor.subject.id,
            )
        )
    return request_id


async def _approver(ctx: ServiceContext, person_id: str, request_id: str) -> str | None:
    """Who asked for reset `request_id` of this person's password, if it is recent and unused."""
    since = (ctx.clock() - timedelta(hours=RESET_REQUEST_HOURS)).isoformat()
    async with ctx.db.transaction(write=False) as tx:
        requests = await tx.audit.list(
            AuditQuery(action=RESET_REQUEST, object_id=person_id, since=since), None, 200
        )
        used = await tx.audit.list(
            AuditQuery(action="person.password", object_id=person_id, since=since), None, 200
        )
    if any(
        r.entry.decision == "allow" and r.entry.details.get("approval") == request_id for r in used
    ):
        return None
    for record in requests:
        if record.entry.details.get("request") == request_id:
            requester = record.entry.details.get("requester_id")
            return requester if isinstance(requester, str) else None
    return None


async def set_password(
    ctx: ServiceContext,
    actor: Actor,
    person_id: str,
    password: str,
    current_password: str | None = None,
    *,
    approval: str | None = None,
) -> None:
    """A person sets their own password (logged in, giving the current one), or an admin sets
    anyone's — an administrator's or security officer's only with another administrator's
    request (`approval`, two-person rule); other sessions and tokens end."""
    details: dict[str, object] = {}
    if actor.subject.id == person_id:
        await auth.confirm_password(ctx, actor, current_password)
    else:
        await require_role(
            ctx,
            actor,
            Role.ADMIN,
            audit_action="person.password",
            object_type="person",
            object_id=person_id,
        )
        target = await get_person(ctx, actor, person_id)
        approved_by = None if approval is None else await _approver(ctx, person_id, approval)
        await enforce(
            ctx,
            actor,
            people_rules.may_set_password(
                actor.subject, person_id, frozenset(r.value for r in target.roles), approved_by
            ),
            audit_action="person.password",
            object_type="person",
            object_id=person_id,
            label=target.label,
            approval=approval,
        )
        if approval is not None and approved_by is not None:
            details = {"approval": approval, "requested_by": approved_by}
    _check_password(password)
    async with ctx.db.transaction() as tx:
        person = await tx.people.get(person_id)
        await tx.people.set_password_hash(person_id, ctx.passwords.hash(password))
        await tx.sessions.delete_for_person(person_id)
        await tx.audit.append(
            audit_entry(ctx, actor, "person.password", "person", person_id, person.label, **details)
        )
        tx.after_commit(partial(ctx.reads.forget_person, person_id))
        tx.publish(SessionEnded(person_id))


def _diff(
    before: object, after: object, fields: Iterable[str], ctx: ServiceContext
) -> dict[str, list[object]]:
    from kyodo.labels import Label, render_marking

    def shown(value: object) -> object:
        if isinstance(value, Label):
            return render_marking(value, ctx.registry)
        if isinstance(value, frozenset):
            return sorted(str(v) for v in value)
        return value

    return {
        name: [shown(getattr(before, name)), shown(getattr(after, name))]
        for name in fields
        if getattr(before, name) != getattr(after, name)
    }


async def register_certificate(
    ctx: ServiceContext, actor: Actor, person_id: str, fingerprint: str, subject: str = ""
) -> None:
    """Admins register a TLS client certificate (by SHA-256 fingerprint) to a person; CoT
    clients presenting it act as that person."""
    from kyodo.pki.names import normalize_fingerprint

    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action="person.certificate",
        object_type="person",
        object_id=person_id,
    )
    try:
        digest = normalize_fingerprint(fingerprint)
    except KyodoError as exc:
        raise InvalidInput(exc.message) from None
    async with ctx.db.transaction() as tx:
        person = await tx.people.get(person_id)
        await tx.people.register_certificate(digest, person.id, subject[:500], ctx.clock())
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "person.certificate",
                "person",
                person.id,
                person.label,
                fingerprint=digest,
                subject=subject[:500],
            )
        )


async def revoke_certificate(ctx: ServiceContext, actor: Actor, fingerprint: str) -> None:
    """Admins revoke a registered certificate: its holder can no longer connect."""
    from kyodo.pki.names import normalize_fingerprint

    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action="person.certificate_revoke",
        object_type="certificate",
        object_id=fingerprint[:128],
    )
    digest = normalize_fingerprint(fingerprint)
    async with ctx.db.transaction() as tx:
        person_id = await tx.people.revoke_certificate(digest)
        await tx.audit.append(
            audit_entry(
                ctx, actor, "person.certificate_revoke", "person", person_id, fingerprint=digest
            )
        )
