"""Nets, their members and read markers, and messages."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kyodo.api.schemas.base import Strict
from kyodo.api.schemas.labels import LabelIn, LabelOut
from kyodo.domain.nets import Net
from kyodo.labels import SchemeRegistry


class NetIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    purpose: str = Field(default="", max_length=1000)
    org_id: str | None = Field(default=None, max_length=64)
    ceiling: LabelIn
    entry: LabelIn | None = None
    default_label: LabelIn | None = None
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    # The label of the net's name, purpose and members (default: the entry label).
    label: LabelIn | None = None


class NetPatch(Strict):
    purpose: str | None = Field(default=None, max_length=1000)
    ceiling: LabelIn | None = None
    entry: LabelIn | None = None
    default_label: LabelIn | None = None
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    label: LabelIn | None = None


class NetOut(BaseModel):
    id: str
    name: str
    purpose: str
    org_id: str | None
    ceiling: LabelOut
    entry: LabelOut
    default_label: LabelOut
    label: LabelOut
    retention_days: int
    multi_level: bool
    created_at: str

    @classmethod
    def of(cls, net: Net, registry: SchemeRegistry) -> NetOut:
        return cls(
            id=net.id,
            name=net.name,
            purpose=net.purpose,
            org_id=net.org_id,
            ceiling=LabelOut.of(net.ceiling, registry),
            entry=LabelOut.of(net.entry, registry),
            default_label=LabelOut.of(net.default_label, registry),
            label=LabelOut.of(net.meta_label, registry),
            retention_days=net.retention_days,
            multi_level=net.multi_level,
            created_at=net.created_at.isoformat(),
        )


class ReadMarkerIn(Strict):
    seq: int = Field(ge=0, le=2**31 - 1, description="The last message seq you have seen.")


class ReadMarkerOut(BaseModel):
    net_id: str
    last_read: int


class MemberIn(Strict):
    person_id: str = Field(min_length=1, max_length=64)
    role: str = Field(default="member", pattern="^(owner|member|read_only)$")


class MemberOut(BaseModel):
    net_id: str
    person_id: str
    role: str
    added_at: str


class MessageIn(Strict):
    text: str = Field(min_length=1, max_length=20000)
    label: LabelIn | None = None
    reply_to: int | None = Field(default=None, ge=1, le=2**31 - 1)
    override_justification: str | None = Field(default=None, max_length=2000)


class MessageEdit(Strict):
    text: str = Field(min_length=1, max_length=20000)
    label: LabelIn | None = None
    override_justification: str | None = Field(default=None, max_length=2000)


class MessageDowngrade(Strict):
    label: LabelIn
    justification: str = Field(min_length=10, max_length=2000)


class MessageOut(BaseModel):
    seq: int
    rev: int
    net_id: str
    author_id: str
    author: str
    label: LabelOut
    text: str | None
    html: str | None
    reply_to: int | None
    version: int
    created_at: str
    edited_at: str | None
    deleted: bool


class PostedOut(BaseModel):
    message: MessageOut
    guard_findings: list[dict[str, Any]]


class MessagePage(BaseModel):
    items: list[MessageOut]
    banner: LabelOut | None


class ReceiptOut(BaseModel):
    """A TAK client's receipt for a message: who (their person), delivered or read, when."""

    person_id: str
    username: str
    kind: str
    at: str


class VersionOut(BaseModel):
    version: int
    text: str
    label: LabelOut
    editor_id: str
    at: str
