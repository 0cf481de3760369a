"""GeoChat receipts (`b-t-f-d` delivered, `b-t-f-r` read): which message they acknowledge.

ATAK writes a delivered receipt with `<__chatreceipt messageId=…>` (uid `<messageId>.d`), a
read receipt with `<__chat messageId=…>` (uid = the messageId); both name the message by the
`messageId` of the GeoChat they acknowledge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kyodo.cot.event import Event
    from kyodo.domain.receipts import ReceiptKind

DELIVERED_TYPE = "b-t-f-d"
READ_TYPE = "b-t-f-r"
RECEIPT_TYPES = frozenset({DELIVERED_TYPE, READ_TYPE})
_KINDS: dict[str, ReceiptKind] = {DELIVERED_TYPE: "delivered", READ_TYPE: "read"}


@dataclass(frozen=True, slots=True)
class ChatReceipt:
    """What a receipt says: `kind` of the GeoChat whose messageId is `message_id`."""

    kind: ReceiptKind
    message_id: str


def read_receipt(event: Event) -> ChatReceipt | None:
    """The receipt an event carries, or None if it is none or names no message (never raises)."""
    kind = _KINDS.get(event.type)
    if kind is None:
        return None
    for tag in ("__chatreceipt", "__chat"):
        element = event.detail.find(tag)
        if element is not None and element.get("messageId"):
            return ChatReceipt(kind, element.get("messageId", ""))
    # Without the attribute, the uid is the messageId (read) or the messageId and ".d".
    uid = event.uid.removesuffix(".d") if kind == "delivered" else event.uid
    return ChatReceipt(kind, uid) if uid else None
