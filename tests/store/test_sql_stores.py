"""Contract tests of the SQL stores, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kyodo.audit.chain import AuditEntry
from kyodo.domain.identity import Org
from kyodo.errors import Conflict, NotFound
from kyodo.labels import parse_marking
from kyodo.policy import make_subject, may_read
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.services.ports import AuditQuery, SessionRecord

MARKINGS = [
    "UNCLASSIFIED",
    "UNCLASSIFIED//NOFORN",
    "CONFIDENTIAL//REL TO USA, JPN",
    "SECRET//REL TO USA, JPN",
    "SECRET//NOFORN",
    "SECRET//REL TO USA, AUS, GBR, JPN",
    "TOP SECRET//SI//NOFORN",
    "TOP SECRET//SI/TK//REL TO USA, JPN",
    "極秘//日本限り",
    "機密//特定秘密//REL TO JPN, USA",
    "NATO SECRET",
]
READERS = [
    ("USA", "TOP SECRET", ("SI", "TK")),
    ("USA", "SECRET", ()),
    ("JPN", "KIMITSU", ("SDS",)),
    ("JPN", "GOKUHI", ()),
    ("AUS", "SECRET", ()),
    ("GBR", "TOP SECRET", ("SI",)),
    ("USA", "UNCLASSIFIED", ()),
]


def _org(ctx: ServiceContext, n: int, marking: str) -> Org:
    return Org(
        id=f"org{n:02d}",
        abbr=f"O{n}",
        name=f"Org {n}",
        nation="USA",
        label=parse_marking(marking, ctx.registry),
    )


async def test_the_label_filter_in_sql_agrees_with_the_policy(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        for n, marking in enumerate(MARKINGS):
            await tx.orgs.add(_org(ctx, n, marking))
    for nation, clearance, grants in READERS:
        subject = make_subject(
            ctx.registry, id="r", nation=nation, clearance=clearance, grants=grants
        )
        async with ctx.db.transaction(write=False) as tx:
            listed = {o.id for o in await tx.orgs.list(subject, None, 100)}
        expected = {
            f"org{n:02d}"
            for n, m in enumerate(MARKINGS)
            if may_read(subject, parse_marking(m, ctx.registry))
        }
        assert listed == expected, (nation, clearance)


async def test_labels_round_trip_through_storage(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        for n, marking in enumerate(MARKINGS):
            await tx.orgs.add(_org(ctx, n, marking))
    # A fresh database object has an empty label cache, so labels come from the rows.
    from kyodo.store.sql.database import SqlDatabase

    assert isinstance(ctx.db, SqlDatabase)
    other = SqlDatabase(ctx.db.url)
    try:
        async with other.transaction(write=False) as tx:
            for n, marking in enumerate(MARKINGS):
                org = await tx.orgs.get(f"org{n:02d}")
                assert org.label == parse_marking(marking, ctx.registry)
    finally:
        await other.dispose()


async def test_orgs_conflict_and_not_found(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        await tx.orgs.add(_org(ctx, 1, "UNCLASSIFIED"))
    with pytest.raises(Conflict):
        async with ctx.db.transaction() as tx:
            await tx.orgs.add(_org(ctx, 1, "SECRET//NOFORN"))
    async with ctx.db.transaction(write=False) as tx:
        assert (await tx.orgs.get("org01")).label.level == "UNCLASSIFIED"
        with pytest.raises(NotFound):
            await tx.orgs.get("nope")


async def test_a_failed_transaction_leaves_nothing(ctx: ServiceContext) -> None:
    with pytest.raises(RuntimeError):
        async with ctx.db.transaction() as tx:
            await tx.orgs.add(_org(ctx, 1, "UNCLASSIFIED"))
            await tx.audit.append(AuditEntry("t", "org.create", "org", "org01"))
            raise RuntimeError("abandon")
    async with ctx.db.transaction(write=False) as tx:
        with pytest.raises(NotFound):
            await tx.orgs.get("org01")
        assert [r async for r in tx.audit.walk()] == []


async def test_pagination_by_cursor_visits_every_row_once(ctx: ServiceContext) -> None:
    async with ctx.db.transaction() as tx:
        for n in range(7):
            await tx.orgs.add(_org(ctx, n, "UNCLASSIFIED"))
    subject = make_subject(ctx.registry, id="r", nation="USA", clearance="SECRET")
    seen: list[str] = []
    cursor = None
    async with ctx.db.transaction(write=False) as tx:
        while True:
            page = await tx.orgs.list(subject, cursor, 3)
            seen += [o.id for o in page]
            if len(page) < 3:
                break
            cursor = page[-1].id
    assert seen == [f"org{n:02d}" for n in range(7)]


async def test_sessions_store_and_expire_fields(ctx: ServiceContext) -> None:
    from tests.support.factories import add_person, make_operator

    person = await add_person(ctx, make_operator(ctx), "alice")
    now = datetime.now(UTC)
    record = SessionRecord(
        "h" * 64, person.id, "session", "browser", "c" * 64, now, now + timedelta(hours=1)
    )
    async with ctx.db.transaction() as tx:
        await tx.sessions.add(record)
    async with ctx.db.transaction(write=False) as tx:
        found = await tx.sessions.get("h" * 64)
    assert found is not None and found.person_id == person.id
    assert found.expires_at is not None and abs(found.expires_at - record.expires_at).seconds < 1
    async with ctx.db.transaction() as tx:
        assert await tx.sessions.delete_for_person(person.id) == 1
        assert await tx.sessions.get("h" * 64) is None


async def test_audit_appends_form_one_chain_and_filter(ctx: ServiceContext) -> None:
    actions = itertools.cycle(["auth.login", "person.read", "org.create"])
    for n in range(9):
        async with ctx.db.transaction() as tx:
            await tx.audit.append(
                AuditEntry(f"user{n % 3}", next(actions), "org", str(n), details={"n": n})
            )
    async with ctx.db.transaction(write=False) as tx:
        records = [r async for r in tx.audit.walk()]
        assert [r.seq for r in records] == list(range(1, 10))
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
        by_actor = await tx.audit.list(AuditQuery(actor="user1"), None, 100)
        assert {r.entry.actor for r in by_actor} == {"user1"} and len(by_actor) == 3
        after = await tx.audit.list(AuditQuery(), 5, 2)
        assert [r.seq for r in after] == [6, 7]
        in_window = await tx.audit.list(
            AuditQuery(since=records[2].time, until=records[5].time), None, 100
        )
        assert [r.seq for r in in_window] == [3, 4, 5]


async def test_a_batch_of_messages_is_stored_as_given_with_its_revs(
    ctx: ServiceContext, operator: Actor
) -> None:
    from kyodo.domain.nets import Message
    from kyodo.services import nets
    from kyodo.services.actor import person_actor

    from tests.support.factories import add_person

    author = await add_person(ctx, operator, "batch.author", clearance="TOP SECRET", grants=("SI",))
    net = await nets.create_net(
        ctx,
        person_actor(author, "api"),
        name="batch",
        ceiling=parse_marking("TOP SECRET//SI//REL TO USA, JPN", ctx.registry),
    )
    start = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC)
    labels = ["UNCLASSIFIED", "SECRET//REL TO USA, JPN", "TOP SECRET//SI//REL TO USA, JPN"]
    drafts = [
        Message(
            seq=0,
            net_id=net.id,
            author_id=author.id,
            label=parse_marking(labels[n % 3], ctx.registry),
            text=f"メッセージ {n} of the batch",
            html=f"<p>メッセージ {n} of the batch</p>\n",
            created_at=start + timedelta(microseconds=n),
        )
        for n in range(30)
    ]
    async with ctx.db.transaction() as tx:
        first = await tx.audit.next_seq()
        assert await tx.audit.next_seq() == first  # held until commit
        stored = await tx.messages.add_many(
            [replace(d, rev=first + n) for n, d in enumerate(drafts)]
        )
        records = await tx.audit.append_many(
            [AuditEntry("batch.author", "message.post", "message", str(m.seq)) for m in stored]
        )
        assert [r.seq for r in records] == [m.rev for m in stored]
        assert await tx.audit.next_seq() == records[-1].seq + 1
    assert [m.seq for m in stored] == sorted(m.seq for m in stored)
    async with ctx.db.transaction(write=False) as tx:
        for draft, message in zip(drafts, stored, strict=True):
            again = await tx.messages.get(message.seq)
            assert again == replace(draft, seq=message.seq, rev=message.rev)
            (version,) = await tx.messages.versions(message.seq)
            assert (version.text, version.at, version.label) == (
                draft.text,
                draft.created_at,
                draft.label,
            )
        chain = [r async for r in tx.audit.walk()]
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
    reader = make_subject(ctx.registry, id="x", nation="USA", clearance="TOP SECRET", grants=["SI"])
    async with ctx.db.transaction(write=False) as tx:
        found = await tx.messages.search([net.id], reader, "batch", 100)
    assert len(found) == 30
