"""Streaming CoT XML over TCP: events back to back, split after `</event>`, whatever the reads.

Between events the splitter skips white space, XML declarations, processing instructions,
comments, NUL bytes and byte order marks silently; an event written in UTF-16 is refused as such
(each one: TAK Server reads streams as UTF-8 too); anything else is garbage, refused up to the
next `<event`. Inside an event it skips comments and CDATA sections, so a `</event>` written in a
remark does not end the event. An event larger than the cap is refused and its bytes are
dropped up to its `</event>`; an event that is not closed before the next `<event` is refused
and the splitter carries on with the new one. `feed` never raises, and every refusal is
counted so that a caller can drop a peer that keeps sending them.

Between events the splitter also takes an `<auth>` element, which TAK clients with credentials
send first (`kyodo.cot.auth`), up to `MAX_AUTH_BYTES`; one not closed before the next `<event`
or within the cap is refused. A refusal says how many bytes and where, never what they were: an
`<auth>` holds a password, and garbage may hold a broken one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kyodo.cot.auth import MAX_AUTH_BYTES, Credentials, parse_auth
from kyodo.cot.errors import CotError
from kyodo.cot.refusal import Batch, Refusal, refusal
from kyodo.cot.xml import MAX_EVENT_BYTES, parse_event

if TYPE_CHECKING:
    from kyodo.cot.event import Event

_EVENT_START = re.compile(rb"<event(?=[\s/>])")
# What may start an item between events: an event, or a TAK client's credentials.
_ITEM_START = re.compile(rb"<(?:event|auth)(?=[\s/>])")
_AUTH_END = re.compile(rb"</auth\s*>")
# What may stand between events without being garbage.
# (With NUL bytes and UTF-16 byte order marks: what trails a refused UTF-16 event.)
_BETWEEN = re.compile(
    rb"(?:\s+|\x00+|\xff\xfe|\xfe\xff|\xef\xbb\xbf|<\?.*?\?>|<!--.*?-->)*", re.DOTALL
)
# Inside an event: the markup that matters for finding its end.
_TOKEN = re.compile(rb"<!--|<!\[CDATA\[|</event\s*>|<event(?=[\s/>])")
# The start of an event's start tag: its name and attributes, as far as they are well-formed
# (no "<" anywhere in a tag, quoted values closed).
_START_TAG = re.compile(rb"<event(?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*")
_SKIP_TO = {b"<!--": b"-->", b"<![CDATA[": b"]]>"}
# The end of an event written in UTF-16 (little- or big-endian). TAK Server decodes a stream as
# UTF-8 and finds no event in UTF-16, so it relays nothing of it; Kyodo neither, but says so at
# each such event rather than when the garbage fills the buffer.
# One pattern for both byte orders; the NUL that follows either is skipped between events.
_UTF16_END = re.compile(rb"\x00?<\x00/\x00e\x00v\x00e\x00n\x00t\x00>")
UTF16_REFUSAL = "an event in UTF-16: CoT streams are read as UTF-8 (as TAK Server reads them)"
_PARTIAL = len(b"<event")  # "<event" at the end of a read is kept: the next byte decides


class EventSplitter:
    """Splits a byte stream into the bytes of complete `<event>` elements.

    Each item `feed` returns holds one event (or one `<auth>` element: the item starts with
    `<auth`), with the XML declaration that preceded it removed; parse it with `parse_event`
    (or use `XmlEventReader`, which does, and `parse_auth`). The same bytes
    give the same events and refusals however the reads split them, as long as no run of
    garbage is longer than the cap.
    """

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self.max_event_bytes = max_event_bytes
        self.refused = 0
        self._buffer = bytearray()
        # Positions in the buffer. Bytes before `_head` are done with; they are dropped once
        # per feed rather than after each event, which would copy the rest every time.
        self._head = 0
        self._in_event = False  # an event's "<event" is at the head
        self._in_auth = False  # or an "<auth"
        self._offset = 0  # where the buffer's first byte is in the stream
        self._tag_read = False  # and its start tag has been read
        self._scan = 0  # where to resume looking for the event's end
        self._until: bytes | None = None  # inside a comment or CDATA: its terminator
        self._discarding = False  # dropping an oversize event up to its end
        self._searched = 0  # while seeking: where to resume looking for "<event"

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the rest of an event."""
        return len(self._buffer) - self._head

    def drain(self) -> bytes:
        """Hand over (and forget) the bytes held, e.g. when the connection switches to TAK
        protocol 1 right after the negotiation events."""
        rest = bytes(self._buffer[self._head :])
        self._offset += len(self._buffer)
        self._buffer.clear()
        self._head = self._scan = self._searched = 0
        self._in_event = self._in_auth = self._tag_read = self._discarding = False
        self._until = None
        return rest

    def feed(self, data: bytes) -> Batch[bytes]:
        """The events completed by `data` and what was refused; never raises."""
        batch: Batch[bytes] = Batch()
        self._buffer += data
        while self._in_event or self._in_auth or self._seek(batch):
            ended = self._find_auth_end(batch) if self._in_auth else self._find_end(batch)
            if not ended:
                break
        head = self._head
        if head:
            del self._buffer[:head]
            self._offset += head
            self._head = 0
            self._scan = max(self._scan - head, 0)
            self._searched = max(self._searched - head, 0)
        return batch

    def _seek(self, batch: Batch[bytes]) -> bool:
        """Drop what precedes the next `<event` (or `<auth`); whether an item now starts at the
        head.

        What precedes it is judged as a whole once the event starts, so the same bytes give the
        same refusals however the reads split them; it is kept until then, up to the cap.
        """
        buffer, size = self._buffer, len(self._buffer)
        found = _ITEM_START.search(buffer, max(self._head, self._searched))
        if found is None:
            self._drop_utf16(batch, size)
            if size - self._head > self.max_event_bytes:
                last = buffer.rfind(b"<", size - _PARTIAL)
                tail = bytes(buffer[last:])
                partial = last >= self._head and (
                    b"<event".startswith(tail) or b"<auth".startswith(tail)
                )
                self._drop(batch, last if partial else size)
            self._searched = max(self._head, size - _PARTIAL)
            return False
        self._drop(batch, found.start())
        if buffer.startswith(b"<auth", found.start()):
            self._in_auth = True
            self._scan = self._searched = self._head
        else:
            self._start_event()
        return True

    def _find_auth_end(self, batch: Batch[bytes]) -> bool:
        """Look for the end of the `<auth>` at the head; whether it ended (or was refused).
        It is small, so it is searched again from its start at each read rather than resumed."""
        buffer, head = self._buffer, self._head
        end = _AUTH_END.search(buffer, head)
        limit = end.end() if end else len(buffer)
        following = _EVENT_START.search(buffer, head, limit)
        if following is not None:  # an event starts inside it: what came before is no <auth>
            self._refuse(
                batch, "an <auth> not closed before the next <event>", head, following.start()
            )
            self._in_auth = False
            self._head = following.start()
            self._start_event()
            return True
        if end is None:
            if len(buffer) - head <= MAX_AUTH_BYTES:
                return False  # the rest is still arriving
            # Never closed within the cap: dropped, and what follows is looked at afresh.
            keep = max(head, len(buffer) - _PARTIAL)
            self._refuse(batch, f"an <auth> larger than {MAX_AUTH_BYTES} bytes", head, keep)
            self._in_auth = False
            self._head = self._searched = keep
            return True
        if end.end() - head > MAX_AUTH_BYTES:
            self._refuse(batch, f"an <auth> larger than {MAX_AUTH_BYTES} bytes", head, end.end())
        else:
            batch.items.append(bytes(buffer[head : end.end()]))
        self._in_auth = False
        self._head = self._searched = end.end()
        return True

    def _start_event(self) -> None:
        self._in_event, self._tag_read, self._until = True, False, None
        self._scan = self._searched = self._head

    def _drop(self, batch: Batch[bytes], end: int) -> None:
        """Drop the bytes from the head to `end`, refusing them unless they are white space,
        declarations or comments."""
        self._drop_utf16(batch, end)
        if end <= self._head:
            return
        between = _BETWEEN.match(self._buffer, self._head, end)
        if between is None or between.end() != end:
            start = between.end() if between else self._head
            self._refuse(batch, "bytes between events that are not an event", start, end)
        self._head = end

    def _drop_utf16(self, batch: Batch[bytes], end: int) -> None:
        """Refuse each UTF-16 event that ends before `end` on its own (with what precedes it),
        so however the reads split them, each is one refusal, named for what it is."""
        while (found := _UTF16_END.search(self._buffer, self._head, end)) is not None:
            self._refuse(batch, UTF16_REFUSAL, self._head, found.end())
            self._head = found.end()

    def _find_end(self, batch: Batch[bytes]) -> bool:
        """Look for the end of the event at the head; whether one ended (or was refused)."""
        buffer, head = self._buffer, self._head
        pos = self._scan
        if not self._tag_read:
            tag_end = self._start_tag_end(buffer, head)
            if tag_end is None:
                pos = head  # the start tag is still arriving
            elif tag_end < 0:  # `<event …/>`
                self._complete(batch, -tag_end)
                return True
            else:
                self._tag_read, pos = True, tag_end
        while self._tag_read:
            if self._until is not None:
                end = buffer.find(self._until, pos)
                if end < 0:
                    pos = max(pos, len(buffer) - len(self._until) + 1)
                    break
                pos, self._until = end + len(self._until), None
                continue
            token = _TOKEN.search(buffer, pos)
            if token is None:
                # Every token starts with "<" and holds no other, so one cut short by the end
                # of the read starts at the last "<".
                last = buffer.rfind(b"<", pos)
                pos = last if last >= 0 else len(buffer)
                break
            text = token.group()
            if text in _SKIP_TO:
                self._until, pos = _SKIP_TO[text], token.end()
            elif text.startswith(b"</"):
                self._complete(batch, token.end())
                return True
            else:
                self._unclosed(batch, token.start())
                return True
        if len(buffer) - head > self.max_event_bytes and not self._discarding:
            self._refuse(
                batch, f"an event larger than {self.max_event_bytes} bytes", head, len(buffer)
            )
            self._discarding = True
            if not self._tag_read:  # a start tag longer than the cap: look past its name
                self._tag_read, pos = True, head + len(b"<event")
        if self._discarding:
            # Keep only what the search for the end still needs.
            self._head = min(pos, max(len(buffer) - 16, head))
        self._scan = pos
        return False

    @staticmethod
    def _start_tag_end(buffer: bytearray, at: int) -> int | None:
        """Where the start tag at `at` ends (negated for `<event …/>`); None while it is still
        arriving. A tag broken by a "<" ends there: the parser will say what is wrong."""
        tag = _START_TAG.match(buffer, at)
        end = tag.end() if tag else at + len(b"<event")
        if end == len(buffer):
            return None
        char = buffer[end]
        if char == ord(">"):
            return -(end + 1) if buffer[end - 1] == ord("/") else end + 1
        if char == ord("<"):
            return end
        # An opening quote without its closing one in the buffer, or with a "<" before it.
        close = buffer.find(bytes((char,)), end + 1)
        broken = buffer.find(b"<", end + 1, close if close >= 0 else len(buffer))
        return broken if broken >= 0 else None

    def _complete(self, batch: Batch[bytes], end: int) -> None:
        size = end - self._head
        if self._discarding:
            self._discarding = False
        elif size > self.max_event_bytes:
            self._refuse(
                batch, f"an event larger than {self.max_event_bytes} bytes", self._head, end
            )
        else:
            batch.items.append(bytes(self._buffer[self._head : end]))
        self._head = self._searched = end
        self._in_event = False

    def _unclosed(self, batch: Batch[bytes], next_start: int) -> None:
        if not self._discarding:
            self._refuse(
                batch, "an event not closed before the next <event>", self._head, next_start
            )
        self._discarding = False
        self._head = next_start
        self._start_event()

    def _refuse(self, batch: Batch[bytes], reason: str, start: int, end: int) -> None:
        """Count and report the bytes from `start` to `end` of the buffer: how many and where."""
        self.refused += 1
        batch.refusals.append(Refusal(reason, end - start, self._offset + start))


class XmlEventReader:
    """A CoT XML stream read as Events: split (`EventSplitter`) and parsed (`parse_event`);
    an event that does not parse or validate is refused with the reason and counted. An
    `<auth>` element comes out as `Credentials`, in its place in the stream: whether to use it
    (only as a connection's first item) is the caller's decision."""

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self.splitter = EventSplitter(max_event_bytes)
        self._invalid = 0

    @property
    def refused(self) -> int:
        """Refusals so far, of bytes and of events."""
        return self.splitter.refused + self._invalid

    def feed(self, data: bytes) -> Batch[Event | Credentials]:
        """The events (and credentials) completed by `data`, and what was refused; never
        raises."""
        split = self.splitter.feed(data)
        batch: Batch[Event | Credentials] = Batch(refusals=split.refusals)
        for raw in split.items:
            try:
                if raw.startswith(b"<auth"):
                    batch.items.append(parse_auth(raw))
                else:
                    batch.items.append(parse_event(raw, max_bytes=self.splitter.max_event_bytes))
            except CotError as exc:
                self._invalid += 1
                batch.refusals.append(refusal(exc.message, raw))
        return batch
