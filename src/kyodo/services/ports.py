"""Storage Protocols the services need: one narrow interface per entity, and the unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime

    from kyodo.audit.chain import AuditEntry, AuditRecord
    from kyodo.domain.identity import Org, Person
    from kyodo.policy import Subject


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A login session or API token, as stored (the secret itself is never stored)."""

    token_hash: str
    person_id: str
    kind: str  # "session" or "api"
    name: str
    csrf_hash: str | None
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters for reading the audit log; all optional."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: str | None = None
    until: str | None = None


class OrgStore(Protocol):
    """Organisations. `reader` filters by label in the query itself."""

    async def add(self, org: Org) -> None: ...
    async def get(self, org_id: str) -> Org: ...
    async def update(self, org: Org) -> None: ...
    async def list(self, reader: Subject, after: str | None, limit: int) -> Sequence[Org]: ...
    async def count(self) -> int: ...


class PersonStore(Protocol):
    """People and their password hashes."""

    async def add(self, person: Person, password_hash: str | None) -> None: ...
    async def get(self, person_id: str) -> Person: ...
    async def get_by_username(self, username: str) -> Person: ...
    async def password_hash(self, person_id: str) -> str | None: ...
    async def set_password_hash(self, person_id: str, password_hash: str) -> None: ...
    async def update(self, person: Person) -> None: ...
    async def list(self, reader: Subject, after: str | None, limit: int) -> Sequence[Person]: ...
    async def count(self) -> int: ...


class SessionStore(Protocol):
    """Sessions and API tokens by the hash of their secret."""

    async def add(self, record: SessionRecord) -> None: ...
    async def get(self, token_hash: str) -> SessionRecord | None: ...
    async def delete(self, token_hash: str) -> None: ...
    async def delete_for_person(self, person_id: str) -> int: ...


class AuditStore(Protocol):
    """The append-only audit log; `append` keeps one chain even with several writers."""

    async def append(self, entry: AuditEntry) -> AuditRecord: ...
    async def list(
        self, query: AuditQuery, after: int | None, limit: int
    ) -> Sequence[AuditRecord]: ...
    def walk(self) -> AsyncIterator[AuditRecord]: ...


class UnitOfWork(Protocol):
    """The stores bound to one transaction: all commit together or not at all."""

    @property
    def orgs(self) -> OrgStore: ...
    @property
    def people(self) -> PersonStore: ...
    @property
    def sessions(self) -> SessionStore: ...
    @property
    def audit(self) -> AuditStore: ...


class Database(Protocol):
    """Opens transactions; `write=False` for read-only work."""

    def transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[UnitOfWork]: ...
    async def ping(self) -> None: ...
    async def dispose(self) -> None: ...
