"""The rows every post inserts straight to the driver: the message and its first version."""

from __future__ import annotations

from kyodo.store.sql.driver import DriverInsert
from kyodo.store.sql.tables import message_versions, messages

# A new message (version 1) and its first version, as each dialect's `add_messages` inserts
# them straight to the driver (ADR 0007).
NEW_MESSAGE = DriverInsert(
    messages,
    (
        "net_id",
        "author_id",
        "label_id",
        "text",
        "html",
        "reply_to",
        "version",
        "created_at",
        "purged",
        "rev",
    ),
)
FIRST_VERSION = DriverInsert(
    message_versions, ("message_seq", "version", "label_id", "text", "editor_id", "at")
)
