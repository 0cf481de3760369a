"""Label utilities over HTTP: parse a marking, render a label (in another scheme)."""

from __future__ import annotations

from fastapi import APIRouter

from kyodo.api.deps import Context, CurrentActor
from kyodo.api.labels_in import to_label
from kyodo.api.schemas import LabelOut, ParseIn, RenderIn, RenderOut
from kyodo.labels import parse_marking, render_marking

router = APIRouter(tags=["labels"])


@router.post("/labels/parse", response_model=LabelOut)
async def parse(body: ParseIn, actor: CurrentActor, ctx: Context) -> LabelOut:
    """Parse a banner or portion marking; 422 says what is wrong and at which character."""
    return LabelOut.of(parse_marking(body.marking, ctx.registry, body.policy), ctx.registry)


@router.post("/labels/render", response_model=RenderOut)
async def render(body: RenderIn, actor: CurrentActor, ctx: Context) -> RenderOut:
    """Render a label in its own or another nation's scheme (422 where none is equivalent)."""
    label = to_label(ctx, body.label)
    scheme = ctx.registry.scheme(body.scheme or label.policy)
    marking = render_marking(label, ctx.registry, portion=body.portion, scheme=scheme.policy)
    original = render_marking(label, ctx.registry, portion=body.portion)
    note = None
    if scheme.policy != label.policy:
        note = f"{label.policy} label {original} shown in the {scheme.policy} scheme"
    return RenderOut(marking=marking, scheme=scheme.policy, original=original, note=note)
