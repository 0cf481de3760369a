"""Logins, sessions, API tokens and CSRF: who is calling, proven without storing any secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2.exceptions import InvalidHashError, VerificationError

from kyodo.audit.chain import AuditEntry
from kyodo.bus.events import SessionEnded
from kyodo.errors import NotFound, PermissionDenied, Unauthenticated
from kyodo.labels import label_to_dict
from kyodo.services.access import audit_entry
from kyodo.services.actor import person_actor
from kyodo.services.ports import SessionRecord

if TYPE_CHECKING:
    from kyodo.domain.identity import Person
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

INVALID_CREDENTIALS = "invalid username or password"
# Verified when the username does not exist, so both failures take the same time.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$Z8aFMyTxokteYoB1/SDQcA$"
    "MzFFnVCdGOT5c1O+lpIiNEFuZpr3KcLHSYgQPI/7L7g"
)


def token_hash(token: str) -> str:
    """How a session or API token is stored: SHA-256 of the secret (random, not a password)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A new session: its secret and CSRF token go to the client once and are never stored."""

    person: Person
    token: str
    csrf_token: str


async def login(ctx: ServiceContext, username: str, password: str, address: str) -> LoginResult:
    """Check the password; Unauthenticated without saying which part was wrong."""
    ctx.throttle.check(username, address)
    person: Person | None = None
    stored: str | None = None
    async with ctx.db.transaction(write=False) as tx:
        try:
            person = await tx.people.get_by_username(username)
            stored = await tx.people.password_hash(person.id)
        except NotFound:
            person = None
    ok = _verify(ctx, stored or _DUMMY_HASH, password) and person is not None and stored is not None
    if not ok or person is None or not person.active:
        ctx.throttle.failed(username, address)
        async with ctx.db.transaction() as tx:
            await tx.audit.append(
                AuditEntry(
                    actor=username[:128] or "(empty)",
                    action="auth.login_failed",
                    object_type="person",
                    object_id=person.id if person else "(unknown)",
                    decision="deny",
                    label=None if person is None else label_to_dict(person.label, ctx.registry),
                    reasons=(INVALID_CREDENTIALS,),
                    details={"address": address},
                )
            )
        raise Unauthenticated(INVALID_CREDENTIALS)
    ctx.throttle.succeeded(username)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = ctx.clock()
    async with ctx.db.transaction() as tx:
        if stored is not None and ctx.passwords.check_needs_rehash(stored):
            await tx.people.set_password_hash(person.id, ctx.passwords.hash(password))
        await tx.sessions.add(
            SessionRecord(
                token_hash=token_hash(token),
                person_id=person.id,
                kind="session",
                name="browser",
                csrf_hash=token_hash(csrf),
                created_at=now,
                expires_at=now + ctx.session_ttl,
            )
        )
        await tx.audit.append(
            AuditEntry(
                actor=person.username,
                action="auth.login",
                object_type="person",
                object_id=person.id,
                label=label_to_dict(person.label, ctx.registry),
                details={"address": address},
            )
        )
    return LoginResult(person, token, csrf)


def _verify(ctx: ServiceContext, stored: str, password: str) -> bool:
    try:
        return ctx.passwords.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def authenticate(ctx: ServiceContext, token: str, *, kind: str | None = None) -> Actor:
    """The actor behind a session cookie or bearer token; Unauthenticated if none or expired."""
    digest = token_hash(token)
    record = await ctx.reads.sessions.fetch(digest, lambda: _load_session(ctx, digest))
    person = await ctx.reads.people.fetch(
        record.person_id, lambda: _load_person(ctx, record.person_id)
    )
    if kind is not None and record.kind != kind:
        raise Unauthenticated("not logged in, or the session has ended")
    if record.expires_at is not None and record.expires_at <= ctx.clock():
        raise Unauthenticated("the session has expired; log in again")
    if not person.active:
        raise Unauthenticated("the account is disabled")
    via = "api" if record.kind == "api" else "session"
    return person_actor(person, via, record.token_hash, record.csrf_hash)


async def _load_session(ctx: ServiceContext, digest: str) -> SessionRecord:
    async with ctx.db.transaction(write=False) as tx:
        record = await tx.sessions.get(digest)
    if record is None:
        raise Unauthenticated("not logged in, or the session has ended")
    return record


async def _load_person(ctx: ServiceContext, person_id: str) -> Person:
    async with ctx.db.transaction(write=False) as tx:
        try:
            return await tx.people.get(person_id)
        except NotFound:
            raise Unauthenticated("the account no longer exists") from None


def check_csrf(actor: Actor, presented: str | None) -> None:
    """A state-changing request on a cookie session must present the session's CSRF token."""
    if actor.via != "session":
        return
    expected = actor.csrf_hash or ""
    given = token_hash(presented) if presented else ""
    if not hmac.compare_digest(expected, given):
        raise PermissionDenied("missing or wrong CSRF token (send the X-CSRF-Token header)")


async def logout(ctx: ServiceContext, actor: Actor) -> None:
    """End the actor's session (or revoke the API token used)."""
    if actor.session_hash is None:
        return
    async with ctx.db.transaction() as tx:
        await tx.sessions.delete(actor.session_hash)
        label = actor.person.label if actor.person is not None else None
        await tx.audit.append(
            audit_entry(ctx, actor, "auth.logout", "person", actor.subject.id, label)
        )
    ctx.reads.sessions.forget(actor.session_hash)
    await ctx.bus.publish(SessionEnded(actor.subject.id, actor.session_hash))


async def create_api_token(ctx: ServiceContext, actor: Actor, name: str) -> str:
    """A new bearer token for programs acting as this person; shown once, stored hashed."""
    if actor.person is None:
        raise PermissionDenied("only a person can hold an API token")
    token = f"kyd_{secrets.token_urlsafe(32)}"
    async with ctx.db.transaction() as tx:
        await tx.sessions.add(
            SessionRecord(
                token_hash=token_hash(token),
                person_id=actor.person.id,
                kind="api",
                name=name,
                csrf_hash=None,
                created_at=ctx.clock(),
                expires_at=None,
            )
        )
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "auth.token_create",
                "person",
                actor.person.id,
                actor.person.label,
                name=name,
            )
        )
    return token


async def authenticate_certificate(ctx: ServiceContext, fingerprint: str) -> Actor:
    """The person a TLS client certificate is registered to (Unauthenticated otherwise)."""
    async with ctx.db.transaction(write=False) as tx:
        try:
            person = await tx.people.by_certificate(fingerprint)
        except NotFound:
            raise Unauthenticated("the client certificate is not registered to anyone") from None
    if not person.active:
        raise Unauthenticated("the account is disabled")
    return person_actor(person, "cot")
