"""Real TAK captures (tests/cot/captures, SOURCES.md) through a real server: relayed as sent."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from kyodo.cot import EventSplitter, parse_event, read_label, serialise_event
from kyodo.domain.tracks import UNKNOWN, Track
from kyodo.labels import parse_marking
from kyodo.services import tracks
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.takserver.encoding import track_event
from kyodo.takserver.server import TakServer

from tests.support.factories import add_person
from tests.support.live import free_port
from tests.support.wait import wait_for
from tests.takserver.test_passthrough_and_chat import RawPeer
from tests.takserver.test_tak_server import Peer, cot, plain, tak, tls

__all__ = ["tak"]
FOLDER = Path(__file__).parents[1] / "cot" / "captures"
CAPTURES = {path.name: path.read_bytes() for path in sorted(FOLDER.glob("*.cot"))}
# The start tag of an event: quoted values may hold '>'.
_START_TAG = re.compile(rb"<event(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_LABEL_ATTRIBUTE = re.compile(
    rb"\s+(?:access|caveat|releasableTo|releaseableTo|rel_to)\s*=\s*(?:\"[^\"]*\"|'[^']*')"
)
_LABEL_ELEMENT = re.compile(rb"<ConfidentialityLabel\b.*?</ConfidentialityLabel>", re.DOTALL)


def _event_bytes(capture: bytes) -> bytes:
    """The event as a client sends it on a stream (its XML declaration is not passed on)."""
    (event,) = EventSplitter().feed(capture).items
    return event


def _without_label(event: bytes) -> bytes:
    """The event with what Kyodo may change taken out: the label attributes and elements (and
    the `<detail>` Kyodo opens for its label where the sender had none or an empty one)."""
    tag = _START_TAG.match(event)
    assert tag is not None
    rest = _LABEL_ELEMENT.sub(b"", event[tag.end() :])
    rest = re.sub(rb"<detail\s*/>", b"<detail></detail>", rest)
    if b"<detail" not in rest:
        rest = rest.replace(b"</event>", b"<detail></detail></event>")
    return _LABEL_ATTRIBUTE.sub(b"", tag.group(0)) + rest


async def _close(*peers: Peer) -> None:
    """Close the test's connections and wait until they are: a socket left to close after the
    test's event loop has ended is reported (ResourceWarning) in whatever test runs next."""
    for peer in peers:
        peer.writer.close()
    for peer in peers:
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            async with asyncio.timeout(2):
                await peer.writer.wait_closed()


def _capture(name: str) -> object:
    return pytest.param(name, id=name.removesuffix(".cot"))


def test_the_corpus_is_there_with_its_sources() -> None:
    assert len(CAPTURES) >= 40
    sources = (FOLDER / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in sources for name in CAPTURES)


@pytest.mark.parametrize("name", [_capture(name) for name in CAPTURES])
async def test_a_capture_is_relayed_unchanged_but_for_its_label(
    tak: TakServer, ctx: ServiceContext, name: str
) -> None:
    capture = CAPTURES[name]
    sent = _event_bytes(capture)
    event = parse_event(sent)
    sender, reader = await plain(tak), RawPeer(await plain(tak))
    try:
        sender.send(capture)  # as the client wrote it, XML declaration and all
        # A marker after it: once it is through, the capture has been dealt with.
        sender.send(cot("after-the-capture"))
        got = await reader.expect(1)
        while parse_event(got[-1]).uid != "after-the-capture":
            got = await reader.expect(len(got) + 1)
        if not event.type.startswith("t-"):  # control events (pings, deletes) are not positions
            (relayed,) = [e for e in got if parse_event(e).uid == event.uid]
            assert _without_label(relayed) == _without_label(sent)
            unclassified = parse_marking("UNCLASSIFIED", ctx.registry)
            assert read_label(parse_event(relayed), ctx.registry).label == unclassified
        assert [client.refused for client in tak.clients] == [0, 0]
    finally:  # a test that fails (or is expected to) closes its connections as well
        await _close(sender, reader.peer)


@pytest.fixture
async def us_tak(tak: TakServer, ctx: ServiceContext) -> AsyncIterator[TakServer]:
    """A second server whose CoT feed may hold US-only tracks (the default CoT feed's ceiling,
    SECRET//REL TO USA, JPN, would refuse them); it shares `tak`'s certificate authority."""
    settings = tak.settings.model_copy(
        update={
            "cot_port": free_port(),
            "cot_tls_port": free_port(),
            "cot_feed": "CoT USFJ",
            "cot_feed_ceiling": "SECRET//NOFORN",
        }
    )
    server = TakServer(ctx, settings)
    server.ca = tak.ca  # type: ignore[attr-defined]
    await server.start()
    yield server
    await server.stop()


