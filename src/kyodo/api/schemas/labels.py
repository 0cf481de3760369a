"""Labels in and out, and the label tools' bodies (parse, render)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kyodo.api.schemas.base import Strict
from kyodo.labels import Label, SchemeRegistry, label_to_dict

# A label is a JSON object (see LabelOut) or a marking string such as "SECRET//REL TO USA, JPN".
LabelIn = dict[str, Any] | str


class LabelOut(BaseModel):
    """A label with its canonical markings."""

    policy: str
    classification: str
    level: int
    restrictive: list[str]
    releasable_to: list[str] | None
    informative: list[str]
    marking: str
    portion: str

    @classmethod
    def of(cls, label: Label, registry: SchemeRegistry) -> LabelOut:
        return cls(**label_to_dict(label, registry))


class ParseIn(Strict):
    marking: str = Field(min_length=1, max_length=1000)
    policy: str | None = Field(default=None, max_length=32)


class RenderIn(Strict):
    label: LabelIn
    scheme: str | None = Field(default=None, max_length=32)
    portion: bool = False


class RenderOut(BaseModel):
    marking: str
    scheme: str
    original: str
    note: str | None
