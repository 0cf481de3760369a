"""The spillage guard's check: a text against its label and its recipients."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kyodo.api.schemas.base import Strict
from kyodo.api.schemas.labels import LabelIn, LabelOut


class GuardCheckIn(Strict):
    text: str = Field(min_length=1, max_length=20000)
    label: LabelIn
    net_id: str | None = Field(default=None, max_length=64)


class Recipient(BaseModel):
    person_id: str
    username: str
    name: str
    nation: str


class GuardReason(BaseModel):
    """Why the draft would be refused: a catalogue key and its values (labels as objects)."""

    code: str
    params: dict[str, Any]
    detail: str  # the same in English


class NetSuggestion(BaseModel):
    """Another net of the author's that can carry the text, and the label to use there."""

    net_id: str
    name: str
    suggested: LabelOut


class GuardCheckOut(BaseModel):
    refused: bool
    # For a net: the lowest label the author may use there that covers the findings (null when
    # the net cannot hold the text: see `needed` and `reason`). Without a net: the label joined
    # with every finding's minimum.
    suggested: LabelOut | None
    needed: LabelOut  # the label the text needs, wherever it may go
    findings: list[dict[str, Any]]
    above_ceiling: bool | None  # no label the net may hold covers the text
    in_net: bool | None  # the text may be posted in this net at `suggested`
    keeps_partners: bool | None  # `suggested` stays releasable to every member's nation
    overridable: bool | None  # the author may post it anyway with a written justification
    reason: GuardReason | None
    # When this net cannot carry the text: the author's nets that can (where they may post).
    elsewhere: list[NetSuggestion] | None
    recipients: list[Recipient] | None
    recipients_by_nation: dict[str, int] | None
