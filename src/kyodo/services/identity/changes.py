"""What an admin's change changed, field by field, as its audit record shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.labels import Label, render_marking

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kyodo.services.context import ServiceContext


def changed_fields(
    before: object, after: object, fields: Iterable[str], ctx: ServiceContext
) -> dict[str, list[object]]:
    """[before, after] of each of `fields` that differs, labels as markings."""

    def shown(value: object) -> object:
        if isinstance(value, Label):
            return render_marking(value, ctx.registry)
        if isinstance(value, frozenset):
            return sorted(str(v) for v in value)
        return value

    return {
        name: [shown(getattr(before, name)), shown(getattr(after, name))]
        for name in fields
        if getattr(before, name) != getattr(after, name)
    }
