"""The GeoChat relay between anonymous plain-TCP clients, which is no net's message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.cot import read_label
from kyodo.labels import parse_marking
from kyodo.policy import Action, Resource
from kyodo.services.access import require
from kyodo.takserver.encoding import Encoded
from kyodo.takserver.geochat.answers import ChatRefused
from kyodo.takserver.geochat.contacts import clients_named

if TYPE_CHECKING:
    from kyodo.cot import Event
    from kyodo.cot.chat import GeoChat
    from kyodo.services.context import ServiceContext
    from kyodo.takserver.client import CotClient
    from kyodo.takserver.geochat.contacts import Contact


async def relay_anonymous(
    ctx: ServiceContext,
    clients: set[CotClient],
    contacts: dict[str, Contact],
    client: CotClient,
    event: Event,
    chat: GeoChat,
) -> None:
    """GeoChat between anonymous plain clients, as TAK Server relays it: the label must be
    one the plain identity may write (checked, refusals audited, like its positions); it
    goes only to the other anonymous clients that may read it (the addressed ones, if it
    names any), and is stored nowhere: there is no person to author it."""
    targets: set[str] | None = None
    if chat.addressed:
        named = clients_named(clients, contacts, chat.recipients, chat.recipient_uids)
        targets = {c.id for c in named if c.actor.person is None}
        if not targets:
            raise ChatRefused("anonymous direct message to no anonymous client", "anonymous")
    registry = ctx.registry
    label = read_label(event, registry).label or parse_marking("UNCLASSIFIED", registry)
    await require(
        ctx,
        client.actor,
        Action.WRITE,
        Resource(label),
        audit_action="chat.relay",
        object_type="chat",
        object_id=event.uid,
    )
    encoded = Encoded(event, label, registry)
    can_read = ctx.decisions.can_read
    for other in tuple(clients):
        if (
            other.id != client.id
            and other.actor.person is None
            and (targets is None or other.id in targets)
            and can_read(other.actor.subject, label)
        ):
            other.offer(encoded.bytes_for(other))
