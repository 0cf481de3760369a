"""Messages as the API's JSON: REST answers, WebSocket frames, the chat page's first messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kyodo.labels import label_to_dict

if TYPE_CHECKING:
    from kyodo.domain.nets import Message
    from kyodo.labels import SchemeRegistry
    from kyodo.services.messages import AuthoredMessage


def message_json(registry: SchemeRegistry, message: Message, author: str) -> dict[str, Any]:
    """A message as members see it: a tombstone carries no text. Key for key the JSON form of
    `schemas.MessageOut` (tests/api/test_post_payload.py), so the hottest answers are sent
    without passing through pydantic."""
    return {
        "seq": message.seq,
        "rev": message.rev,
        "net_id": message.net_id,
        "author_id": message.author_id,
        "author": author,
        "label": label_to_dict(message.label, registry),
        "text": None if message.deleted else message.text,
        "html": None if message.deleted else message.html,
        "reply_to": message.reply_to,
        "version": message.version,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.deleted,
    }


def authored_json(registry: SchemeRegistry, found: AuthoredMessage) -> dict[str, Any]:
    """`message_json` of a message read with its author."""
    return message_json(registry, found.message, found.author)
