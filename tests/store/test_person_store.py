"""The PersonStore contract (services/ports.py), on each back-end: people, password hashes,
certificates, and the label-filtered list."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kyodo.errors import Conflict, NotFound
from kyodo.policy import may_read
from kyodo.services.context import ServiceContext

from tests.store.contract import NOW, person, reader


async def test_get_by_id_and_username_and_update(ctx: ServiceContext) -> None:
    made = await person(ctx, "store.alice", nation="JPN", clearance="KIMITSU", grants=("SDS",))
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.people.get(made.id) == made
        assert await tx.people.get_by_username("store.alice") == made
    changed = replace(made, name="Alice Renamed", language="ja", version=made.version + 1)
    async with ctx.db.transaction() as tx:
        await tx.people.update(changed)
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.people.get(made.id) == changed


async def test_missing_and_duplicate(ctx: ServiceContext) -> None:
    made = await person(ctx, "store.bob")
    with pytest.raises(Conflict):
        async with ctx.db.transaction() as tx:
            await tx.people.add(replace(made, id="another-id"), None)
    async with ctx.db.transaction() as tx:
        with pytest.raises(NotFound):
            await tx.people.get("no-such-id")
        with pytest.raises(NotFound):
            await tx.people.get_by_username("no.such.user")
        with pytest.raises(NotFound):
            await tx.people.update(replace(made, id="no-such-id", username="ghost"))


async def test_password_hashes(ctx: ServiceContext) -> None:
    made = await person(ctx, "store.carol", password=None)
    async with ctx.db.transaction() as tx:
        assert await tx.people.password_hash(made.id) is None
        await tx.people.set_password_hash(made.id, "$argon2id$fake")
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.people.password_hash(made.id) == "$argon2id$fake"
        assert await tx.people.password_hash("no-such-id") is None


async def test_certificates_register_once_find_their_person_and_revoke(
    ctx: ServiceContext,
) -> None:
    made = await person(ctx, "store.dave")
    fingerprint = "ab" * 32
    async with ctx.db.transaction() as tx:
        await tx.people.register_certificate(fingerprint, made.id, "CN=dave", NOW)
    with pytest.raises(Conflict):
        async with ctx.db.transaction() as tx:
            await tx.people.register_certificate(fingerprint, made.id, "CN=dave", NOW)
    async with ctx.db.transaction() as tx:
        assert (await tx.people.by_certificate(fingerprint)).id == made.id
        assert await tx.people.revoke_certificate(fingerprint) == made.id
        with pytest.raises(NotFound):
            await tx.people.by_certificate(fingerprint)
        with pytest.raises(NotFound):
            await tx.people.revoke_certificate(fingerprint)


async def test_list_is_by_username_paged_and_filtered_like_the_policy(
    ctx: ServiceContext,
) -> None:
    made = [
        await person(ctx, "list.us.ts", clearance="TOP SECRET"),
        await person(ctx, "list.jp.kimitsu", nation="JPN", clearance="KIMITSU"),
        await person(ctx, "list.us.u", clearance="UNCLASSIFIED"),
        await person(ctx, "list.jp.hi", nation="JPN", clearance="HI"),
        await person(ctx, "list.us.s", clearance="SECRET"),
    ]
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.people.count() >= len(made)
        for subject in (reader(ctx), reader(ctx, "JPN", "GOKUHI"), reader(ctx, "USA", "SECRET")):
            seen: list[str] = []
            after = None
            while page := await tx.people.list(subject, after, 2):
                assert len(page) <= 2
                seen += [p.username for p in page]
                after = page[-1].username
            assert seen == sorted(seen) and len(set(seen)) == len(seen)
            ours = [p.username for p in made]
            assert [u for u in seen if u in ours] == sorted(
                p.username for p in made if may_read(subject, p.label)
            )
