"""Files and data packages (TAK's Enterprise Sync): labelled content named by its SHA-256."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from kyodo.labels import Label

TOOLS = ("public", "private")  # TAK's `tool`: whether clients list it in their data packages
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def valid_hash(text: str) -> bool:
    """Whether a text is a SHA-256 as TAK clients write it (64 lower-case hex digits)."""
    return bool(_SHA256.match(text))


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One file record: its content's hash, what its uploader said of it, and its label.
    The same content may be held under several labels, one record each (`id` differs)."""

    id: int
    sha256: str
    name: str
    mime_type: str
    size: int
    keywords: tuple[str, ...]
    creator_uid: str  # the TAK device that made it (TAK's CreatorUid), "" if not said
    submitter_id: str  # the person (subject id) who uploaded it
    submitter: str  # their username when they uploaded it (TAK's SubmissionUser)
    submitted_at: datetime
    tool: str
    label: Label
    deleted_at: datetime | None = None
    deleted_by: str | None = None
