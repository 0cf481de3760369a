"""The SessionStore contract (services/ports.py), on each back-end: sessions and API tokens by the
hash of their secret, by id, per person, and their deletion."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from kyodo.services.context import ServiceContext
from kyodo.services.ports import SessionRecord

from tests.store.contract import NOW, person


def _record(person_id: str, n: int, kind: str = "session", **kw: object) -> SessionRecord:
    return SessionRecord(
        token_hash=f"{n:064x}",
        person_id=person_id,
        kind=kind,
        name=f"record {n}",
        csrf_hash=f"{n:064x}"[::-1] if kind == "session" else None,
        created_at=NOW + timedelta(minutes=n),
        expires_at=NOW + timedelta(hours=n),
        id=f"id{n:04d}",
        **kw,  # type: ignore[arg-type]
    )


async def test_a_record_reads_back_as_written_by_hash_and_by_id(ctx: ServiceContext) -> None:
    owner = await person(ctx, "sessions.owner")
    session = _record(owner.id, 1)
    token = _record(owner.id, 2, "api", scopes=frozenset({"read", "write"}), parent_id="id0001")
    async with ctx.db.transaction() as tx:
        await tx.sessions.add(session)
        await tx.sessions.add(token)
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.sessions.get(session.token_hash) == session
        assert await tx.sessions.get_by_id("id0002") == token
        assert await tx.sessions.get("f" * 64) is None
        assert await tx.sessions.get_by_id("missing") is None


async def test_list_for_person_is_per_kind_in_creation_order(ctx: ServiceContext) -> None:
    owner = await person(ctx, "sessions.lister")
    other = await person(ctx, "sessions.other")
    async with ctx.db.transaction() as tx:
        for n in (5, 3, 4):
            await tx.sessions.add(_record(owner.id, n, "api"))
        await tx.sessions.add(_record(owner.id, 6))
        await tx.sessions.add(_record(other.id, 7, "api"))
    async with ctx.db.transaction(write=False) as tx:
        tokens = await tx.sessions.list_for_person(owner.id, "api")
        sessions = await tx.sessions.list_for_person(owner.id, "session")
    assert [r.id for r in tokens] == ["id0003", "id0004", "id0005"]
    assert [r.id for r in sessions] == ["id0006"]


async def test_delete_one_or_every_record_of_a_person(ctx: ServiceContext) -> None:
    owner = await person(ctx, "sessions.leaver")
    other = await person(ctx, "sessions.stayer")
    async with ctx.db.transaction() as tx:
        for n in (1, 2, 3):
            await tx.sessions.add(_record(owner.id, n))
        await tx.sessions.add(_record(other.id, 4))
    async with ctx.db.transaction() as tx:
        await tx.sessions.delete(f"{1:064x}")
        await tx.sessions.delete("f" * 64)  # nothing to delete: no error
        assert await tx.sessions.get(f"{1:064x}") is None
        assert await tx.sessions.delete_for_person(owner.id) == 2
        assert await tx.sessions.delete_for_person(owner.id) == 0
        assert await tx.sessions.get(f"{4:064x}") is not None


async def test_delete_expired_removes_only_records_past_their_expiry(ctx: ServiceContext) -> None:
    owner = await person(ctx, "sessions.expiring")
    async with ctx.db.transaction() as tx:
        for n in (1, 2, 3):  # expire at NOW + 1 h, 2 h, 3 h
            await tx.sessions.add(_record(owner.id, n))
        await tx.sessions.add(replace(_record(owner.id, 4, "api"), expires_at=None))
    async with ctx.db.transaction() as tx:
        assert await tx.sessions.delete_expired(NOW + timedelta(hours=2, minutes=30)) == 2
    async with ctx.db.transaction(write=False) as tx:
        left = await tx.sessions.list_for_person(owner.id, "session")
        tokens = await tx.sessions.list_for_person(owner.id, "api")
    assert [r.name for r in left] == ["record 3"]
    assert [r.name for r in tokens] == ["record 4"]  # a token without expiry stays
