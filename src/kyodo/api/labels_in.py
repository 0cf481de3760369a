"""Turns a label as the API accepts it (JSON object or marking string) into a Label."""

from __future__ import annotations

from kyodo.api.schemas import LabelIn
from kyodo.labels import Label, label_from_json
from kyodo.services.context import ServiceContext


def to_label(ctx: ServiceContext, value: LabelIn) -> Label:
    """A Label; LabelError (422) says what is wrong."""
    return label_from_json(value, ctx.registry)


def optional_label(ctx: ServiceContext, value: LabelIn | None) -> Label | None:
    """A Label, or None when none was given."""
    return None if value is None else to_label(ctx, value)
