"""Who a CoT connection acts as: its certificate's person, its `<auth>`, or the plain identity."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

import structlog

from kyodo.cot import Credentials, Event
from kyodo.errors import RateLimited, Unauthenticated
from kyodo.policy import make_subject
from kyodo.services import auth
from kyodo.services.access import CountedRefusals
from kyodo.services.actor import Actor

if TYPE_CHECKING:
    from kyodo.services.context import ServiceContext
    from kyodo.settings import Settings
    from kyodo.takserver.client import CotClient

log = structlog.get_logger("kyodo.cot")
PLAIN_ID = "cot:plain"


def plain_actor(ctx: ServiceContext, settings: Settings) -> Actor:
    """Who a plain-TCP client is: a configured, by default uncleared, identity. Plain TCP
    proves nothing about the person at the other end, so it never sees more than that."""
    subject = make_subject(
        ctx.registry,
        id=PLAIN_ID,
        nation=settings.cot_plain_nation,
        clearance=settings.cot_plain_clearance,
    )
    return Actor(subject=subject, name=PLAIN_ID, via="cot")


def act_as(ctx: ServiceContext, settings: Settings, client: CotClient, actor: Actor) -> None:
    """Make the connection act as `actor`, its refusals audited per connection and interval
    (the first in full, the rest as a count): a peer can send refused events as fast as it
    can write."""
    counted = CountedRefusals(ctx, actor.audit_name, client.id, settings.cot_refusal_audit_seconds)
    client.counted = counted
    client.actor = replace(actor, refusals=counted)


async def identify(
    ctx: ServiceContext, client: CotClient, seconds: float
) -> tuple[Actor, list[Event | Credentials]] | None:
    """For a TLS client whose certificate is registered to nobody: the person its first
    item, an `<auth>`, names (and what it sent after it), or None (logged) if it sends
    none within `seconds`, something else first, or credentials that are refused. Nothing is
    sent to it meanwhile, and it is in no fan-out."""
    items: list[Event | Credentials] = []
    try:
        async with asyncio.timeout(seconds):
            while not items:
                read = await client.read()
                if read is None:
                    return None
                items = read
    except TimeoutError:
        log.warning(
            "cot tls client refused: certificate not registered, no credentials sent",
            peer=client.peer,
        )
        return None
    first = items[0]
    if not isinstance(first, Credentials):
        log.warning(
            "cot tls client refused: certificate not registered, no credentials first",
            peer=client.peer,
        )
        return None
    client.items = 1
    actor = await login(ctx, client, first)
    return None if actor is None else (actor, items[1:])


async def login(ctx: ServiceContext, client: CotClient, credentials: Credentials) -> Actor | None:
    """The person the credentials name, or None if refused (audited by the login; the log
    line names neither the username nor anything else the client sent)."""
    try:
        return await auth.login_stream(
            ctx,
            credentials.username,
            credentials.password,
            _host(client.writer),
            via="cot",
        )
    except (Unauthenticated, RateLimited) as exc:
        log.warning("cot credentials refused", peer=client.peer, reason=exc.message)
        return None


async def credentials(
    ctx: ServiceContext, settings: Settings, client: CotClient, credentials: Credentials
) -> None:
    """An `<auth>` on a connection whose identity is settled: on plain TCP, as its first
    item and if the operator allows it, it makes the connection act as that person (a wrong
    password closes it); anywhere else it is ignored, unchecked."""
    first = client.items == 1
    if not first:
        log.warning("cot credentials ignored: only the first item may be one", peer=client.peer)
    elif not client.plain:
        log.info("cot credentials ignored: the client certificate decides", peer=client.peer)
    elif not settings.cot_plain_auth:
        log.warning(
            "cot credentials ignored on plain tcp",
            peer=client.peer,
            hint="set KYODO_COT_PLAIN_AUTH=true to let them name a person",
        )
    else:
        actor = await login(ctx, client, credentials)
        if actor is None:
            client.close("credentials refused")
            return
        if client.counted is not None:
            await client.counted.close()
        act_as(ctx, settings, client, actor)
        log.info("cot client authenticated", peer=client.peer, actor=actor.audit_name)


def _host(writer: asyncio.StreamWriter) -> str:
    """The peer's address without its port: logins are throttled per address, as the web's."""
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) else str(peer)
