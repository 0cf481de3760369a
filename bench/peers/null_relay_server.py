"""The CoT floor: a do-nothing TCP relay that forwards each whole event to every other client."""

# Run by bench/peers/null_relay.py as `python null_relay_server.py PORT` (standard library only).

from __future__ import annotations

import asyncio
import sys
from typing import ClassVar

END = b"</event>"
MAX_BUFFER = 1 << 20  # a client's partial event past this is dropped
MAX_UNSENT = 4 << 20  # a receiver that does not read past this misses events


class Relay(asyncio.Protocol):
    """One client: complete events it sends go to all the others, unchanged."""

    peers: ClassVar[set[Relay]] = set()

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        Relay.peers.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        Relay.peers.discard(self)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        end = buf.rfind(END)
        if end < 0:
            if len(buf) > MAX_BUFFER:
                buf.clear()
            return
        end += len(END)
        events = bytes(buf[:end])  # the whole events received, split on </event>
        del buf[:end]
        for peer in Relay.peers:
            out = peer.transport
            if peer is not self and out is not None and out.get_write_buffer_size() < MAX_UNSENT:
                out.write(events)


async def serve(port: int) -> None:
    """Listens on 127.0.0.1:`port` until killed."""
    server = await asyncio.get_running_loop().create_server(Relay, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
