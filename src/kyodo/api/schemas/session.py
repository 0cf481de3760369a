"""Logging in and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from kyodo.api.schemas.base import Strict
from kyodo.api.schemas.directory import PersonOut
from kyodo.services.ports import SessionRecord


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    person: PersonOut
    csrf_token: str


TokenScope = Literal["read", "write", "admin"]


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[TokenScope] = Field(
        default=["read"],
        min_length=1,
        max_length=3,
        description="read: GET and the stream; write: everything else; admin: use your "
        "administrative roles. A token minted by a token gets no scope it lacks.",
    )
    expires_in_days: float | None = Field(
        default=None,
        gt=0,
        le=36500,  # the server's maximum is lower; this only keeps the arithmetic finite
        allow_inf_nan=False,
        description="Default and maximum: the server's settings.",
    )


class TokenInfo(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    parent_id: str | None
    current: bool = Field(description="The token this request came with.")

    @classmethod
    def of(cls, record: SessionRecord, current: str | None = None) -> TokenInfo:
        return cls(
            id=record.id,
            name=record.name,
            scopes=sorted(record.scopes or ()),
            created_at=record.created_at,
            expires_at=record.expires_at,
            parent_id=record.parent_id,
            current=current is not None and record.id == current,
        )


class TokenOut(TokenInfo):
    token: str = Field(description="The secret: shown this once, never again.")
