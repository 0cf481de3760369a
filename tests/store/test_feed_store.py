"""The FeedStore contract (services/ports.py), on each back-end: add, get by id or name, list."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kyodo.domain.tracks import Feed
from kyodo.errors import Conflict, NotFound
from kyodo.services.context import ServiceContext

from tests.store.contract import NOW, label


def feed(ctx: ServiceContext, feed_id: str, name: str, ceiling: str = "SECRET//NOFORN") -> Feed:
    return Feed(
        id=feed_id,
        name=name,
        ceiling=label(ctx, ceiling),
        entry=label(ctx, "UNCLASSIFIED"),
        default_label=label(ctx, "SECRET//REL TO USA, JPN"),
        description=f"the {name} feed",
    )


async def test_a_feed_reads_back_by_id_and_by_name(ctx: ServiceContext) -> None:
    made = feed(ctx, "f-surface", "水上 surface", "TOP SECRET//SI//REL TO USA, JPN")
    async with ctx.db.transaction() as tx:
        await tx.feeds.add(made, NOW)
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.feeds.get("f-surface") == made
        assert await tx.feeds.get_by_name("水上 surface") == made


async def test_missing_and_duplicate(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        await tx.feeds.add(feed(ctx, "f-one", "one"), NOW)
    with pytest.raises(Conflict):  # names are unique
        async with ctx.db.transaction() as tx:
            await tx.feeds.add(feed(ctx, "f-two", "one"), NOW)
    async with ctx.db.transaction(write=False) as tx:
        with pytest.raises(NotFound):
            await tx.feeds.get("f-two")
        with pytest.raises(NotFound):
            await tx.feeds.get_by_name("two")


async def test_list_is_by_name(ctx: ServiceContext) -> None:
    names = ["delta", "alpha", "charlie", "bravo"]
    async with ctx.db.transaction() as tx:
        for n, name in enumerate(names):
            await tx.feeds.add(feed(ctx, f"f{n}", name), NOW)
    async with ctx.db.transaction(write=False) as tx:
        listed = [f for f in await tx.feeds.list() if f.name in names]
    assert [f.name for f in listed] == sorted(names)
    assert listed[0] == replace(feed(ctx, "f1", "alpha"))
