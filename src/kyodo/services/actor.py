"""Who is acting: a logged-in person, an API token's owner, or the local operator (CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kyodo.domain.identity import Role
from kyodo.policy import Subject

if TYPE_CHECKING:
    from kyodo.domain.identity import Person
    from kyodo.labels import SchemeRegistry
    from kyodo.services.access import RefusalSink


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


def person_actor(
    person: Person, via: str, session_hash: str | None = None, csrf_hash: str | None = None
) -> Actor:
    """The actor for a logged-in person."""
    return Actor(person.subject(), person.username, via, person, session_hash, csrf_hash)