async def test_a_noforn_capture_never_reaches_a_japanese_client(
    us_tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    tak = us_tak
    await add_person(ctx, operator, "us.sender", clearance="SECRET")
    await add_person(ctx, operator, "us.reader", clearance="SECRET")
    await add_person(ctx, operator, "jp.reader", nation="JPN", clearance="GOKUHI")
    us = await tls(tak, tmp_path, "us.sender", ctx, operator)
    us_reader = RawPeer(await tls(tak, tmp_path, "us.reader", ctx, operator))
    jp_reader = RawPeer(await tls(tak, tmp_path, "jp.reader", ctx, operator))
    try:
        for name in ("libcotshrink_complex-shape.cot", "node-cot_cot-uas-tool-0.cot"):
            capture = _event_bytes(CAPTURES[name])
            tag = _START_TAG.match(capture)
            assert tag is not None
            # The capture as a US client would label it: SECRET//NOFORN.
            noforn = (
                capture[: tag.end() - 1].rstrip(b" ")
                + b' access="SECRET" caveat="NOFORN"'
                + capture[tag.end() - 1 :]
            )
            us.send(noforn)
        got = await us_reader.expect(2)
        noforn_label = parse_marking("SECRET//NOFORN", ctx.registry)
        assert all(read_label(parse_event(e), ctx.registry).label == noforn_label for e in got)
        # Then something the Japanese reader may read: it is the first thing that reader gets.
        us.send(cot("shared", access="SECRET", relto="USA JPN"))
        (first, *_) = await jp_reader.expect(1)
        assert parse_event(first).uid == "shared"
        assert all(b"NOFORN" not in e and b'releasableTo="USA"' not in e for e in jp_reader.got)
    finally:
        await _close(us, us_reader.peer, jp_reader.peer)


async def test_a_uas_tool_sending_every_few_seconds_is_not_cut_off(tak: TakServer) -> None:
    # DJI's UAS Tool writes no `how`: refused before, each report counted toward
    # cot_max_refusals (5 here), and the drone's feed dropped within a minute.
    capture = _event_bytes(CAPTURES["node-cot_cot-uas-tool-0.cot"])
    sender, reader = await plain(tak), RawPeer(await plain(tak))
    try:
        reports = 3 * tak.settings.cot_max_refusals
        for _ in range(reports):
            sender.send(capture)
        got = await reader.expect(reports)
        assert all(_without_label(e) == _without_label(capture) for e in got)
        assert [client.refused for client in tak.clients] == [0, 0]
    finally:
        await _close(sender, reader.peer)


async def test_events_refused_before_are_kept_as_what_they_are(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    # The three captures refused before issue #13: stored (their times are old: stale ones
    # too), NaN as CoT's other unknown, no `how` as none, the type as sent.
    sender, reader = await plain(tak), RawPeer(await plain(tak))
    names = ("libcotshrink_complex-shape", "node-cot_cot-uas-tool-0", "node-cot_validation-3")
    try:
        for name in names:
            sender.send(CAPTURES[f"{name}.cot"])
        await reader.expect(len(names))

        async def stored() -> dict[str, Track]:
            found = await tracks.list_tracks(ctx, operator, include_stale=True)
            return {track.uid: track for track in found} if len(found) == len(names) else {}

        found = await wait_for(stored, timeout=5)
        marker, drone, ack = (
            found[parse_event(_event_bytes(CAPTURES[f"{n}.cot"])).uid] for n in names
        )
        assert marker.type == "overhead_marker" and marker.how == "h-e"
        assert drone.how == "" and drone.position.hae == 1381.333
        assert (ack.type, ack.position.hae, ack.position.ce, ack.position.le) == (
            "b-f-t-a",
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
        )
        # Written from the stored tracks (a snapshot), each is a valid event again.
        for track in found.values():
            assert parse_event(serialise_event(track_event(track))).type == track.type
    finally:
        await _close(sender, reader.peer)


def _refusals(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == "cot event refused"]


async def test_what_is_refused_is_logged_with_its_reason_never_its_bytes(tak: TakServer) -> None:
    garbage = b"<hello password='hunter2'/>"
    malformed = cot("bad-1").replace(b"<detail>", b"<detail><x secret='hunter2'>")
    sender = await plain(tak)
    try:
        with capture_logs() as logs:
            sender.send(garbage + malformed)
            await wait_for(lambda: len(_refusals(logs)) == 2, timeout=5)
    finally:
        await _close(sender)
    garbage_line, malformed_line = (entry["reason"] for entry in _refusals(logs))
    assert garbage_line.startswith(
        f"bytes between events that are not an event ({len(garbage)} bytes"
    )
    assert malformed_line.startswith("XML is malformed: mismatched tag")
    assert all("hunter2" not in str(entry) for entry in logs)
