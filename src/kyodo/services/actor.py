"""Who is acting: a logged-in person, an API token's owner, or the local operator (CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from kyodo.domain.identity import Role
from kyodo.policy import Subject

if TYPE_CHECKING:
    from kyodo.audit.chain import AuditEntry
    from kyodo.domain.identity import Person
    from kyodo.labels import SchemeRegistry


class RefusalSink(Protocol):
    """Where an actor's refusals are audited instead of one transaction each (a connection
    that may send thousands a second: see `access.CountedRefusals`)."""

    async def record(self, entry: AuditEntry) -> None: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """The acting person as the policy sees them, and how they got in."""

    subject: Subject
    name: str
    via: str  # "session", "api", "cli"
    person: Person | None = None
    session_hash: str | None = None
    csrf_hash: str | None = None
    # Where this actor's refusals are audited, if not one transaction each (a CoT connection).
    refusals: RefusalSink | None = field(default=None, compare=False, repr=False)
    # What an API token may do (read, write, admin); None for a login session or the console.
    scopes: frozenset[str] | None = None
    token_id: str | None = None  # the session's or token's public id

    @property
    def audit_name(self) -> str:
        """How the actor appears in the audit log."""
        return self.name if self.via != "cli" else f"cli:{self.name}"


def operator_actor(name: str, registry: SchemeRegistry) -> Actor:
    """The operator at the server's console: may administer everything (they hold the database
    and its files already), so the policy sees every level, category and nation."""
    schemes = registry.schemes.values()
    subject = Subject(
        id=f"cli:{name}",
        nation="",
        clearance="OPERATOR",
        clearance_rank=max(level.rank for s in schemes for level in s.levels),
        grants=frozenset(c.id for s in schemes for c in s.categories),
        roles=frozenset(r.value for r in Role),
        releasability_grants=registry.nations,
    )
    return Actor(subject=subject, name=name, via="cli")


# The roles a token uses only with the admin scope: without it, it acts as a plain member.
PRIVILEGED_ROLES = frozenset(r.value for r in Role) - {Role.MEMBER.value}


def person_actor(
    person: Person,
    via: str,
    session_hash: str | None = None,
    csrf_hash: str | None = None,
    *,
    scopes: frozenset[str] | None = None,
    token_id: str | None = None,
) -> Actor:
    """The actor for a logged-in person; a token without the admin scope loses the person's
    administrative roles, so every role check (the policy's) also enforces the scope."""
    subject = person.subject()
    if scopes is not None and "admin" not in scopes:
        subject = replace(subject, roles=subject.roles - PRIVILEGED_ROLES)
    return Actor(
        subject,
        person.username,
        via,
        person,
        session_hash,
        csrf_hash,
        scopes=scopes,
        token_id=token_id,
    )
