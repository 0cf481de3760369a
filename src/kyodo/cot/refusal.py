"""What a stream reader refused and why, so a caller can log it and drop an abusive peer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
QUOTED_CHARS = 32


@dataclass(frozen=True, slots=True)
class Refusal:
    """Bytes a reader would not accept: `reason` in plain words, `size` bytes dropped and, where
    the reader knows it, `at`, their offset in the stream.

    It keeps none of the bytes themselves: what a client sends before or between events can be
    anything, a TAK client's `<auth>` with its password included, and a refusal ends up in the
    log. The reason is the codec's own words, never a quote of the input.
    """

    reason: str
    size: int
    at: int | None = None

    def __str__(self) -> str:
        where = f" at byte {self.at}" if self.at is not None else ""
        return f"{self.reason} ({self.size} bytes{where})"


def printable(text: str) -> str:
    """A value a sender wrote, quoted for a refusal's reason: its first characters, escaped
    (`repr`), so that a log line stays one short line whatever was sent."""
    if len(text) <= QUOTED_CHARS:
        return repr(text)
    return repr(text[:QUOTED_CHARS]) + f"… ({len(text)} characters)"


def refusal(reason: str, data: bytes | bytearray | memoryview, at: int | None = None) -> Refusal:
    """A refusal of `data` (its size, not its bytes), found at stream offset `at` if known."""
    return Refusal(reason, len(data), at)


@dataclass(slots=True)
class Batch(Generic[T]):
    """What one `feed` produced: the items complete so far and the refusals met on the way."""

    items: list[T] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
