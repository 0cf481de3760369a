"""The connect snapshot goes out once the client's format is known, in that format."""

from __future__ import annotations

import asyncio
import configparser
from datetime import UTC, datetime
from typing import Any

import pytak
import pytest

from kyodo.cot import TakEventReader, XmlEventReader, serialise_event
from kyodo.cot.negotiation import RESPONSE_TYPE, protocol_request
from kyodo.services import tracks
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.takserver.server import TakServer

from tests.support.wait import wait_for
from tests.takserver.test_tak_server import _end_of, _pytak_event, cot, plain, tak

__all__ = ["tak"]


async def _parked(tak: TakServer, ctx: ServiceContext, operator: Actor, uid: str) -> None:
    """A track in the store, as a client that connects later finds it in its snapshot."""
    a = await plain(tak)
    a.send(cot(uid))
    await wait_for(lambda: tracks.list_tracks(ctx, operator))
    a.close()


async def test_a_negotiating_client_gets_the_snapshot_in_protocol_1(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    await _parked(tak, ctx, operator, "parked")
    reader, writer = await asyncio.open_connection("127.0.0.1", tak.ports["tcp"])
    writer.write(serialise_event(protocol_request(datetime.now(UTC))))
    seen = b""
    async with asyncio.timeout(5):
        while _end_of(RESPONSE_TYPE, seen) < 0:
            seen += await reader.read(65536)
        # Nothing but the offer and the answer came in XML: the snapshot follows as frames.
        xml, rest = seen[: _end_of(RESPONSE_TYPE, seen)], seen[_end_of(RESPONSE_TYPE, seen) :]
        assert b"parked" not in xml
        frames = TakEventReader()
        got = frames.feed(rest).items
        while not got:
            got += frames.feed(await reader.read(65536)).items
    assert [e.uid for e in got] == ["parked"]
    writer.close()


async def test_a_silent_client_gets_the_snapshot_without_waiting_for_the_60_s_window(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    # As TAK Server sends it (at once): not when its 60 s negotiation window closes.
    await _parked(tak, ctx, operator, "parked")
    assert tak.snapshot_seconds < 60
    reader, writer = await asyncio.open_connection("127.0.0.1", tak.ports["tcp"])
    events = XmlEventReader()
    got: list[Any] = []
    async with asyncio.timeout(30):  # well inside TAK's 60 s window
        while not got:
            data = await reader.read(65536)
            assert data
            got += [e for e in events.feed(data).items if not e.type.startswith("t-x-takp")]
    assert [e.uid for e in got] == ["parked"]
    writer.close()


async def _uids(queue: asyncio.Queue[Any], want: set[str], wait: float = 5.0) -> set[str]:
    """The uids of the TakMessages pytak's reader queued, until `want` are among them."""
    seen: set[str] = set()
    async with asyncio.timeout(wait):
        while not want <= seen:
            message = await queue.get()
            assert not isinstance(message, bytes | bytearray), "pytak could not read an event"
            seen.add(message.cotEvent.uid)
    return seen


async def test_a_pytak_protocol_1_worker_gets_the_snapshot_and_live_events(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    await _parked(tak, ctx, operator, "parked")
    watcher = await plain(tak)
    parser = configparser.ConfigParser()
    parser["kyodo"] = {"COT_URL": f"tcp://127.0.0.1:{tak.ports['tcp']}", "TAK_PROTO": "1"}
    config = parser["kyodo"]
    reader, writer = await pytak.protocol_factory(config)
    tx_queue: asyncio.Queue[bytes] = asyncio.Queue()
    rx_queue: asyncio.Queue[Any] = asyncio.Queue()
    workers = [
        asyncio.create_task(pytak.TXWorker(tx_queue, config, writer).run()),
        asyncio.create_task(pytak.RXWorker(rx_queue, config, reader).run()),
    ]
    try:
        # pytak sends protocol 1 frames without negotiating, and reads events only with
        # takproto.parse_proto: XML that starts with `<?xml`, or frames.
        await tx_queue.put(await _pytak_event("pytak-proto"))
        assert "parked" in await _uids(rx_queue, {"parked"})  # the snapshot
        got = await watcher.expect(2)  # its own snapshot, and what pytak sent
        assert {e.uid for e in got} == {"parked", "pytak-proto"}  # type: ignore[attr-defined]
        watcher.send(cot("live-1"))
        assert "live-1" in await _uids(rx_queue, {"live-1"})
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        writer.close()
        watcher.close()


@pytest.mark.parametrize("negotiate", [False, True])
async def test_the_snapshot_is_sent_once(
    tak: TakServer, ctx: ServiceContext, operator: Actor, negotiate: bool
) -> None:
    await _parked(tak, ctx, operator, "parked")
    tak.snapshot_seconds = 0.2
    late = await plain(tak)  # negotiates (version 0): snapshot after the answer
    if negotiate:
        late.send(serialise_event(protocol_request(datetime.now(UTC), version=0)))
    late.send(cot("late-own"))
    await asyncio.sleep(0.4)  # the window closes too
    got = await late.expect(1)
    assert [e.uid for e in got] == ["parked"]  # type: ignore[attr-defined]
    await late.quiet()
    late.close()
