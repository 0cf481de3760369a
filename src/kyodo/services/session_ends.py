"""Ending sessions and API tokens: a token's family, and what must follow their deletion."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from kyodo.bus.events import SessionEnded

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import SessionRecord, UnitOfWork


def descendants(records: Sequence[SessionRecord], root_id: str) -> list[SessionRecord]:
    """The tokens minted, directly or not, by the token `root_id` (not itself)."""
    children: dict[str, list[SessionRecord]] = {}
    for record in records:
        if record.parent_id:
            children.setdefault(record.parent_id, []).append(record)
    found: list[SessionRecord] = []
    pending = [root_id]
    seen = {root_id}
    while pending:
        for child in children.get(pending.pop(), ()):
            if child.id not in seen:
                seen.add(child.id)
                found.append(child)
                pending.append(child.id)
    return found


def end_sessions(
    tx: UnitOfWork, ctx: ServiceContext, person_id: str, hashes: Sequence[str]
) -> None:
    """In the transaction that deletes sessions or tokens: once it has committed, forget them
    and close their streams."""
    for digest in hashes:
        tx.after_commit(partial(ctx.reads.sessions.forget, digest))
        tx.publish(SessionEnded(person_id, digest))
