"""Who is acting: a logged-in person, an API token's owner, or the local operator (CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.domain.identity import Role
from kyodo.policy import Subject

if TYPE_CHECKING:
    from kyodo.domain.identity import Person


@dataclass(frozen=True, slots=True)
class Actor:
    """The acting person as the policy sees them, and how they got in."""

    subject: Subject
    name: str
    via: str  # "session", "api", "cli"
    person: Person | None = None
    session_hash: str | None = None
    csrf_hash: str | None = None

    @property
    def audit_name(self) -> str:
        """How the actor appears in the audit log."""
        return self.name if self.via != "cli" else f"cli:{self.name}"


def operator_actor(name: str, top_rank: int) -> Actor:
    """The operator at the server's console: may administer everything (they hold the database)."""
    subject = Subject(
        id=f"cli:{name}",
        nation="",
        clearance="OPERATOR",
        clearance_rank=top_rank,
        roles=frozenset(r.value for r in Role),
    )
    return Actor(subject=subject, name=name, via="cli")


def person_actor(
    person: Person, via: str, session_hash: str | None = None, csrf_hash: str | None = None
) -> Actor:
    """The actor for a logged-in person."""
    return Actor(person.subject(), person.username, via, person, session_hash, csrf_hash)
