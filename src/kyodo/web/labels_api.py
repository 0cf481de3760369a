"""Label helpers for the page scripts: show labels in the reader's scheme, join for banners."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from kyodo.api.deps import Context, CurrentActor
from kyodo.labels import join_all, label_from_json
from kyodo.web.labels_view import view
from kyodo.web.templating import language_of

router = APIRouter(prefix="/web/labels", include_in_schema=False)


class LabelsIn(BaseModel):
    """Labels as the API gives them (JSON objects or markings)."""

    model_config = ConfigDict(extra="forbid")
    labels: list[dict[str, Any] | str] = Field(min_length=1, max_length=200)


@router.post("/display")
async def display(
    body: LabelsIn, request: Request, actor: CurrentActor, ctx: Context
) -> dict[str, Any]:
    """Each label's banner and portion marking in the reader's scheme, and its colour."""
    lang = language_of(request, actor)
    items = [view(label_from_json(v, ctx.registry), ctx.registry, lang) for v in body.labels]
    return {"items": [item.as_dict() for item in items]}


@router.post("/join")
async def join(
    body: LabelsIn, request: Request, actor: CurrentActor, ctx: Context
) -> dict[str, Any]:
    """The join (least upper bound) of the labels, as a banner shows it."""
    lang = language_of(request, actor)
    labels = [label_from_json(v, ctx.registry) for v in body.labels]
    return view(join_all(*labels), ctx.registry, lang).as_dict()  # view makes it writable
