"""TAK protocol 1 framing: stream frames `0xbf <varint length> <TakMessage>`, mesh datagrams.

Mesh (UDP) framing is `0xbf 0x01 0xbf <TakMessage>`, one message per datagram. (pytak with
`TAK_PROTO=1` skips the negotiation and sends stream frames at once, so a first byte of 0xbf
means protocol 1.) A stream read as events is `TakEventReader`: frames converted with
`kyodo.cot.tak.message_to_event`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from takproto.proto import TakMessage  # type: ignore[import-untyped]

from kyodo.cot.errors import CotError
from kyodo.cot.refusal import Batch, refusal
from kyodo.cot.tak import message_to_event

if TYPE_CHECKING:
    from kyodo.cot.event import Event

MAGIC = 0xBF
MESH_HEADER = b"\xbf\x01\xbf"
MAX_MESSAGE_BYTES = 64 * 1024
# A declared length beyond this many times the cap is not an oversize message but noise:
# resynchronise at the next 0xbf rather than skip that many bytes.
_IMPLAUSIBLE = 16
_MAX_VARINT_BYTES = 5  # 35 bits: far above any length the cap allows


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if not value:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def frame_stream(message: Any) -> bytes:
    """A TakMessage in stream framing: `0xbf`, its length as a varint, the protobuf."""
    body: bytes = message.SerializeToString()
    return bytes((MAGIC,)) + _varint(len(body)) + body


def frame_mesh(message: Any) -> bytes:
    """A TakMessage in mesh framing (one UDP datagram): `0xbf 0x01 0xbf`, the protobuf."""
    body: bytes = message.SerializeToString()
    return MESH_HEADER + body


def unframe_mesh(datagram: bytes, *, max_message_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """The TakMessage of a mesh datagram; CotError says why it is refused."""
    if not datagram.startswith(MESH_HEADER):
        raise CotError("a mesh datagram starts with 0xbf 0x01 0xbf")
    body = datagram[len(MESH_HEADER) :]
    if len(body) > max_message_bytes:
        raise CotError(f"a TAK message of {len(body)} bytes; at most {max_message_bytes}")
    return _parse_message(body)


def _parse_message(body: bytes) -> Any:
    message = TakMessage()
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        raise CotError(f"not a TakMessage: {exc}") from None
    return message


class FrameDecoder:
    """Splits a TAK protocol 1 stream into TakMessages, whatever the reads look like.

    `feed` never raises: bytes that are not a frame, frames longer than the cap, and payloads
    that are not a TakMessage are refused (and counted in `refused`), and decoding resumes at
    the next frame.
    """

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_message_bytes = max_message_bytes
        self.refused = 0
        self._buffer = bytearray()
        self._skip = 0

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> Batch[Any]:
        """The TakMessages completed by `data`, and what was refused."""
        batch: Batch[Any] = Batch()
        buffer = self._buffer
        buffer += data
        pos, size = 0, len(buffer)
        while pos < size:
            if self._skip:
                dropped = min(self._skip, size - pos)
                pos += dropped
                self._skip -= dropped
                continue
            if buffer[pos] != MAGIC:
                found = buffer.find(MAGIC, pos)
                end = size if found < 0 else found
                self._refuse(batch, "bytes that are not a TAK frame (0xbf …)", buffer[pos:end])
                pos = end
                continue
            length, body_at = self._length(buffer, pos + 1, size)
            if length is None:
                if body_at - pos - 1 >= _MAX_VARINT_BYTES:
                    self._refuse(
                        batch, "a TAK frame length that is not a varint", buffer[pos:body_at]
                    )
                    pos += 1
                    continue
                break  # the length is not complete yet
            if length == 0:
                self._refuse(batch, "an empty TAK frame", buffer[pos:body_at])
                pos = body_at
                continue
            if length > self.max_message_bytes:
                if length > _IMPLAUSIBLE * self.max_message_bytes:
                    self._refuse(
                        batch, f"a TAK frame length of {length} bytes", buffer[pos:body_at]
                    )
                    pos += 1
                    continue
                self._refuse(
                    batch,
                    f"a TAK message of {length} bytes; at most {self.max_message_bytes}",
                    buffer[pos:body_at],
                )
                pos = body_at
                self._skip = length
                continue
            if size - body_at < length:
                break  # the body is not complete yet
            body = bytes(buffer[body_at : body_at + length])
            pos = body_at + length
            try:
                batch.items.append(_parse_message(body))
            except CotError as exc:
                self._refuse(batch, exc.message, body)
        del buffer[:pos]
        return batch

    @staticmethod
    def _length(buffer: bytearray, at: int, size: int) -> tuple[int | None, int]:
        """(length, where the body starts), or (None, where reading stopped)."""
        length = shift = 0
        while at < size and shift < 7 * _MAX_VARINT_BYTES:
            byte = buffer[at]
            at += 1
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return length, at
            shift += 7
        return None, at

    def _refuse(self, batch: Batch[Any], reason: str, data: bytes | bytearray) -> None:
        self.refused += 1
        batch.refusals.append(refusal(reason, data))


class TakEventReader:
    """A TAK protocol 1 stream read as Events: frames (`FrameDecoder`) converted with
    `message_to_event`; a message that is not a valid event is refused and counted, and a
    TakControl-only message is skipped."""

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.frames = FrameDecoder(max_message_bytes)
        self._converted_refused = 0

    @property
    def refused(self) -> int:
        """Refusals so far, of frames and of events."""
        return self.frames.refused + self._converted_refused

    def feed(self, data: bytes) -> Batch[Event]:
        """The events completed by `data`, and what was refused."""
        decoded = self.frames.feed(data)
        batch: Batch[Event] = Batch(refusals=decoded.refusals)
        for message in decoded.items:
            if not message.HasField("cotEvent"):
                continue
            try:
                batch.items.append(message_to_event(message))
            except CotError as exc:
                self._converted_refused += 1
                batch.refusals.append(refusal(exc.message, message.SerializeToString()))
        return batch
