"""The OrgStore contract (services/ports.py), on each back-end: add, get, update, list, count."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kyodo.domain.identity import Org
from kyodo.errors import Conflict, NotFound
from kyodo.services.context import ServiceContext

from tests.store.contract import label, reader


def _org(ctx: ServiceContext, org_id: str, marking: str = "UNCLASSIFIED") -> Org:
    return Org(
        id=org_id,
        abbr=org_id.upper(),
        name=f"Org {org_id}",
        nation="USA",
        label=label(ctx, marking),
    )


async def test_add_get_update_and_count(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        before = await tx.orgs.count()
        await tx.orgs.add(_org(ctx, "o1"))
        await tx.orgs.add(
            replace(_org(ctx, "o2"), parent_id="o1", name_ja="組織", sources=("a", "b"))
        )
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.orgs.get("o2") == replace(
            _org(ctx, "o2"), parent_id="o1", name_ja="組織", sources=("a", "b")
        )
        assert await tx.orgs.count() == before + 2
    async with ctx.db.transaction() as tx:
        await tx.orgs.update(replace(_org(ctx, "o1", "SECRET//NOFORN"), name="Renamed"))
    async with ctx.db.transaction(write=False) as tx:
        got = await tx.orgs.get("o1")
    assert got.name == "Renamed" and got.label == label(ctx, "SECRET//NOFORN")


async def test_missing_and_duplicate(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        await tx.orgs.add(_org(ctx, "dup"))
    with pytest.raises(Conflict):
        async with ctx.db.transaction() as tx:
            await tx.orgs.add(_org(ctx, "dup", "SECRET"))
    async with ctx.db.transaction() as tx:
        with pytest.raises(NotFound):
            await tx.orgs.get("missing")
        with pytest.raises(NotFound):
            await tx.orgs.update(_org(ctx, "missing"))


async def test_list_is_by_id_paged_after_a_cursor_and_filtered_by_the_reader(
    ctx: ServiceContext,
) -> None:
    markings = ["UNCLASSIFIED", "SECRET//NOFORN", "SECRET//REL TO USA, JPN", "TOP SECRET//NOFORN"]
    async with ctx.db.transaction() as tx:
        for n in reversed(range(8)):  # inserted out of order
            await tx.orgs.add(_org(ctx, f"p{n}", markings[n % 4]))
    everyone = reader(ctx)
    pages: list[list[str]] = []
    after = None
    async with ctx.db.transaction(write=False) as tx:
        while page := await tx.orgs.list(everyone, after, 3):
            pages.append([o.id for o in page if o.id.startswith("p")])
            after = page[-1].id
        japanese = await tx.orgs.list(reader(ctx, "JPN", "KIMITSU"), None, 100)
    assert [i for page in pages for i in page] == [f"p{n}" for n in range(8)]
    assert all(len(p) <= 3 for p in pages)
    assert {o.id for o in japanese if o.id.startswith("p")} == {"p0", "p2", "p4", "p6"}
