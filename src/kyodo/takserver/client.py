"""One TAK client: reads its stream (XML or TAK protocol 1), writes from a bounded queue."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog

from kyodo.cot import TakEventReader, XmlEventReader

if TYPE_CHECKING:
    from kyodo.cot import Event
    from kyodo.services.actor import Actor

log = structlog.get_logger("kyodo.cot")
READ_BYTES = 65536


class CotClient:
    """A connection's identity, its reader (XML until TAK protocol 1 is agreed) and its queue.

    The writer task drains a bounded queue; a client whose queue overflows is dropped with a log
    line so that it never slows the others.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        actor: Actor,
        *,
        peer: str,
        max_queue: int,
        max_refusals: int,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.actor = actor
        self.peer = peer
        self.id = f"{peer}#{id(self):x}"
        self.proto = False
        self.events: XmlEventReader | TakEventReader = XmlEventReader()
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(max_queue)
        self.max_refusals = max_refusals
        self.closed: str | None = None

    def switch_to_protocol(self) -> None:
        """From now on both directions speak TAK protocol 1 stream framing."""
        leftover = self.events.splitter.drain() if isinstance(self.events, XmlEventReader) else b""
        self.proto = True
        self.events = TakEventReader()
        if leftover.strip():
            self.events.feed(leftover)

    def offer(self, data: bytes) -> None:
        """Queue bytes for the client without waiting; overflow drops the client."""
        if self.closed is not None:
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            log.warning(
                "cot client dropped: queue overflow", peer=self.peer, actor=self.actor.audit_name
            )
            self.close("slow consumer")

    def close(self, reason: str) -> None:
        if self.closed is None:
            self.closed = reason
            self.writer.close()

    async def read(self) -> list[Event] | None:
        """The next events (None at the end of the stream); refusals are logged and counted,
        and a client that keeps sending what is refused is dropped."""
        try:
            data = await self.reader.read(READ_BYTES)
        except (ConnectionError, OSError):
            return None
        if not data:
            return None
        if (
            not self.proto
            and data[:1] == b"\xbf"
            and isinstance(self.events, XmlEventReader)
            and not self.events.splitter.buffered
        ):
            # Some clients (pytak with TAK_PROTO=1) send protocol 1 frames without negotiating.
            self.switch_to_protocol()
        batch = self.events.feed(data)
        for refused in batch.refusals:
            log.warning(
                "cot event refused",
                peer=self.peer,
                actor=self.actor.audit_name,
                reason=str(refused),
            )
        if self.events.refused >= self.max_refusals:
            log.warning(
                "cot client dropped: too many refused events",
                peer=self.peer,
                refused=self.events.refused,
            )
            return None
        return batch.items

    async def write_loop(self) -> None:
        """Send queued bytes until the client goes away."""
        try:
            while self.closed is None:
                data = await self.queue.get()
                if not self.queue.empty():
                    # Whatever queued meanwhile goes in the same write: one syscall, not many.
                    chunks = [data]
                    while not self.queue.empty():
                        chunks.append(self.queue.get_nowait())
                    data = b"".join(chunks)
                self.writer.write(data)
                if self.writer.transport.get_write_buffer_size() > 1 << 20:
                    await self.writer.drain()
        except (ConnectionError, OSError):
            self.close("connection lost")
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                self.writer.close()
