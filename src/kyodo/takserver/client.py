"""One TAK client: reads its stream (XML or TAK protocol 1), writes through a bounded buffer."""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import TYPE_CHECKING

import structlog

from kyodo.cot import TakEventReader, XmlEventReader
from kyodo.cot.xml import DECLARATION

if TYPE_CHECKING:
    from datetime import datetime

    from kyodo.cot import Credentials, Event
    from kyodo.labels import Label
    from kyodo.services.access import CountedRefusals
    from kyodo.services.actor import Actor

log = structlog.get_logger("kyodo.cot")
READ_BYTES = 65536
EVENT_BYTES = 2048  # a typical labelled event, to turn the queue setting (events) into bytes


class CotClient:
    """A connection's identity, its reader (XML until TAK protocol 1 is agreed) and its output.

    Output is written straight to the socket's transport, everything offered in one turn of the
    event loop in one write (no task or queue per event: at 50,000 deliveries a second those cost
    more than the writes). What the client has not read stays in the transport's buffer; a client
    whose buffer passes `max_queue` events' worth of bytes is dropped with a log line, so it
    never slows the others.

    `proto` is the format the client is sent: TAK protocol 1 once negotiated, XML until then
    and for good if it never negotiates (even if it writes protocol 1 itself, as pytak does:
    pytak reads only XML events that start with `<?xml`, so every XML event does, as TAK
    Server writes them).
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
        self.plain = False  # plain TCP: no certificate, so <auth> may name a person (if allowed)
        self.proto = False  # what it is sent; what it sends is `events`' business
        self.events: XmlEventReader | TakEventReader = XmlEventReader()
        self.items = 0  # events and credentials read so far (credentials count only first)
        self.snapshot_sent = False  # the tracks it may read, sent once its format is known
        self.last_pong = -math.inf  # loop time of the last answer to a ping
        self.counted: CountedRefusals | None = None  # where its actor's refusals are audited
        self.max_buffer = max_queue * EVENT_BYTES
        self._pending: list[bytes] = []
        self.max_refusals = max_refusals
        self.refused_events = 0  # events refused after parsing (by policy, label, feed…)
        self._dropped = False
        self.closed: str | None = None
        # Its own position report (see `intake.position`): what /Marti/api/clientEndPoints
        # shows of it, to those who may read that report's label.
        self.own_confirmed = False  # a report with a contact endpoint has named it
        self.uid: str | None = None
        self.callsign: str | None = None
        self.own_label: Label | None = None
        self.last_event_time: datetime | None = None

    @property
    def refused(self) -> int:
        """Everything refused so far: bytes and events that did not parse, and events that
        parsed but were refused; past `max_refusals` the client is dropped."""
        return self.events.refused + self.refused_events

    def refuse(self, uid: str, reason: str, *, counted: bool = True) -> None:
        """Log an event refused after parsing, and count it unless `counted` is False (a
        refusal of what its user wrote rather than of a broken client)."""
        if counted:
            self.refused_events += 1
        log.warning(
            "cot event refused",
            peer=self.peer,
            actor=self.actor.audit_name,
            uid=uid,
            reason=reason,
            counted=counted,
        )

    def too_many_refusals(self) -> bool:
        """Whether to drop the client (logged once, when it is)."""
        if self.refused < self.max_refusals:
            return False
        log.warning(
            "cot client dropped: too many refused events", peer=self.peer, refused=self.refused
        )
        return True

    def switch_to_protocol(self, *, negotiated: bool = True) -> None:
        """From now on the client's stream is read as TAK protocol 1 stream framing, and, once
        negotiated, what it is sent is written so too."""
        leftover = self.events.splitter.drain() if isinstance(self.events, XmlEventReader) else b""
        if negotiated:
            self.proto = True
        if isinstance(self.events, TakEventReader):
            return
        self.events = TakEventReader()
        if leftover.strip():
            self.events.feed(leftover)

    def offer(self, data: bytes) -> None:
        """Send bytes to the client without waiting (in this turn of the event loop)."""
        if self.closed is not None:
            return
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        if data.startswith(b"<event"):
            # As TAK Server writes them: takproto's reader (pytak's with TAK_PROTO=1) takes an
            # XML event only if it starts so, and the declaration costs no copy here.
            self._pending.append(DECLARATION)
        self._pending.append(data)

    def _flush(self) -> None:
        data = b"".join(self._pending)
        self._pending.clear()
        if self.closed is not None:
            return
        try:
            self.writer.write(data)
        except (ConnectionError, OSError, RuntimeError):
            self.close("connection lost")
            return
        if self.writer.transport.get_write_buffer_size() > self.max_buffer:
            log.warning(
                "cot client dropped: it does not read what it is sent",
                peer=self.peer,
                actor=self.actor.audit_name,
            )
            self.close("slow consumer", abort=True)

    def close(self, reason: str, *, abort: bool = False) -> None:
        if self.closed is None:
            self.closed = reason
            pending = b"".join(self._pending)
            self._pending.clear()
            if abort:  # close() would wait for the unread buffer to drain, maybe for ever
                self.writer.transport.abort()
                return
            if pending:
                # What was offered before the close (the answer to the refusal that drops
                # the client, say) still goes: close() sends the buffer before the FIN.
                with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                    self.writer.write(pending)
            self.writer.close()

    async def read(self) -> list[Event | Credentials] | None:
        """The next events, or credentials (None at the end of the stream); refusals are logged
        (their reason, size and place: never their bytes) and counted, and a client that keeps
        sending what is refused is dropped."""
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
            # Some clients (pytak with TAK_PROTO=1) send protocol 1 frames without negotiating;
            # they are still sent XML (see the class).
            self.switch_to_protocol(negotiated=False)
        batch = self.events.feed(data)
        for refused in batch.refusals:
            log.warning(
                "cot event refused",
                peer=self.peer,
                actor=self.actor.audit_name,
                reason=str(refused),
            )
        if self.too_many_refusals():
            return None
        return list(batch.items)
