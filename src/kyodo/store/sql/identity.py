"""SQL stores for organisations and people."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from kyodo.domain.identity import Org, Person, Role
from kyodo.errors import Conflict, NotFound
from kyodo.store.sql.labels import readable_by
from kyodo.store.sql.tables import labels, orgs, people, person_certificates

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncConnection

    from kyodo.policy import Subject
    from kyodo.store.sql.labels import TransactionLabels


def _now() -> datetime:
    return datetime.now(UTC)


class SqlOrgStore:
    """Organisations in the `orgs` table."""

    def __init__(self, conn: AsyncConnection, label_rows: TransactionLabels) -> None:
        self._conn = conn
        self._labels = label_rows

    async def _values(self, org: Org) -> dict[str, Any]:
        return {
            "abbr": org.abbr,
            "name": org.name,
            "name_ja": org.name_ja,
            "nation": org.nation,
            "parent_id": org.parent_id,
            "counterpart_id": org.counterpart_id,
            "label_id": await self._labels.id_of(self._conn, org.label),
            "sources": json.dumps(list(org.sources)),
        }

    async def add(self, org: Org) -> None:
        if (await self._conn.execute(select(orgs.c.id).where(orgs.c.id == org.id))).first():
            raise Conflict(f"organisation {org.id!r} exists already")
        values = await self._values(org)
        await self._conn.execute(orgs.insert().values(id=org.id, created_at=_now(), **values))

    async def update(self, org: Org) -> None:
        values = await self._values(org)
        result = await self._conn.execute(orgs.update().where(orgs.c.id == org.id).values(**values))
        if not result.rowcount:
            raise NotFound(f"no organisation {org.id!r}")

    def _select(self) -> Any:
        return select(orgs, labels.c.body).join(labels, labels.c.id == orgs.c.label_id)

    def _org(self, row: Row[Any]) -> Org:
        m = row._mapping
        return Org(
            id=m["id"],
            abbr=m["abbr"],
            name=m["name"],
            name_ja=m["name_ja"],
            nation=m["nation"],
            parent_id=m["parent_id"],
            counterpart_id=m["counterpart_id"],
            label=self._labels.label(m["label_id"], m["body"]),
            sources=tuple(json.loads(m["sources"])),
        )

    async def get(self, org_id: str) -> Org:
        row = (await self._conn.execute(self._select().where(orgs.c.id == org_id))).first()
        if row is None:
            raise NotFound(f"no organisation {org_id!r}")
        return self._org(row)

    async def list(self, reader: Subject, after: str | None, limit: int) -> Sequence[Org]:
        query = self._select().where(readable_by(reader, orgs.c.label_id))
        if after is not None:
            query = query.where(orgs.c.id > after)
        rows = await self._conn.execute(query.order_by(orgs.c.id).limit(limit))
        return [self._org(r) for r in rows]

    async def count(self) -> int:
        return int((await self._conn.execute(select(func.count()).select_from(orgs))).scalar_one())


class SqlPersonStore:
    """People in the `people` table."""

    def __init__(self, conn: AsyncConnection, label_rows: TransactionLabels) -> None:
        self._conn = conn
        self._labels = label_rows

    async def _values(self, person: Person) -> dict[str, Any]:
        return {
            "username": person.username,
            "name": person.name,
            "name_ja": person.name_ja,
            "nation": person.nation,
            "clearance": person.clearance,
            "clearance_rank": person.clearance_rank,
            "grants": json.dumps(sorted(person.grants)),
            "releasability_grants": json.dumps(sorted(person.releasability_grants)),
            "roles": json.dumps(sorted(r.value for r in person.roles)),
            "org_id": person.org_id,
            "label_id": await self._labels.id_of(self._conn, person.label),
            "active": person.active,
            "version": person.version,
            "language": person.language,
        }

    async def add(self, person: Person, password_hash: str | None) -> None:
        clash = await self._conn.execute(
            select(people.c.id).where(
                (people.c.id == person.id) | (people.c.username == person.username)
            )
        )
        if clash.first():
            raise Conflict(f"a person with username {person.username!r} exists already")
        values = await self._values(person)
        await self._conn.execute(
            people.insert().values(
                id=person.id, password_hash=password_hash, created_at=_now(), **values
            )
        )

    async def update(self, person: Person) -> None:
        values = await self._values(person)
        result = await self._conn.execute(
            people.update().where(people.c.id == person.id).values(**values)
        )
        if not result.rowcount:
            raise NotFound(f"no person {person.id!r}")

    def _select(self) -> Any:
        return select(people, labels.c.body).join(labels, labels.c.id == people.c.label_id)

    def _person(self, row: Row[Any]) -> Person:
        m = row._mapping
        return Person(
            id=m["id"],
            username=m["username"],
            name=m["name"],
            name_ja=m["name_ja"],
            nation=m["nation"],
            clearance=m["clearance"],
            clearance_rank=m["clearance_rank"],
            grants=frozenset(json.loads(m["grants"])),
            releasability_grants=frozenset(json.loads(m["releasability_grants"])),
            roles=frozenset(Role(r) for r in json.loads(m["roles"])),
            org_id=m["org_id"],
            label=self._labels.label(m["label_id"], m["body"]),
            active=bool(m["active"]),
            language=m["language"],
            version=m["version"],
        )

    async def get(self, person_id: str) -> Person:
        row = (await self._conn.execute(self._select().where(people.c.id == person_id))).first()
        if row is None:
            raise NotFound(f"no person {person_id!r}")
        return self._person(row)

    async def get_many(self, person_ids: Collection[str]) -> dict[str, Person]:
        """The people of these ids that exist, by id, in one query (a page's authors)."""
        if not person_ids:
            return {}
        rows = await self._conn.execute(self._select().where(people.c.id.in_(list(person_ids))))
        return {person.id: person for person in map(self._person, rows)}

    async def get_by_username(self, username: str) -> Person:
        query = self._select().where(people.c.username == username)
        row = (await self._conn.execute(query)).first()
        if row is None:
            raise NotFound(f"no person with username {username!r}")
        return self._person(row)

    async def password_hash(self, person_id: str) -> str | None:
        query = select(people.c.password_hash).where(people.c.id == person_id)
        found: str | None = (await self._conn.execute(query)).scalar_one_or_none()
        return found

    async def set_password_hash(self, person_id: str, password_hash: str) -> None:
        await self._conn.execute(
            people.update().where(people.c.id == person_id).values(password_hash=password_hash)
        )

    async def register_certificate(
        self, fingerprint: str, person_id: str, subject: str, at: datetime
    ) -> None:
        found = await self._conn.execute(
            select(person_certificates.c.person_id).where(
                person_certificates.c.fingerprint == fingerprint
            )
        )
        if found.first():
            raise Conflict("this certificate is registered already")
        await self._conn.execute(
            person_certificates.insert().values(
                fingerprint=fingerprint, person_id=person_id, subject=subject, registered_at=at
            )
        )

    async def revoke_certificate(self, fingerprint: str) -> str:
        """Forget a certificate; returns the person it was registered to."""
        query = select(person_certificates.c.person_id).where(
            person_certificates.c.fingerprint == fingerprint
        )
        person_id = (await self._conn.execute(query)).scalar_one_or_none()
        if person_id is None:
            raise NotFound("no such registered certificate")
        await self._conn.execute(
            person_certificates.delete().where(person_certificates.c.fingerprint == fingerprint)
        )
        return str(person_id)

    async def by_certificate(self, fingerprint: str) -> Person:
        query = self._select().where(
            people.c.id.in_(
                select(person_certificates.c.person_id).where(
                    person_certificates.c.fingerprint == fingerprint
                )
            )
        )
        row = (await self._conn.execute(query)).first()
        if row is None:
            raise NotFound("no person holds this certificate")
        return self._person(row)

    async def list(self, reader: Subject, after: str | None, limit: int) -> Sequence[Person]:
        query = self._select().where(readable_by(reader, people.c.label_id))
        if after is not None:
            query = query.where(people.c.username > after)
        rows = await self._conn.execute(query.order_by(people.c.username).limit(limit))
        return [self._person(r) for r in rows]

    async def count(self) -> int:
        query = select(func.count()).select_from(people)
        return int((await self._conn.execute(query)).scalar_one())
