"""A client's snapshot: the tracks it may read, sent once its format is known."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from kyodo.cot import Event, protocol_response, requested_version, serialise_event
from kyodo.errors import KyodoError
from kyodo.services import tracks
from kyodo.takserver.encoding import Encoded, snapshot_event

if TYPE_CHECKING:
    from kyodo.domain.tracks import Track
    from kyodo.services.context import ServiceContext
    from kyodo.takserver.client import CotClient

log = structlog.get_logger("kyodo.cot")
SNAPSHOT_LIMIT = 5000


async def take(ctx: ServiceContext, client: CotClient) -> list[Track]:
    """The tracks the client may read, to send it once: marked sent before the read, so
    that the timer and the client's first event never both send it."""
    client.snapshot_sent = True
    return list(await tracks.list_tracks(ctx, client.actor, limit=SNAPSHOT_LIMIT))


def offer(ctx: ServiceContext, client: CotClient, snapshot: list[Track]) -> None:
    registry = ctx.registry
    for track in snapshot:
        # Replayed as received (relabelled), like the live fan-out.
        client.offer(Encoded(snapshot_event(track), track.label, registry).bytes_for(client))


async def send(ctx: ServiceContext, client: CotClient) -> None:
    snapshot = await take(ctx, client)
    offer(ctx, client, snapshot)


async def send_later(ctx: ServiceContext, client: CotClient, seconds: float) -> None:
    """The snapshot for a client that neither negotiates nor sends anything (a receiver
    only), `seconds` after it connected (in XML: it has not asked for protocol 1)."""
    await asyncio.sleep(seconds)
    if client.closed is None and not client.snapshot_sent:
        # Once reading has begun it finishes, even if the client leaves meanwhile: a read
        # cancelled half-way would abandon its database connection instead of returning it.
        reading = asyncio.ensure_future(_send_or_log(ctx, client))
        try:
            await asyncio.shield(reading)
        except asyncio.CancelledError:
            await reading
            raise


async def _send_or_log(ctx: ServiceContext, client: CotClient) -> None:
    try:
        await send(ctx, client)
    except KyodoError as exc:
        log.warning("cot snapshot not sent", peer=client.peer, reason=exc.message)


async def negotiate(ctx: ServiceContext, client: CotClient, event: Event) -> None:
    """Answer a protocol request (in XML), switch if accepted, then send the snapshot, if
    not sent yet, in the format agreed: all in one write, so that it follows the answer."""
    accepted = requested_version(event) == 1
    snapshot = None if client.snapshot_sent else await take(ctx, client)
    client.offer(serialise_event(protocol_response(ctx.clock(), accepted=accepted)))
    if accepted:
        client.switch_to_protocol()
    if snapshot is not None:
        offer(ctx, client, snapshot)
