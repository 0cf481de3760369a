"""Logins, sessions, API tokens and CSRF: who is calling, proven without storing any secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2.exceptions import InvalidHashError, VerificationError

from kyodo.audit.chain import AuditEntry
from kyodo.errors import NotFound, PermissionDenied, RateLimited, Unauthenticated
from kyodo.labels import label_to_dict
from kyodo.services.access import audit_entry
from kyodo.services.actor import person_actor
from kyodo.services.ports import SessionRecord
from kyodo.services.session_ends import descendants, end_sessions

if TYPE_CHECKING:
    from kyodo.domain.identity import Person
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import UnitOfWork

UNKNOWN_USER = "(unknown user)"
INVALID_CREDENTIALS = "invalid username or password"
# Verified when the username does not exist, so both failures take the same time.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$Z8aFMyTxokteYoB1/SDQcA$"
    "MzFFnVCdGOT5c1O+lpIiNEFuZpr3KcLHSYgQPI/7L7g"
)


SCOPE_READ = "read"
SCOPE_WRITE = "write"
SCOPE_ADMIN = "admin"
SCOPES = frozenset({SCOPE_READ, SCOPE_WRITE, SCOPE_ADMIN})


def new_id() -> str:
    """A session's or token's public id: random, unrelated to its secret."""
    return secrets.token_hex(8)


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
    """Check the password; Unauthenticated without saying which part was wrong.

    Throttled attempts are refused before the password is looked at (so they tell a guesser
    nothing) and audited at most once per throttled key and window, not once per attempt."""
    person, stored = await _check_password(ctx, username, password, address)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = ctx.clock()
    async with ctx.db.transaction() as tx:
        await _rehash(ctx, tx, person, stored, password)
        await tx.sessions.add(
            SessionRecord(
                token_hash=token_hash(token),
                person_id=person.id,
                kind="session",
                name="browser",
                csrf_hash=token_hash(csrf),
                created_at=now,
                expires_at=now + ctx.session_ttl,
                id=new_id(),
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


async def login_stream(
    ctx: ServiceContext, username: str, password: str, address: str, *, via: str
) -> Actor:
    """The person a username and password name, for a connection that proves who it is once,
    at its start (a TAK client's `<auth>`): checked, throttled and audited exactly as a web
    login (`auth.login`, with `via`), but no session is made, since the connection is the
    session. Unauthenticated or RateLimited, audited, when refused."""
    person, stored = await _check_password(ctx, username, password, address)
    async with ctx.db.transaction() as tx:
        await _rehash(ctx, tx, person, stored, password)
        await tx.audit.append(
            AuditEntry(
                actor=person.username,
                action="auth.login",
                object_type="person",
                object_id=person.id,
                label=label_to_dict(person.label, ctx.registry),
                details={"address": address, "via": via},
            )
        )
    return person_actor(person, via)


async def _rehash(
    ctx: ServiceContext, tx: UnitOfWork, person: Person, stored: str, password: str
) -> None:
    if ctx.passwords.check_needs_rehash(stored):
        await tx.people.set_password_hash(person.id, ctx.passwords.hash(password))


async def _check_password(
    ctx: ServiceContext, username: str, password: str, address: str
) -> tuple[Person, str]:
    """The active person with that username and password, and their stored hash; refusals are
    throttled and audited (see `login`)."""
    throttled = ctx.throttle.check(username, address)
    if throttled is not None:
        if throttled.audit:
            async with ctx.db.transaction() as tx:
                try:
                    known = (await tx.people.get_by_username(username)).username
                except NotFound:
                    known = UNKNOWN_USER  # never the typed text: it may be a password
                await tx.audit.append(
                    AuditEntry(
                        actor=known,
                        action="auth.login_throttled",
                        object_type="person",
                        object_id="(unchecked)",
                        decision="deny",
                        reasons=(throttled.reason,),
                        details={
                            "address": address,
                            "refused_since_last_record": throttled.refused,
                        },
                    )
                )
        raise RateLimited(
            "too many failed logins; try again later", retry_after=throttled.retry_after
        )
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
                    # A name that matches no account is not recorded: people type their
                    # password into the username field, and security officers read this log.
                    actor=username if person is not None else UNKNOWN_USER,
                    action="auth.login_failed",
                    object_type="person",
                    object_id=person.id if person else "(unknown)",
                    decision="deny",
                    label=None if person is None else label_to_dict(person.label, ctx.registry),
                    reasons=(INVALID_CREDENTIALS,),
                    details={"address": address}
                    if person is not None
                    else {"address": address, "typed_length": len(username)},
                )
            )
        raise Unauthenticated(INVALID_CREDENTIALS)
    ctx.throttle.succeeded(username, address)
    if stored is None:  # pragma: no cover - `ok` holds only with a stored hash
        raise Unauthenticated(INVALID_CREDENTIALS)
    return person, stored


def _verify(ctx: ServiceContext, stored: str, password: str) -> bool:
    try:
        return ctx.passwords.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def authenticate(ctx: ServiceContext, token: str, *, kind: str) -> Actor:
    """The actor behind a session cookie (kind "session") or API token (kind "api");
    Unauthenticated if none, the other kind, or expired. A session's secret is never accepted
    as a bearer token: it would escape the cookie's HttpOnly and SameSite protections."""
    digest = token_hash(token)
    record = await ctx.reads.sessions.fetch(digest, lambda: _load_session(ctx, digest))
    person = await ctx.reads.people.fetch(
        record.person_id, lambda: _load_person(ctx, record.person_id)
    )
    if record.kind != kind:
        raise Unauthenticated("not logged in, or the session has ended")
    if record.expires_at is not None and record.expires_at <= ctx.clock():
        raise Unauthenticated("the session has expired; log in again")
    if not person.active:
        raise Unauthenticated("the account is disabled")
    via = "api" if record.kind == "api" else "session"
    return person_actor(
        person,
        via,
        record.token_hash,
        record.csrf_hash,
        scopes=record.scopes if record.kind == "api" else None,
        token_id=record.id or None,
    )


async def require_scope(ctx: ServiceContext, actor: Actor, scope: str) -> None:
    """Refuse (and audit) a token whose scopes do not include `scope`; sessions hold them all.
    Called once per request by the transports (read for safe methods and the stream, write for
    the rest); the admin scope is enforced through the roles (see `person_actor`)."""
    if actor.scopes is None or scope in actor.scopes:
        return
    reason = f"this token may not {scope} (its scopes: {', '.join(sorted(actor.scopes))})"
    async with ctx.db.transaction() as tx:
        await tx.audit.append(
            _denied(actor, "auth.scope_refused", "token", actor.token_id or "(unknown)", reason)
        )
    raise PermissionDenied(reason)


def _denied(actor: Actor, action: str, object_type: str, object_id: str, reason: str) -> AuditEntry:
    return AuditEntry(
        actor=actor.audit_name,
        action=action,
        object_type=object_type,
        object_id=object_id,
        decision="deny",
        reasons=(reason,),
    )


async def confirm_password(ctx: ServiceContext, actor: Actor, current: str | None) -> None:
    """Before a person changes their own password: they are logged in with a session (a token
    alone never may) and give their current password, guessed no faster than at the login (a
    stolen session is not a free password oracle). Refusals are audited."""
    if actor.person is None or actor.via != "session":
        reason = "log in with your password to change it (a token cannot)"
    elif not current:
        reason = "give your current password"
    else:
        # The session stands in for the address: the account's failures count with the logins'.
        where = f"session:{actor.session_hash}"
        throttled = ctx.throttle.check(actor.person.username, where)
        if throttled is not None:
            if throttled.audit:
                async with ctx.db.transaction() as tx:
                    await tx.audit.append(
                        _denied(
                            actor, "person.password", "person", actor.subject.id, throttled.reason
                        )
                    )
            raise RateLimited(
                "too many wrong passwords; try again later", retry_after=throttled.retry_after
            )
        async with ctx.db.transaction(write=False) as tx:
            stored = await tx.people.password_hash(actor.person.id)
        if _verify(ctx, stored or _DUMMY_HASH, current) and stored is not None:
            return
        ctx.throttle.failed(actor.person.username, where)
        reason = "the current password is wrong"
    async with ctx.db.transaction() as tx:
        await tx.audit.append(_denied(actor, "person.password", "person", actor.subject.id, reason))
    raise PermissionDenied(reason)


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
        ended = [actor.session_hash]
        if actor.via == "api" and actor.token_id:
            # Everything this token minted goes with it.
            minted = await tx.sessions.list_for_person(actor.subject.id, "api")
            ended += [r.token_hash for r in descendants(minted, actor.token_id)]
        for digest in ended:
            await tx.sessions.delete(digest)
        label = actor.person.label if actor.person is not None else None
        await tx.audit.append(
            audit_entry(
                ctx, actor, "auth.logout", "person", actor.subject.id, label, ended=len(ended)
            )
        )
        end_sessions(tx, ctx, actor.subject.id, ended)


async def authenticate_certificate(ctx: ServiceContext, fingerprint: str) -> Actor:
    """The person a TLS client certificate is registered to (Unauthenticated otherwise)."""
    actor = await certificate_actor(ctx, fingerprint)
    if actor is None:
        raise Unauthenticated("the client certificate is not registered to anyone")
    return actor


async def certificate_actor(
    ctx: ServiceContext, fingerprint: str, *, via: str = "cot"
) -> Actor | None:
    """The person a TLS client certificate is registered to; None if it is registered to
    nobody (the connection may still prove who it is otherwise), Unauthenticated if it is
    registered to a disabled account (the certificate decides: nothing else is tried)."""
    async with ctx.db.transaction(write=False) as tx:
        try:
            person = await tx.people.by_certificate(fingerprint)
        except NotFound:
            return None
    if not person.active:
        raise Unauthenticated("the account is disabled")
    return person_actor(person, via)


CERTIFICATE_NOT_REGISTERED = "the client certificate is not registered to anyone"


CROSS_ORIGIN = "a request from another site's page is not authenticated by a client certificate"


async def request_certificate_actor(
    ctx: ServiceContext,
    fingerprint: str,
    address: str,
    *,
    cross_origin: bool = False,
    via: str = "certificate",
) -> Actor:
    """The caller of an HTTPS request whose TLS connection presented this certificate (it
    verified against the CA in the handshake): the person it is registered to. A certificate
    registered to nobody (never, or revoked) or to a disabled account is refused, and each
    refusal audited (`auth.certificate_refused`, with the fingerprint and address): only a
    holder of a key the CA certified gets this far, so these are few. A browser sends its
    certificate with whatever request a page of any site makes it send, so a state-changing
    request the transport saw come from another origin (`cross_origin`) is refused too."""
    try:
        actor = await certificate_actor(ctx, fingerprint, via=via)
    except Unauthenticated as exc:
        reason = exc.message
    else:
        if actor is not None and not cross_origin:
            return actor
        reason = CERTIFICATE_NOT_REGISTERED if actor is None else CROSS_ORIGIN
    async with ctx.db.transaction() as tx:
        await tx.audit.append(
            AuditEntry(
                actor=f"certificate:{fingerprint[:16]}",
                action="auth.certificate_refused",
                object_type="certificate",
                object_id=fingerprint,
                decision="deny",
                reasons=(reason,),
                details={"address": address, "via": via},
            )
        )
    if reason == CROSS_ORIGIN:
        raise PermissionDenied(reason)
    raise Unauthenticated(reason)
