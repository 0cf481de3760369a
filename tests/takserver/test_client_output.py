"""CoT client output: offers in one loop turn go in one write; a client that never reads is cut."""

from __future__ import annotations

import asyncio

from kyodo.scheme_files import load_registry
from kyodo.services.actor import Actor, operator_actor
from kyodo.takserver.client import CotClient

OPERATOR: Actor = operator_actor("tester", load_registry([], "USA"))


Pair = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _pair() -> tuple[Pair, Pair, asyncio.Server]:
    """(the test's end, the server's end) of one loopback connection."""
    accepted: asyncio.Future[Pair] = asyncio.get_running_loop().create_future()

    async def on_connect(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        accepted.set_result((r, w))

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ours = await asyncio.open_connection("127.0.0.1", port)
    return ours, await accepted, server


async def test_offers_arrive_in_order_and_a_reader_gets_them() -> None:
    (reader, writer), (r, w), server = await _pair()
    client = CotClient(r, w, OPERATOR, peer="test", max_queue=100, max_refusals=5)
    for n in range(50):
        client.offer(f"<e{n}/>".encode())
    expected = b"".join(f"<e{n}/>".encode() for n in range(50))
    got = b""
    async with asyncio.timeout(5):
        while len(got) < len(expected):
            got += await reader.read(65536)
    assert got == expected
    assert client.closed is None
    writer.close()
    client.close("done")
    server.close()


async def test_a_client_that_never_reads_is_dropped() -> None:
    (_, writer), (r, w), server = await _pair()
    client = CotClient(r, w, OPERATOR, peer="test", max_queue=10, max_refusals=5)
    chunk = b"x" * 65536
    async with asyncio.timeout(10):
        while client.closed is None:  # the kernel's buffers fill first, then the transport's
            client.offer(chunk)
            await asyncio.sleep(0)
    assert client.closed == "slow consumer"
    writer.close()
    server.close()


async def test_what_was_offered_before_a_close_still_goes_before_the_end() -> None:
    # E.g. the answer to the refusal that drops the client, offered in the same loop turn.
    (reader, writer), (r, w), server = await _pair()
    client = CotClient(r, w, OPERATOR, peer="test", max_queue=100, max_refusals=5)
    client.offer(b"<answer/>")
    client.close("too many refusals")
    got = b""
    async with asyncio.timeout(5):
        while data := await reader.read(65536):
            got += data
    assert got == b"<answer/>"
    writer.close()
    server.close()
