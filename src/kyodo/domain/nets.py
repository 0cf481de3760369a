"""Chat nets and their messages: ceilings, entry labels, members, versions and tombstones."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from kyodo.policy import Container

if TYPE_CHECKING:
    from datetime import datetime

    from kyodo.labels import Label


class NetRole(StrEnum):
    """A member's role in one net."""

    OWNER = "owner"
    MEMBER = "member"
    READ_ONLY = "read_only"


@dataclass(frozen=True, slots=True)
class Net:
    """A labelled chat channel: messages are dominated by `ceiling`; members read `entry`."""

    id: str
    name: str
    purpose: str
    org_id: str | None
    ceiling: Label
    entry: Label
    default_label: Label
    retention_days: int
    created_at: datetime
    version: int = 1
    # The label of the net's name, purpose and member list, if lower than its entry label.
    label: Label | None = None

    @property
    def meta_label(self) -> Label:
        """What one must read to see the net's name, purpose and members (not its messages)."""
        return self.entry if self.label is None else self.label

    def container(self) -> Container:
        """The net as the policy sees it."""
        return Container(self.name, self.ceiling, self.entry)

    @property
    def multi_level(self) -> bool:
        """Whether members may be cleared below the ceiling (each receives what they may read)."""
        return not self.entry.dominates(self.ceiling)


@dataclass(frozen=True, slots=True)
class Member:
    """One person's membership of one net."""

    net_id: str
    person_id: str
    role: NetRole
    added_at: datetime
    last_read: int = 0  # seq of the last message the member has seen in the net


@dataclass(frozen=True, slots=True)
class Message:
    """The current version of a message. `seq` orders every message of the server.

    A deleted message is a tombstone: `deleted_at` is set and members see no text; the text stays
    in the store (and its versions) for records officers until an audited purge.
    """

    seq: int
    net_id: str
    author_id: str
    label: Label
    text: str
    html: str
    created_at: datetime
    reply_to: int | None = None
    version: int = 1
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    purged: bool = False
    rev: int = 0

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class MessageVersion:
    """An earlier (or the current) text and label of a message, kept for the record."""

    message_seq: int
    version: int
    label: Label
    text: str
    editor_id: str
    at: datetime
