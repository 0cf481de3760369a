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


class GuardCheckOut(BaseModel):
    refused: bool
    suggested: LabelOut
    findings: list[dict[str, Any]]
    above_ceiling: bool | None
    recipients: list[Recipient] | None
    recipients_by_nation: dict[str, int] | None
