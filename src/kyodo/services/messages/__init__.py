"""Messages in nets: labelled, checked by the spillage guard, versioned, tombstoned, never lost.

Services return domain objects (`Message`, `AuthoredMessage`); each transport renders them.
"""

from kyodo.services.messages.reads import (
    AuthoredMessage,
    authored,
    changes_since,
    get_message,
    latest_messages,
    list_messages,
    message_versions,
    search_messages,
)
from kyodo.services.messages.receipts import (
    chat_ref,
    message_receipts,
    own_ref,
    record_receipt,
)
from kyodo.services.messages.records import export_net, purge_expired
from kyodo.services.messages.writes import (
    MAX_TEXT,
    Posted,
    delete_message,
    downgrade_message,
    edit_message,
    post_message,
)

__all__ = [
    "MAX_TEXT",
    "AuthoredMessage",
    "Posted",
    "authored",
    "changes_since",
    "chat_ref",
    "delete_message",
    "downgrade_message",
    "edit_message",
    "export_net",
    "get_message",
    "latest_messages",
    "list_messages",
    "message_receipts",
    "message_versions",
    "own_ref",
    "post_message",
    "purge_expired",
    "record_receipt",
    "search_messages",
]
