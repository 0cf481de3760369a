"""WebSocket `/api/v1/stream`: live messages of the caller's nets, each checked per recipient.

Protocol (JSON text frames). The client sends `{"op": "subscribe", "nets": [ids] | null,
"after": REV, "tracks": BOOL}` (null = all its nets; REV = the last `rev` it saw, 0 for none; with
`tracks`, a snapshot of the live tracks it may read, then `track` events). The server replays
every readable change after REV in order, sends `{"type": "subscribed", "nets": [...], "rev": N}`,
then live events: `message` (kind posted/edited/deleted), `message.hidden` (an edit raised the label
above you), `net.left` (you were removed). A slow client is closed with code 4008; it reconnects
with the last rev it saw and misses nothing and receives nothing twice. A connection whose session
or token ends (logout, account disabled, new password) is closed with code 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from kyodo.api.deps import SESSION_COOKIE
from kyodo.errors import KyodoError, Unauthenticated
from kyodo.services import auth, messages, nets, tracks
from kyodo.services.live import SESSION_ENDED

if TYPE_CHECKING:
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.live import LiveConnection, LiveHub

router = APIRouter()
SUBSCRIBE_TIMEOUT = 30.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_BAD_REQUEST = 4400
CLOSE_SLOW = 4008
REPLAY_BATCH = 500


async def _authenticate(websocket: WebSocket, ctx: ServiceContext) -> Actor:
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return await auth.authenticate(ctx, header[7:].strip())
    token = websocket.query_params.get("token")
    if token:
        return await auth.authenticate(ctx, token)
    cookie = websocket.cookies.get(SESSION_COOKIE)
    if cookie:
        # A cookie rides along on cross-site WebSocket requests: accept it only from our origin.
        origin = websocket.headers.get("origin")
        host = websocket.headers.get("host", "")
        if origin is not None and origin.split("://", 1)[-1] != host:
            raise Unauthenticated("cross-origin WebSocket refused")
        return await auth.authenticate(ctx, cookie, kind="session")
    raise Unauthenticated("log in first, or pass ?token=")


@router.websocket("/api/v1/stream")
async def stream(websocket: WebSocket) -> None:
    ctx: ServiceContext = websocket.app.state.context
    hub: LiveHub = websocket.app.state.hub
    try:
        actor = await _authenticate(websocket, ctx)
    except KyodoError as exc:
        await websocket.close(code=CLOSE_UNAUTHENTICATED, reason=exc.message[:120])
        return
    await websocket.accept()
    conn = hub.connect(actor.subject, actor.session_hash)
    try:
        try:
            request = json.loads(
                await asyncio.wait_for(websocket.receive_text(), SUBSCRIBE_TIMEOUT)
            )
            wanted, after = _subscription(request)
        except (ValueError, TypeError, TimeoutError) as exc:
            await websocket.close(code=CLOSE_BAD_REQUEST, reason=f"bad subscribe: {exc}"[:120])
            return
        mine = {n.id for n in await nets.list_my_nets(ctx, actor)}
        net_ids = sorted(mine if wanted is None else set(wanted) & mine)
        # Subscribe before replaying, so nothing committed meanwhile is missed; events the
        # replay already covered are skipped below by their rev.
        hub.subscribe(conn, net_ids)
        if request.get("tracks"):
            # Watch first, then send the snapshot: an update in between may arrive twice, which
            # is harmless for a track's latest state, but none is lost.
            hub.watch_tracks(conn)
            for track in await tracks.list_tracks(ctx, actor, limit=5000):
                await websocket.send_text(
                    json.dumps(
                        {"type": "track", "track": tracks.track_payload(ctx, track)},
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
                )
        last = await _replay(websocket, ctx, actor, net_ids, after)
        await websocket.send_text(
            json.dumps(
                {
                    "type": "subscribed",
                    "nets": net_ids,
                    "rev": last,
                    "refused": sorted(set(wanted or ()) - mine),
                }
            )
        )
        await _pump(websocket, conn, last)
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(conn)


def _subscription(request: Any) -> tuple[list[str] | None, int]:
    if not isinstance(request, dict) or request.get("op") != "subscribe":
        raise ValueError('expected {"op": "subscribe", ...}')
    wanted = request.get("nets")
    if wanted is not None and not (
        isinstance(wanted, list) and all(isinstance(n, str) for n in wanted)
    ):
        raise ValueError("nets must be a list of net ids or null")
    after = request.get("after", 0) or 0
    if not isinstance(after, int) or after < 0:
        raise ValueError("after must be a non-negative integer")
    return wanted, after


async def _replay(
    websocket: WebSocket, ctx: ServiceContext, actor: Actor, net_ids: list[str], after: int
) -> int:
    last = after
    while net_ids:
        batch = await messages.changes_since(ctx, actor, net_ids, last, REPLAY_BATCH)
        for payload in batch:
            kind = (
                "deleted"
                if payload["deleted"]
                else ("edited" if payload["version"] > 1 else "posted")
            )
            await websocket.send_text(
                json.dumps(
                    {"type": "message", "kind": kind, "rev": payload["rev"], "message": payload},
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
            )
            last = payload["rev"]
        if len(batch) < REPLAY_BATCH:
            break
    return last


async def _pump(websocket: WebSocket, conn: LiveConnection, replayed: int) -> None:
    """Send queued events until the client leaves or the connection is closed as too slow."""

    async def receive() -> None:
        while True:  # the client may send pings; anything it sends keeps the socket alive
            await websocket.receive_text()

    receiver = asyncio.ensure_future(receive())
    try:
        while not receiver.done():
            item = await conn.next()
            if item is None:
                if conn.closed_reason and conn.closed_reason != "disconnected":
                    code = (
                        CLOSE_UNAUTHENTICATED if conn.closed_reason == SESSION_ENDED else CLOSE_SLOW
                    )
                    await websocket.close(code=code, reason=conn.closed_reason[:120])
                return
            rev, wire = item
            if rev and rev <= replayed:
                continue
            await websocket.send_text(wire)
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await receiver
