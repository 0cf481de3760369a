"""API tokens: minted with scopes and an expiry, listed and revoked by id with all they minted."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from kyodo.audit.chain import AuditEntry
from kyodo.domain.identity import Role
from kyodo.errors import InvalidInput, NotFound, PermissionDenied
from kyodo.services.access import audit_entry, require_role
from kyodo.services.auth import SCOPES, new_id, token_hash
from kyodo.services.ports import SessionRecord
from kyodo.services.session_ends import descendants, end_sessions

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

API = "api"


@dataclass(frozen=True, slots=True)
class NewToken:
    """A minted token: the secret is shown once and never stored."""

    secret: str
    record: SessionRecord


def _scopes(wanted: Iterable[str]) -> frozenset[str]:
    scopes = frozenset(wanted)
    unknown = scopes - SCOPES
    if unknown:
        raise InvalidInput(f"unknown scopes {sorted(unknown)}; use some of {sorted(SCOPES)}")
    if not scopes:
        raise InvalidInput("give at least one scope")
    return scopes


async def create(
    ctx: ServiceContext,
    actor: Actor,
    name: str,
    scopes: Iterable[str],
    lifetime: timedelta | None = None,
) -> NewToken:
    """A new bearer token for programs acting as this person. Minted by a token, it gets no
    scope and no time the minting token lacks, and is revoked with it."""
    if actor.person is None:
        raise PermissionDenied("only a person can hold an API token")
    wanted = _scopes(scopes)
    lifetime = ctx.token_ttl if lifetime is None else lifetime
    if lifetime <= timedelta(0) or lifetime > ctx.token_max_ttl:
        raise InvalidInput(f"a token lives more than 0 and at most {ctx.token_max_ttl.days} days")
    now = ctx.clock()
    expires: datetime = now + lifetime
    parent_id: str | None = None
    if actor.via == API:
        parent_id = actor.token_id
        if actor.scopes is not None and not wanted <= actor.scopes:
            await _refuse(
                ctx,
                actor,
                "auth.token_create",
                actor.person.id,
                "a token cannot mint one with scopes it does not have",
            )
        async with ctx.db.transaction(write=False) as tx:
            minting = await tx.sessions.get(actor.session_hash or "")
        if minting is not None and minting.expires_at is not None:
            expires = min(expires, minting.expires_at)
    secret = f"kyd_{secrets.token_urlsafe(32)}"
    record = SessionRecord(
        token_hash=token_hash(secret),
        person_id=actor.person.id,
        kind=API,
        name=name,
        csrf_hash=None,
        created_at=now,
        expires_at=expires,
        id=new_id(),
        scopes=wanted,
        parent_id=parent_id,
    )
    async with ctx.db.transaction() as tx:
        await tx.sessions.add(record)
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "auth.token_create",
                "token",
                record.id,
                actor.person.label,
                name=name,
                scopes=sorted(wanted),
                expires_at=expires.isoformat(),
                parent_id=parent_id,
            )
        )
    return NewToken(secret, record)


async def list_tokens(
    ctx: ServiceContext, actor: Actor, person_id: str | None = None
) -> Sequence[SessionRecord]:
    """A person's API tokens (admins: anyone's). A token sees only itself and what it minted."""
    person_id = person_id or actor.subject.id
    if person_id != actor.subject.id:
        await require_role(
            ctx,
            actor,
            Role.ADMIN,
            audit_action="auth.token_list",
            object_type="person",
            object_id=person_id,
        )
    async with ctx.db.transaction(write=False) as tx:
        records = await tx.sessions.list_for_person(person_id, API)
    if actor.via == API and person_id == actor.subject.id and actor.token_id:
        mine = {actor.token_id} | {r.id for r in descendants(records, actor.token_id)}
        records = [r for r in records if r.id in mine]
    return records


async def revoke(ctx: ServiceContext, actor: Actor, token_id: str) -> list[str]:
    """Revoke a token by its id, and every token it minted; returns the revoked ids. Your own
    tokens (a token: itself and what it minted); admins: anyone's."""
    async with ctx.db.transaction(write=False) as tx:
        record = await tx.sessions.get_by_id(token_id)
        family = [] if record is None else await tx.sessions.list_for_person(record.person_id, API)
    if record is None or record.kind != API:
        raise NotFound(f"no token {token_id!r}")
    if record.person_id != actor.subject.id and Role.ADMIN.value not in actor.subject.roles:
        # Someone else's token: as if it did not exist (its id tells nothing), but audited.
        await _refuse(ctx, actor, "auth.token_revoke", token_id, "not your token", NotFound)
    if record.person_id != actor.subject.id:
        await require_role(
            ctx,
            actor,
            Role.ADMIN,
            audit_action="auth.token_revoke",
            object_type="token",
            object_id=token_id,
        )
    elif actor.via == API and actor.token_id != token_id:
        mine = {r.id for r in descendants(family, actor.token_id or "")}
        if token_id not in mine:
            await _refuse(
                ctx,
                actor,
                "auth.token_revoke",
                token_id,
                "a token can revoke only itself and the tokens it minted",
            )
    revoked = [record, *descendants(family, record.id)]
    async with ctx.db.transaction() as tx:
        for each in revoked:
            await tx.sessions.delete(each.token_hash)
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "auth.token_revoke",
                "token",
                token_id,
                revoked=[r.id for r in revoked],
                person_id=record.person_id,
            )
        )
        end_sessions(tx, ctx, record.person_id, [r.token_hash for r in revoked])
    return [r.id for r in revoked]


async def _refuse(
    ctx: ServiceContext,
    actor: Actor,
    action: str,
    object_id: str,
    reason: str,
    error: type[PermissionDenied | NotFound] = PermissionDenied,
) -> None:
    async with ctx.db.transaction() as tx:
        await tx.audit.append(
            AuditEntry(
                actor=actor.audit_name,
                action=action,
                object_type="token",
                object_id=object_id,
                decision="deny",
                reasons=(reason,),
            )
        )
    raise error(f"no token {object_id!r}" if error is NotFound else reason)
