"""The GeoChat bridge between TAK clients and Kyodo nets, and the names it is used by."""

from kyodo.takserver.geochat.answers import (
    ANSWERS,
    SERVER_CALLSIGN,
    SERVER_UID,
    ChatRefused,
    answer_text,
    language_of,
)
from kyodo.takserver.geochat.bridge import MAX_CHAT_QUEUE, GeoChatBridge
from kyodo.takserver.geochat.contacts import Contact
from kyodo.takserver.geochat.events import CHAT_STALE
from kyodo.takserver.geochat.rooms import (
    ALL_CHAT_ROOMS,
    DIRECT_PREFIX,
    DIRECT_PURPOSE,
    direct_net_name,
)

__all__ = [
    "ALL_CHAT_ROOMS",
    "ANSWERS",
    "CHAT_STALE",
    "DIRECT_PREFIX",
    "DIRECT_PURPOSE",
    "MAX_CHAT_QUEUE",
    "SERVER_CALLSIGN",
    "SERVER_UID",
    "ChatRefused",
    "Contact",
    "GeoChatBridge",
    "answer_text",
    "direct_net_name",
    "language_of",
]
