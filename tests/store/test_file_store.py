"""The FileStore contract (services/ports.py), on each back-end: one record per (hash, label), the
content kept byte for byte, reads filtered by label in the query, search by tool, name and keyword,
and a tombstoned record no longer found but kept."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from kyodo.domain.files import StoredFile
from kyodo.errors import Conflict, NotFound
from kyodo.services.context import ServiceContext

from tests.store.contract import NOW, label, reader

CONTENT = bytes(range(256)) * 64  # every byte value: nothing may be re-encoded
SHA = hashlib.sha256(CONTENT).hexdigest()


def record(
    ctx: ServiceContext,
    marking: str = "UNCLASSIFIED",
    *,
    sha256: str = SHA,
    name: str = "pkg.zip",
    keywords: tuple[str, ...] = ("missionpackage",),
    minutes: int = 0,
) -> StoredFile:
    return StoredFile(
        id=0,
        sha256=sha256,
        name=name,
        mime_type="application/x-zip-compressed",
        size=len(CONTENT),
        keywords=keywords,
        creator_uid="ANDROID-1",
        submitter_id="person-1",
        submitter="smith",
        submitted_at=NOW + timedelta(minutes=minutes),
        tool="public",
        label=label(ctx, marking),
    )


async def test_a_file_reads_back_with_its_content(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        stored = await tx.files.add(
            record(ctx, "SECRET//REL TO USA, JPN", name="地図.zip"), CONTENT
        )
    assert stored.id > 0
    async with ctx.db.transaction(write=False) as tx:
        got = await tx.files.get(stored.id)
        assert await tx.files.content(stored.id) == CONTENT
    assert got == stored
    assert (got.name, got.sha256, got.keywords, got.submitted_at) == (
        "地図.zip",
        SHA,
        ("missionpackage",),
        NOW,
    )
    assert got.label == label(ctx, "SECRET//REL TO USA, JPN")


async def test_one_record_per_hash_and_label(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        low = await tx.files.add(record(ctx), CONTENT)
        high = await tx.files.add(record(ctx, "SECRET//NOFORN", name="other.zip"), CONTENT)
    assert low.id != high.id
    with pytest.raises(Conflict):
        async with ctx.db.transaction() as tx:
            await tx.files.add(record(ctx, name="again.zip"), CONTENT)
    async with ctx.db.transaction(write=False) as tx:
        us = await tx.files.by_hash(SHA, reader(ctx))
        jp = await tx.files.by_hash(SHA, reader(ctx, nation="JPN"))
        held = await tx.files.held(SHA)
    assert [f.id for f in us] == [low.id, high.id]
    assert [f.id for f in jp] == [low.id]  # NOFORN filtered in the query
    assert [f.id for f in held] == [low.id, high.id]


async def test_search_filters_by_label_tool_name_and_keyword(ctx: ServiceContext) -> None:
    other = hashlib.sha256(b"other").hexdigest()
    async with ctx.db.transaction() as tx:
        a = await tx.files.add(record(ctx, keywords=("Photo", "harbor")), CONTENT)
        b = await tx.files.add(record(ctx, "SECRET//NOFORN", sha256=other, name="B.zip"), b"x")
        await tx.files.set_tool(b.id, "private")
    async with ctx.db.transaction(write=False) as tx:
        us, jp = reader(ctx), reader(ctx, nation="JPN")
        assert [f.id for f in await tx.files.search(us)] == [a.id, b.id]
        assert [f.id for f in await tx.files.search(jp)] == [a.id]
        assert [f.id for f in await tx.files.search(us, tool="private")] == [b.id]
        assert [f.id for f in await tx.files.search(us, name="b.zip")] == [b.id]
        assert [f.id for f in await tx.files.search(us, keyword="photo")] == [a.id]
        assert [f.id for f in await tx.files.search(us, keyword="phot")] == []
        assert len(await tx.files.search(us, limit=1)) == 1
        assert (await tx.files.get(b.id)).tool == "private"


async def test_a_tombstoned_file_is_kept_but_not_found(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        stored = await tx.files.add(record(ctx), CONTENT)
        await tx.files.tombstone(stored.id, "admin-1", NOW)
    async with ctx.db.transaction(write=False) as tx:
        kept = await tx.files.get(stored.id)
        assert (kept.deleted_at, kept.deleted_by) == (NOW, "admin-1")
        assert await tx.files.by_hash(SHA, reader(ctx)) == []
        assert await tx.files.held(SHA) == []
        assert await tx.files.search(reader(ctx)) == []
        with pytest.raises(NotFound):
            await tx.files.content(stored.id)
        with pytest.raises(NotFound):
            await tx.files.get(stored.id + 1000)
