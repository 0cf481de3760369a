"""TAK deletes (`t-x-d-d`) and connect snapshots over real sockets: a delete reaches only those who
may read the item, only who may update an item may delete it, a deleted item is gone from the
snapshot and comes back on a new report, and the snapshot replays what was received."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kyodo.cot import Event, parse_event
from kyodo.cot.delete import DELETE_TYPE, deleted_uid
from kyodo.cot.labelling import LABEL_TAG
from kyodo.pki.files import write_pair
from kyodo.pki.issuing import create_ca, create_server_cert
from kyodo.policy import make_subject
from kyodo.services import tracks
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings
from kyodo.takserver.server import TakServer

from tests.support.factories import add_person
from tests.support.live import free_port
from tests.support.wait import wait_for
from tests.takserver.test_tak_server import Peer, cot, plain, tls

FMT = "%Y-%m-%dT%H:%M:%S.%fZ"


def delete(uid: str) -> bytes:
    """A delete as ATAK sends one: its own uid, the item in <link>, <__forcedelete/>."""
    now = datetime.now(UTC)
    return (
        f'<event version="2.0" uid="{uid}-del" type="t-x-d-d" how="h-g-i-g-o"'
        f' time="{now.strftime(FMT)}" start="{now.strftime(FMT)}"'
        f' stale="{(now + timedelta(seconds=20)).strftime(FMT)}">'
        '<point lat="0.0" lon="0.0" hae="0.0" ce="9999999.0" le="9999999.0"/>'
        f'<detail><link uid="{uid}" relation="none" type="a-f-S-C-L-CC"/><__forcedelete/>'
        "</detail></event>"
    ).encode()


@pytest.fixture
async def tak(ctx: ServiceContext, settings: Settings, tmp_path: Path) -> AsyncIterator[TakServer]:
    """A TAK server whose CoT feed may hold NOFORN items (the default's ceiling may not)."""
    ca = create_ca()
    write_pair(ca, tmp_path / "ca", "ca")
    write_pair(create_server_cert(ca, ["127.0.0.1", "localhost"]), tmp_path / "srv", "server")
    server = TakServer(
        ctx,
        settings.model_copy(
            update={
                "cot_port": free_port(),
                "cot_tls_port": free_port(),
                "cot_tls_cert": tmp_path / "srv" / "server.pem",
                "cot_tls_key": tmp_path / "srv" / "server.key",
                "cot_tls_ca": tmp_path / "ca" / "ca.pem",
                "cot_feed_ceiling": "SECRET//NOFORN",
                "cot_max_refusals": 5,
            }
        ),
    )
    server.ca = ca  # type: ignore[attr-defined]
    await server.start()
    yield server
    await server.stop()


async def _stored(ctx: ServiceContext, *uids: str) -> None:
    """Wait until the positions (written behind their fan-out) are in the store."""
    reader = make_subject(ctx.registry, id="r", nation="USA", clearance="TOP SECRET")

    async def there() -> bool:
        async with ctx.db.transaction(write=False) as tx:
            found = await tx.tracks.list(reader, now=datetime.now(UTC))
        return set(uids) <= {t.uid for t in found}

    await wait_for(there, timeout=10)


async def _audit(ctx: ServiceContext, action: str) -> list[tuple[str, str, str]]:
    async with ctx.db.transaction(write=False) as tx:
        return [
            (r.entry.actor, r.entry.decision, r.entry.object_id)
            async for r in tx.audit.walk()
            if r.entry.action == action
        ]


def _deleted(events: list[object]) -> list[str | None]:
    return [deleted_uid(e) for e in events if isinstance(e, Event) and e.type == DELETE_TYPE]


async def _people(ctx: ServiceContext, operator: Actor) -> None:
    await add_person(ctx, operator, "us.owner", clearance="SECRET")
    await add_person(ctx, operator, "us.eyes", clearance="CONFIDENTIAL")
    await add_person(ctx, operator, "jp.eyes", nation="JPN", clearance="GOKUHI")


async def test_a_delete_reaches_only_readers_of_the_item_and_leaves_the_picture(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await _people(ctx, operator)
    owner = await tls(tak, tmp_path, "us.owner", ctx, operator)
    us = await tls(tak, tmp_path, "us.eyes", ctx, operator)
    jp = await tls(tak, tmp_path, "jp.eyes", ctx, operator)
    owner.send(cot("noforn-1", access="CONFIDENTIAL", relto="USA"))
    owner.send(cot("shared-1", access="CONFIDENTIAL", relto="USA JPN"))
    assert {e.uid for e in await us.expect(2)} == {"noforn-1", "shared-1"}  # type: ignore[attr-defined]
    assert [e.uid for e in await jp.expect(1)] == ["shared-1"]  # type: ignore[attr-defined]
    await _stored(ctx, "noforn-1", "shared-1")

    owner.send(delete("noforn-1") + delete("shared-1"))

    assert _deleted((await us.expect(4))[2:]) == ["noforn-1", "shared-1"]
    assert _deleted((await jp.expect(2))[1:]) == ["shared-1"]
    await jp.quiet()  # the NOFORN item's delete never reaches a Japanese client
    await owner.quiet()  # nor is it echoed to its sender
    labelled = us.got[3]
    assert labelled.access == "CONFIDENTIAL"  # type: ignore[attr-defined]  # the item's label
    assert await tracks.list_tracks(ctx, operator) == []
    assert await _audit(ctx, "track.delete") == [
        ("us.owner", "allow", "noforn-1"),
        ("us.owner", "allow", "shared-1"),
    ]
    reader = make_subject(ctx.registry, id="r", nation="USA", clearance="SECRET")
    async with ctx.db.transaction(write=False) as tx:  # the history is kept
        assert len(await tx.tracks.history("shared-1", reader, 10)) == 1

    await add_person(ctx, operator, "us.late", clearance="SECRET")
    late = await tls(tak, tmp_path, "us.late", ctx, operator)
    await late.quiet()  # nothing in its snapshot
    owner.close(), us.close(), jp.close(), late.close()


async def test_a_delete_from_who_may_not_update_the_item_is_refused(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await _people(ctx, operator)
    owner = await tls(tak, tmp_path, "us.owner", ctx, operator)
    us = await tls(tak, tmp_path, "us.eyes", ctx, operator)
    jp = await tls(tak, tmp_path, "jp.eyes", ctx, operator)
    owner.send(cot("noforn-2", access="CONFIDENTIAL", relto="USA"))
    owner.send(cot("shared-2", access="CONFIDENTIAL", relto="USA JPN"))
    await us.expect(2)
    await _stored(ctx, "noforn-2", "shared-2")

    # jp.eyes reads shared-2 but is neither its originator nor cleared for the feed's ceiling;
    # us.eyes (CONFIDENTIAL) reads both, but is not cleared for SECRET//NOFORN either.
    jp.send(delete("shared-2") + delete("noforn-2") + delete("never-was"))
    us.send(delete("shared-2"))

    denied = await wait_for(lambda: _two(ctx), timeout=10)
    await owner.quiet()  # nothing relayed
    found = await tracks.list_tracks(ctx, operator)
    assert sorted(t.uid for t in found) == ["noforn-2", "shared-2"]  # still there
    # A connection's first refusal is audited in full, the rest counted (CountedRefusals).
    assert sorted(denied) == [("jp.eyes", "deny", "shared-2"), ("us.eyes", "deny", "shared-2")]
    jp.close()
    counted = await wait_for(lambda: _audit(ctx, "refusals.counted"), timeout=10)
    assert [c[:2] for c in counted] == [("jp.eyes", "deny")]  # the hidden one, noforn-2
    owner.close(), us.close()


async def _two(ctx: ServiceContext) -> list[tuple[str, str, str]] | None:
    found = await _audit(ctx, "track.delete")
    return found if len(found) >= 2 else None


async def test_a_new_report_brings_a_deleted_item_back(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    a, b = await plain(tak), await plain(tak)
    a.send(cot("marker-1"))
    await b.expect(1)
    await _stored(ctx, "marker-1")
    a.send(delete("marker-1"))
    assert _deleted(await b.expect(2)) == ["marker-1"]
    await wait_for(lambda: _gone(ctx, operator, "marker-1"), timeout=10)
    a.send(cot("marker-1", lat=35.3))
    assert [e.uid for e in (await b.expect(3))[2:]] == ["marker-1"]  # type: ignore[attr-defined]
    await _stored(ctx, "marker-1")
    late = await plain(tak)
    assert [e.uid for e in await late.expect(1)] == ["marker-1"]  # type: ignore[attr-defined]
    a.close(), b.close(), late.close()


async def _gone(ctx: ServiceContext, operator: Actor, uid: str) -> bool:
    return uid not in {t.uid for t in await tracks.list_tracks(ctx, operator)}


async def _raw_event(peer: Peer, wait: float = 5.0) -> bytes:
    """The bytes of the next event the server sends (what `ready` left over first), from its
    `<event` on: every XML event is preceded by a declaration, and `ready` leaves those of the
    negotiation events it drops."""
    data = b""
    async with asyncio.timeout(wait):
        while b"</event>" not in data:
            chunk = await peer.read()
            assert chunk, "connection closed"
            data += chunk
    assert data.rstrip().endswith(b"</event>")
    return data[data.index(b"<event") :]


async def test_the_snapshot_replays_the_received_bytes_but_for_the_label(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    # What a store-rebuilt event would change: times without a fraction, numbers as written,
    # attribute order and spacing, no <contact>, an element Kyodo knows nothing of.
    now = datetime.now(UTC)
    sent = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f"<event  how='m-g' uid='as-sent' type='a-f-G-U-C' version='2.0'"
        f" time='{now:%Y-%m-%dT%H:%M:%SZ}' start='{now:%Y-%m-%dT%H:%M:%SZ}'"
        f" stale='{now + timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}' access='UNCLASSIFIED'>"
        "<point lat='35.290000' lon='139.6700' hae='12.50' ce='9999999' le='9999999' />"
        "<detail>\n  <track course='090.0' speed='7.50'/>\n"
        "  <_flow-tags_ TAK-Server-abc='2024-01-01T00:00:00Z'/><remarks>as sent</remarks>\n"
        "</detail></event>"
    ).encode()
    a, live = await plain(tak), await plain(tak)
    a.send(sent)
    relayed = await _raw_event(live)
    await _stored(ctx, "as-sent")

    late = await plain(tak)
    replayed = await _raw_event(late)

    assert replayed == relayed  # the same bytes as the live fan-out: received, relabelled
    assert b"<contact" not in replayed and b".000Z" not in replayed
    assert b"lat='35.290000' lon='139.6700' hae='12.50'" in replayed
    assert b"<track course='090.0' speed='7.50'/>" in replayed
    assert replayed.startswith(b"<event  how='m-g' uid='as-sent'")
    # Only the label differs from what was sent.
    start = sent.index(b"<event")
    assert parse_event(replayed).detail.without(LABEL_TAG).xml == (
        parse_event(sent[start:]).detail.xml
    )
    a.close(), live.close(), late.close()
