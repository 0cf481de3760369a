"""Reading actions: one with its timeline and coordination, or a list filtered, sorted,
counted and paged on each reader's own view."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from kyodo.policy import actions as action_rules
from kyodo.services.actions.access import load, org_nations, policy_view
from kyodo.services.actions.query import ActionQuery, check_query, matches, ordered
from kyodo.services.actions.views import (
    ActionDetail,
    ActionSeen,
    required_nations,
    see_action,
    see_comment,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class ActionPage:
    """One page of a list, and how many actions the whole list holds (for this reader)."""

    items: Sequence[ActionSeen]
    total: int
    offset: int


async def get_action(ctx: ServiceContext, actor: Actor, action_id: str) -> ActionDetail:
    """One action as the actor sees it; NotFound, as for a missing one, if they may not read
    its core."""
    loaded = await load(ctx, actor, action_id, "action.read")
    can_read = _reader(ctx, actor)
    async with ctx.db.transaction(write=False) as tx:
        transitions = await tx.actions.transitions(action_id)
    seen = see_action(
        actor.subject,
        can_read,
        loaded.action,
        loaded.view,
        now=ctx.clock(),
        concurrences=loaded.concurrences,
        signatures=loaded.signatures,
        nations=loaded.nations,
    )
    comments = [see_comment(actor.subject, can_read, c) for c in loaded.comments]
    return ActionDetail(seen, transitions, comments, loaded.concurrences, loaded.signatures)


async def list_actions(ctx: ServiceContext, actor: Actor, query: ActionQuery) -> ActionPage:
    """The actions the actor may read (core label in the query; need-to-know by the policy),
    each seen through the actor's own labels, then filtered, sorted and counted on that view."""
    check_query(query)
    can_read = _reader(ctx, actor)
    now = ctx.clock()
    seen: list[ActionSeen] = []
    async with ctx.db.transaction(write=False) as tx:
        found = await tx.actions.list(actor.subject)
        nations_of: dict[str, str] = await org_nations(
            tx, sorted({o for a in found for o in a.party_orgs})
        )
        ids = [a.id for a in found]
        concurrences = await tx.actions.concurrences_of(ids)
        signatures = await tx.actions.signatures_of(ids)
        for action in found:
            view = policy_view(action, nations_of)
            if not action_rules.may_read_action(actor.subject, view):
                continue
            seen.append(
                see_action(
                    actor.subject,
                    can_read,
                    action,
                    view,
                    now=now,
                    concurrences=concurrences.get(action.id, ()),
                    signatures=signatures.get(action.id, ()),
                    nations=required_nations(action, nations_of),
                )
            )
    kept = ordered([s for s in seen if matches(s, query)], query.sort)
    return ActionPage(kept[query.offset : query.offset + query.limit], len(kept), query.offset)


def _reader(ctx: ServiceContext, actor: Actor) -> Callable[[Label], bool]:
    """The actor's cached read check."""
    return partial(ctx.decisions.can_read, actor.subject)
