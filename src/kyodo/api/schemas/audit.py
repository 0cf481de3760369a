"""The audit log's records and their pages."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kyodo.audit.chain import AuditRecord


class AuditOut(BaseModel):
    """A record, or (`redacted`) the stub of one whose label the reader may not read: then
    object_id, decision, label, reasons and details are absent (null/empty)."""

    seq: int
    time: str
    actor: str
    action: str
    object_type: str
    object_id: str | None = None
    decision: str | None = None
    label: dict[str, Any] | None = None
    reasons: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str
    redacted: bool = False

    @classmethod
    def of(cls, record: AuditRecord) -> AuditOut:
        return cls(**record.as_dict())


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None
