"""What a stream reader refused and why, so a caller can log it and drop an abusive peer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
EXCERPT_BYTES = 64
QUOTED_CHARS = 32


@dataclass(frozen=True, slots=True)
class Refusal:
    """Bytes a reader would not accept: `reason` in plain words, `size` bytes dropped, and the
    first bytes of them (`excerpt`, at most 64) for a caller that must look at them. Its text
    (the log line's) holds the reason and the size only: the bytes refused may be anything,
    a password included (ATAK's `<auth>`), and never reach a log."""

    reason: str
    size: int
    excerpt: bytes = b""

    def __str__(self) -> str:
        return f"{self.reason} ({self.size} bytes)"


def printable(text: str) -> str:
    """A value a sender wrote, quoted for a refusal's reason: its first characters, escaped
    (`repr`), so that a log line stays one short line whatever was sent."""
    if len(text) <= QUOTED_CHARS:
        return repr(text)
    return repr(text[:QUOTED_CHARS]) + f"… ({len(text)} characters)"


def refusal(reason: str, data: bytes | bytearray | memoryview) -> Refusal:
    """A refusal of `data`, keeping only its first bytes."""
    return Refusal(reason, len(data), bytes(data[:EXCERPT_BYTES]))


@dataclass(slots=True)
class Batch(Generic[T]):
    """What one `feed` produced: the items complete so far and the refusals met on the way."""

    items: list[T] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
