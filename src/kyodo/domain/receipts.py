"""Chat receipts: a person's device said it delivered, or its user read, a message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from datetime import datetime

ReceiptKind = Literal["delivered", "read"]
RECEIPT_KINDS: tuple[ReceiptKind, ...] = ("delivered", "read")


@dataclass(frozen=True, slots=True)
class Receipt:
    """The first receipt of its kind from one person for one message (later ones, from the
    same or another of their devices, say nothing new)."""

    message_seq: int
    person_id: str
    kind: ReceiptKind
    at: datetime
