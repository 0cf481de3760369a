"""The MessageStore contract (services/ports.py), on each back-end: seqs in order, every version
kept, tombstones and purges, label-filtered lists, changes in rev order, search and retention."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from kyodo.domain.nets import Message, MessageVersion
from kyodo.errors import NotFound
from kyodo.policy import may_read
from kyodo.services.context import ServiceContext

from tests.store.contract import NOW, label, person, reader
from tests.store.test_net_store import net

MARKINGS = ["UNCLASSIFIED", "SECRET//NOFORN", "SECRET//REL TO USA, JPN", "TOP SECRET//NOFORN"]


def draft(ctx: ServiceContext, author: str, n: int, net_id: str = "n-msg") -> Message:
    text = f"report {n} convoy ソナー"
    return Message(
        seq=0,
        net_id=net_id,
        author_id=author,
        label=label(ctx, MARKINGS[n % len(MARKINGS)]),
        text=text,
        html=f"<p>{text}</p>\n",
        created_at=NOW + timedelta(minutes=n),
    )


@pytest.fixture
async def author(ctx: ServiceContext) -> str:
    made = await person(ctx, "messages.author", clearance="TOP SECRET")
    async with ctx.db.transaction() as tx:
        await tx.nets.add(net(ctx, "n-msg", "messages", "TOP SECRET//NOFORN"))
        await tx.nets.add(net(ctx, "n-other", "other", "TOP SECRET//NOFORN"))
    return made.id


async def test_add_gives_increasing_seqs_and_the_first_version(
    ctx: ServiceContext, author: str
) -> None:
    async with ctx.db.transaction() as tx:
        one = await tx.messages.add(draft(ctx, author, 0))
        batch = await tx.messages.add_many([draft(ctx, author, n) for n in (1, 2, 3)])
        reply = await tx.messages.add(replace(draft(ctx, author, 4), reply_to=one.seq))
    seqs = [one.seq, *(m.seq for m in batch), reply.seq]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.messages.get(one.seq) == replace(draft(ctx, author, 0), seq=one.seq)
        assert (await tx.messages.get(reply.seq)).reply_to == one.seq
        (version,) = await tx.messages.versions(batch[1].seq)
        with pytest.raises(NotFound):
            await tx.messages.get(seqs[-1] + 1000)
        walked = [m.seq async for m in tx.messages.walk()]
        versions = [(v.message_seq, v.version) async for v in tx.messages.walk_versions()]
    assert version == MessageVersion(
        batch[1].seq, 1, batch[1].label, batch[1].text, author, NOW + timedelta(minutes=2)
    )
    assert walked == seqs
    assert versions == [(s, 1) for s in seqs]


async def test_edits_keep_every_version_and_tombstones_and_purges_keep_the_row(
    ctx: ServiceContext, author: str
) -> None:
    async with ctx.db.transaction() as tx:
        sent = await tx.messages.add(draft(ctx, author, 0))
    edited = replace(
        sent,
        text="corrected",
        html="<p>corrected</p>\n",
        version=2,
        edited_at=NOW + timedelta(hours=1),
        label=label(ctx, "SECRET//NOFORN"),
    )
    async with ctx.db.transaction() as tx:
        await tx.messages.edit(edited, author)
    async with ctx.db.transaction() as tx:
        assert await tx.messages.get(sent.seq) == edited
        assert [(v.version, v.text, v.label) for v in await tx.messages.versions(sent.seq)] == [
            (1, sent.text, sent.label),
            (2, "corrected", label(ctx, "SECRET//NOFORN")),
        ]
        await tx.messages.tombstone(sent.seq, author, NOW + timedelta(hours=2))
        gone = await tx.messages.get(sent.seq)
        assert (gone.deleted_at, gone.deleted_by) == (NOW + timedelta(hours=2), author)
        await tx.messages.purge(sent.seq)
        purged = await tx.messages.get(sent.seq)
        assert purged.purged and purged.text == "" and purged.html == ""
        assert [v.text for v in await tx.messages.versions(sent.seq)] == ["", ""]


async def test_list_is_by_seq_paged_filtered_by_net_label_and_deletion(
    ctx: ServiceContext, author: str
) -> None:
    async with ctx.db.transaction() as tx:
        made = [await tx.messages.add(draft(ctx, author, n)) for n in range(8)]
        elsewhere = await tx.messages.add(draft(ctx, author, 0, "n-other"))
        await tx.messages.tombstone(made[4].seq, author, NOW)
    jp = reader(ctx, "JPN", "KIMITSU")
    async with ctx.db.transaction(write=False) as tx:
        everything = await tx.messages.list(["n-msg"], None, None, 100)
        assert [m.seq for m in everything] == [m.seq for m in made]
        paged: list[int] = []
        after = None
        while page := await tx.messages.list(["n-msg"], None, after, 3):
            paged += [m.seq for m in page]
            after = page[-1].seq
        assert paged == [m.seq for m in made]
        japanese = await tx.messages.list(["n-msg"], jp, None, 100)
        assert [m.seq for m in japanese] == [m.seq for m in made if may_read(jp, m.label)]
        undeleted = await tx.messages.list(["n-msg"], None, None, 100, include_deleted=False)
        assert made[4].seq not in {m.seq for m in undeleted} and len(undeleted) == 7
        both = await tx.messages.list(["n-msg", "n-other"], None, None, 100)
        assert [m.seq for m in both][-1] == elsewhere.seq
        assert await tx.messages.list([], None, None, 100) == []


async def test_changes_come_in_rev_order_after_a_rev_for_readers(
    ctx: ServiceContext, author: str
) -> None:
    async with ctx.db.transaction() as tx:
        made = [await tx.messages.add(draft(ctx, author, n)) for n in range(4)]
        for rev, message in zip((40, 10, 30, 20), made, strict=True):
            await tx.messages.set_rev(message.seq, rev)
    us, jp = reader(ctx), reader(ctx, "JPN", "KIMITSU")
    async with ctx.db.transaction(write=False) as tx:
        assert [m.rev for m in await tx.messages.changes(["n-msg"], us, 0, 100)] == [10, 20, 30, 40]
        assert [m.rev for m in await tx.messages.changes(["n-msg"], us, 20, 100)] == [30, 40]
        assert [m.rev for m in await tx.messages.changes(["n-msg"], us, 0, 2)] == [10, 20]
        # JPN may read the UNCLASSIFIED (rev 40) and REL TO USA, JPN (rev 30) ones.
        assert [m.rev for m in await tx.messages.changes(["n-msg"], jp, 0, 100)] == [30, 40]


async def test_search_finds_words_newest_first_for_readers_and_skips_deleted(
    ctx: ServiceContext, author: str
) -> None:
    async with ctx.db.transaction() as tx:
        made = [await tx.messages.add(draft(ctx, author, n)) for n in range(6)]
        other = replace(draft(ctx, author, 6), text="nothing relevant", html="<p>x</p>")
        await tx.messages.add(other)
        await tx.messages.tombstone(made[0].seq, author, NOW)
    us, jp = reader(ctx), reader(ctx, "JPN", "KIMITSU")
    async with ctx.db.transaction(write=False) as tx:
        found = await tx.messages.search(["n-msg"], us, "convoy", 100)
        assert [m.seq for m in found] == [m.seq for m in reversed(made[1:])]
        assert [m.seq for m in await tx.messages.search(["n-msg"], us, "ソナー", 2)] == [
            made[5].seq,
            made[4].seq,
        ]
        japanese = await tx.messages.search(["n-msg"], jp, "convoy", 100)
        assert [m.seq for m in japanese] == [
            m.seq for m in reversed(made[1:]) if may_read(jp, m.label)
        ]
        assert await tx.messages.search(["n-other"], us, "convoy", 100) == []


async def test_count_above_a_ceiling_and_expired_messages(ctx: ServiceContext, author: str) -> None:
    async with ctx.db.transaction() as tx:
        made = [await tx.messages.add(draft(ctx, author, n)) for n in range(8)]
        await tx.messages.purge(made[0].seq)
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.messages.count_above("n-msg", label(ctx, "TOP SECRET//NOFORN")) == 0
        # Above SECRET//NOFORN: the two TOP SECRET ones.
        assert await tx.messages.count_above("n-msg", label(ctx, "SECRET//NOFORN")) == 2
        assert await tx.messages.count_above("n-msg", label(ctx, "UNCLASSIFIED")) == 6
        old = await tx.messages.expired("n-msg", NOW + timedelta(minutes=3))
    # Created before the cut-off and not yet purged (the purged one is done with).
    assert sorted(m.seq for m in old) == [made[1].seq, made[2].seq]
