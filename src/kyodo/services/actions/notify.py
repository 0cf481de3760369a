"""Notifications of an action's changes into its owning net: a message under the action's core
label that names the kind, the new state and the link — never a field's value, so a member reads
exactly what the core label lets them, and nothing the fields withhold."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from kyodo.errors import KyodoError
from kyodo.policy.nets import WRITERS
from kyodo.services.messages import post_message
from kyodo.services.nets.access import net_roster

if TYPE_CHECKING:
    from kyodo.domain.actions import Action
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

log = structlog.get_logger(__name__)


def notice(action: Action, what: str) -> str:
    """The message's text: what happened, the state, and where to read the action."""
    return f"[{action.kind.value}] {what} — state {action.state} — /api/v1/actions/{action.id}"


async def notify(ctx: ServiceContext, actor: Actor, action: Action, what: str) -> None:
    """Post `what` happened into the action's owning net, as the actor, if they may write there
    (a notice is not worth a refusal: someone outside the net changes the action silently);
    a failure is logged, never undoes the committed change."""
    if action.owning_net_id is None:
        return
    try:
        net, roster = await net_roster(ctx, action.owning_net_id)
        member = roster.get(actor.subject.id)
        if member is None or member.role.value not in WRITERS:
            return
        if not net.ceiling.dominates(action.label):
            return
        await post_message(ctx, actor, net.id, notice(action, what), label=action.label)
    except KyodoError as error:
        log.warning("action notice not posted", action=action.id, error=error.message)
