"""TAK events that are not positions: receipts relayed, never tracks; routes at their start."""

from __future__ import annotations

from pathlib import Path

from kyodo.cot import parse_event, read_label
from kyodo.labels import parse_marking
from kyodo.services import tracks
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.takserver.server import TakServer

from tests.support.factories import add_person
from tests.support.wait import wait_for
from tests.takserver.test_captures import (
    _START_TAG,
    CAPTURES,
    _close,
    _event_bytes,
    _without_label,
    us_tak,
)
from tests.takserver.test_passthrough_and_chat import RawPeer
from tests.takserver.test_tak_server import cot, plain, tak, tls

__all__ = ["tak", "us_tak"]
RECEIPTS = ("node-cot_chat-0.cot", "node-cot_chat-1.cot")


async def test_receipts_are_relayed_labelled_but_never_stored_as_tracks(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    sender, reader = await plain(tak), RawPeer(await plain(tak))
    try:
        for name in RECEIPTS:
            sender.send(CAPTURES[name])
        sender.send(cot("after-the-receipts"))  # a position: stored, unlike the receipts
        got = await reader.expect(3)
        relayed = [parse_event(e) for e in got]
        assert [e.type for e in relayed] == ["b-t-f-d", "b-t-f-r", "a-f-S-C-L-CC"]
        unclassified = parse_marking("UNCLASSIFIED", ctx.registry)
        for raw, name in zip(got, RECEIPTS, strict=False):
            assert _without_label(raw) == _without_label(_event_bytes(CAPTURES[name]))
            assert read_label(parse_event(raw), ctx.registry).label == unclassified

        async def stored() -> list[str]:
            found = await tracks.list_tracks(ctx, operator, include_stale=True)
            return [t.uid for t in found]

        uids: list[str] = await wait_for(stored, timeout=5)
        assert uids == ["after-the-receipts"]
        assert [client.refused for client in tak.clients] == [0, 0]
    finally:
        await _close(sender, reader.peer)


async def test_a_route_sent_at_0_0_is_kept_at_its_first_waypoint(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    sender, reader = await plain(tak), RawPeer(await plain(tak))
    try:
        sender.send(CAPTURES["atak-civ_route.cot"])
        (relayed,) = await reader.expect(1)
        assert b"lat='0.0'" in relayed  # passed on as sent

        async def stored() -> list[tuple[float, float]]:
            found = await tracks.list_tracks(ctx, operator, include_stale=True)
            return [(t.position.lat, t.position.lon) for t in found]

        where: list[tuple[float, float]] = await wait_for(stored, timeout=5)
        assert where == [(38.84335305982451, -77.05440032542333)]
        inside = await tracks.list_tracks(
            ctx, operator, include_stale=True, bbox=(-78.0, 38.0, -77.0, 39.0)
        )
        assert len(inside) == 1
    finally:
        await _close(sender, reader.peer)


def _noforn(name: str) -> bytes:
    capture = _event_bytes(CAPTURES[name])
    tag = _START_TAG.match(capture)
    assert tag is not None
    start = capture[: tag.end() - 1].rstrip(b" ")
    start = start.replace(b' access="Undefined"', b"")
    return start + b' access="SECRET" caveat="NOFORN"' + capture[tag.end() - 1 :]


async def test_a_noforn_receipt_or_shape_never_reaches_a_japanese_client(
    us_tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    tak = us_tak
    await add_person(ctx, operator, "us.sender", clearance="SECRET")
    await add_person(ctx, operator, "us.reader", clearance="SECRET")
    await add_person(ctx, operator, "jp.reader", nation="JPN", clearance="GOKUHI")
    us = await tls(tak, tmp_path, "us.sender", ctx, operator)
    us_reader = RawPeer(await tls(tak, tmp_path, "us.reader", ctx, operator))
    jp_reader = RawPeer(await tls(tak, tmp_path, "jp.reader", ctx, operator))
    names = ("node-cot_chat-0.cot", "node-cot_chat-1.cot", "atak-civ_drawing-shapes-rectangle.cot")
    try:
        for name in names:
            us.send(_noforn(name))
        got = await us_reader.expect(3)
        noforn = parse_marking("SECRET//NOFORN", ctx.registry)
        assert all(read_label(parse_event(e), ctx.registry).label == noforn for e in got)
        us.send(cot("shared", access="SECRET", relto="USA JPN"))
        (first, *_) = await jp_reader.expect(1)
        assert parse_event(first).uid == "shared"
        assert all(b"NOFORN" not in e and b"b-t-f-" not in e for e in jp_reader.got)
    finally:
        await _close(us, us_reader.peer, jp_reader.peer)


def _square(uid: str, point: str) -> bytes:
    return (
        f'<event version="2.0" uid="{uid}" type="u-d-f" how="h-e" time="2026-01-01T00:00:00Z"'
        ' start="2026-01-01T00:00:00Z" stale="2099-01-01T00:00:00Z">'
        f"{point}<detail>"
        '<link point="35.0,139.0"/><link point="35.0,139.2"/><link point="35.2,139.2"/>'
        '<link point="35.2,139.0"/><link point="35.0,139.0"/></detail></event>'
    ).encode()


async def test_a_closed_shape_without_a_point_or_at_0_0_is_kept_at_its_centroid(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    sender, reader = await plain(tak), RawPeer(await plain(tak))
    try:
        sender.send(_square("no-point", ""))
        sender.send(_square("at-zero", '<point lat="0" lon="0" hae="0" ce="9" le="9"/>'))
        relayed = await reader.expect(2)
        assert b"<point" not in relayed[0]  # passed on as sent

        async def stored() -> dict[str, tuple[float, float]]:
            found = await tracks.list_tracks(ctx, operator, include_stale=True)
            where = {t.uid: (round(t.position.lat, 9), round(t.position.lon, 9)) for t in found}
            return where if len(where) == 2 else {}

        where = await wait_for(stored, timeout=5)
        assert where == {"no-point": (35.1, 139.1), "at-zero": (35.1, 139.1)}
        assert [client.refused for client in tak.clients] == [0, 0]
    finally:
        await _close(sender, reader.peer)


async def test_an_event_placed_nowhere_is_relayed_as_tak_server_does_but_not_kept(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    sender, reader = await plain(tak), RawPeer(await plain(tak))
    try:
        sender.send(cot("nan-lat", lat=float("nan")))
        sender.send(cot("off-earth", lat=123.0))
        sender.send(cot("placed"))
        got = await reader.expect(3)
        assert [parse_event(e).uid for e in got] == ["nan-lat", "off-earth", "placed"]
        assert b'lat="nan"' in got[0] and b'lat="123.0"' in got[1]  # as sent, labelled
        assert read_label(parse_event(got[0]), ctx.registry).label is not None

        async def stored() -> list[str]:
            return [t.uid for t in await tracks.list_tracks(ctx, operator, include_stale=True)]

        assert await wait_for(stored, timeout=5) == ["placed"]
        assert [client.refused for client in tak.clients] == [0, 0]
    finally:
        await _close(sender, reader.peer)
