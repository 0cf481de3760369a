"""WebSocket `/api/v1/stream`: live messages of the caller's nets, each checked per recipient.

Protocol (JSON text frames). Credentials never go in the URL: a browser's same-origin session
cookie, an `Authorization: Bearer` header, or the subprotocols `kyodo.v1` and
`kyodo.token.<token>` (the server answers `kyodo.v1` only). The client sends `{"op": "subscribe",
"nets": [ids] | null, "after": REV, "tracks": BOOL}` (null = all its nets; REV = the last `rev` it
saw, 0 for none; with `tracks`, a snapshot of the live tracks it may read, then `track` events
and `track_deleted` ones, `{"type": "track_deleted", "uid": …}`, for tracks it may read);
later it may send `{"op": "ping"}` (answered `{"type": "pong"}`). Every frame is validated like a
request body: a bad one is answered `{"type": "error", "code": "invalid_request", "detail": …}`
and the socket stays open. The server replays every readable change after REV in order, sends
`{"type": "subscribed", "nets": [...], "rev": N}`, then live events: `message` (kind
posted/edited/deleted), `message.hidden` (an edit raised the label above you), `net.left` (you
were removed). A slow client is closed with code 4008; it reconnects with the last rev it saw and
misses nothing and receives nothing twice. A connection whose session or token ends (logout,
account disabled, new password, revoked or expired token) is closed with code 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from kyodo.api.deps import SESSION_COOKIE, certificate_caller
from kyodo.api.message_json import authored_json
from kyodo.api.track_json import track_frame
from kyodo.errors import KyodoError, Unauthenticated
from kyodo.services import auth, messages, nets, tracks
from kyodo.services.live import SESSION_ENDED

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.live import LiveConnection, LiveHub

router = APIRouter()
SUBSCRIBE_TIMEOUT = 30.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_BAD_REQUEST = 4400
CLOSE_SLOW = 4008
REPLAY_BATCH = 500
TOO_MANY_BAD_FRAMES = "too many bad frames"
SUBPROTOCOL = "kyodo.v1"
TOKEN_PROTOCOL = "kyodo.token."  # noqa: S105 - a prefix, not a secret
MAX_REV = 2**63 - 1  # revs are BIGINT audit seqs
MAX_NETS = 1000
# A client that keeps sending bad frames is closed after this many, so it cannot keep the
# server answering errors for ever.
MAX_BAD_FRAMES = 20


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubscribeFrame(_Frame):
    """What the client wants: its nets (null = all), the last rev it saw, tracks or not."""

    op: Literal["subscribe"]
    nets: Annotated[list[StrictStr], Field(max_length=MAX_NETS)] | None = None
    after: Annotated[StrictInt, Field(ge=0, le=MAX_REV)] = 0
    tracks: StrictBool = False


class PingFrame(_Frame):
    """Keeps an idle connection alive through proxies; answered with a pong."""

    op: Literal["ping"]


class _ClientFrame(BaseModel):
    frame: Annotated[SubscribeFrame | PingFrame, Field(discriminator="op")]


class BadFrame(Exception):
    """A client frame that is not valid JSON or not one of the frames above."""

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    def wire(self) -> str:
        return json.dumps(
            {
                "type": "error",
                "code": "invalid_request",
                "detail": self.detail,
                "errors": self.errors,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )


def parse_frame(message: Mapping[str, Any]) -> SubscribeFrame | PingFrame:
    """A received WebSocket message as a client frame; BadFrame with the reason otherwise."""
    text = message.get("text")
    if text is None:
        raise BadFrame("frames are JSON text, not binary")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadFrame(f"not JSON: {exc}") from None
    try:
        return _ClientFrame.model_validate({"frame": data}).frame
    except ValidationError as exc:
        errors = [
            {"loc": [str(p) for p in e["loc"][1:]], "msg": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        detail = "; ".join(f"{'.'.join(e['loc']) or 'frame'}: {e['msg']}" for e in errors)
        raise BadFrame(detail or "invalid frame", errors) from None


def _offered_protocols(websocket: WebSocket) -> list[str]:
    header = websocket.headers.get("sec-websocket-protocol", "")
    return [p.strip() for p in header.split(",") if p.strip()]


async def _authenticate(websocket: WebSocket, ctx: ServiceContext) -> Actor:
    header = websocket.headers.get("authorization", "")
    # On the client-certificate listener the certificate decides, from our origin only.
    if by_certificate := await certificate_caller(ctx, websocket.scope, "WEBSOCKET"):
        actor = by_certificate
    elif header.lower().startswith("bearer "):
        actor = await auth.authenticate(ctx, header[7:].strip(), kind="api")
    elif tokens := [
        p[len(TOKEN_PROTOCOL) :]
        for p in _offered_protocols(websocket)
        if p.startswith(TOKEN_PROTOCOL)
    ]:
        actor = await auth.authenticate(ctx, tokens[0], kind="api")
    elif cookie := websocket.cookies.get(SESSION_COOKIE):
        # A cookie rides along on cross-site WebSocket requests: accept it only from our origin.
        origin = websocket.headers.get("origin")
        host = websocket.headers.get("host", "")
        if origin is not None and origin.split("://", 1)[-1] != host:
            raise Unauthenticated("cross-origin WebSocket refused")
        actor = await auth.authenticate(ctx, cookie, kind="session")
    else:
        raise Unauthenticated(
            f"log in first, or offer the subprotocols {SUBPROTOCOL} and {TOKEN_PROTOCOL}<token>"
        )
    await auth.require_scope(ctx, actor, auth.SCOPE_READ)
    return actor


@router.websocket("/api/v1/stream")
async def stream(websocket: WebSocket) -> None:
    ctx: ServiceContext = websocket.app.state.context
    hub: LiveHub = websocket.app.state.hub
    try:
        actor = await _authenticate(websocket, ctx)
    except KyodoError as exc:
        await websocket.close(code=CLOSE_UNAUTHENTICATED, reason=exc.message[:120])
        return
    # Only ever answer kyodo.v1: echoing the token protocol would put the secret in the reply.
    await websocket.accept(
        subprotocol=SUBPROTOCOL if SUBPROTOCOL in _offered_protocols(websocket) else None
    )
    conn = hub.connect(actor.subject, actor.session_hash)
    try:
        try:
            request = await _first_subscribe(websocket)
        except (BadFrame, TimeoutError) as exc:
            await websocket.close(code=CLOSE_BAD_REQUEST, reason=f"bad subscribe: {exc}"[:120])
            return
        wanted, after = request.nets, request.after
        mine = {n.id for n in await nets.list_my_nets(ctx, actor)}
        net_ids = sorted(mine if wanted is None else set(wanted) & mine)
        # Subscribe before replaying, so nothing committed meanwhile is missed; events the
        # replay already covered are skipped below by their rev.
        hub.subscribe(conn, net_ids)
        if request.tracks:
            # Watch first, then send the snapshot: an update in between may arrive twice, which
            # is harmless for a track's latest state, but none is lost.
            hub.watch_tracks(conn)
            for track in await tracks.list_tracks(ctx, actor, limit=5000):
                await websocket.send_text(track_frame(ctx.registry, track))
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


async def _first_subscribe(websocket: WebSocket) -> SubscribeFrame:
    """The client's subscribe request; bad frames are answered with an error frame and the
    client may try again, all within SUBSCRIBE_TIMEOUT."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SUBSCRIBE_TIMEOUT
    bad = 0
    while True:
        message = await asyncio.wait_for(websocket.receive(), max(0.0, deadline - loop.time()))
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        try:
            frame = parse_frame(message)
            if isinstance(frame, SubscribeFrame):
                return frame
            await websocket.send_text(_dumps({"type": "pong"}))
        except BadFrame as exc:
            bad += 1
            if bad >= MAX_BAD_FRAMES:
                raise
            await websocket.send_text(exc.wire())


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def _replay(
    websocket: WebSocket, ctx: ServiceContext, actor: Actor, net_ids: list[str], after: int
) -> int:
    last = after
    while net_ids:
        batch = await messages.changes_since(ctx, actor, net_ids, last, REPLAY_BATCH)
        for found in batch:
            message = found.message
            kind = "deleted" if message.deleted else ("edited" if message.version > 1 else "posted")
            payload = authored_json(ctx.registry, found)
            await websocket.send_text(
                json.dumps(
                    {"type": "message", "kind": kind, "rev": message.rev, "message": payload},
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
            )
            last = message.rev
        if len(batch) < REPLAY_BATCH:
            break
    return last


async def _pump(websocket: WebSocket, conn: LiveConnection, replayed: int) -> None:
    """Send queued events until the client leaves or the connection is closed as too slow.

    One task receives the client's frames; when the client leaves it closes the connection,
    which wakes this loop even if no event ever comes (quiet nets), so nothing is left behind.
    Its answers (pong, error) go through the same queue, so only this loop sends."""

    async def receive() -> None:
        bad = 0
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                frame = parse_frame(message)
            except BadFrame as exc:
                bad += 1
                if bad >= MAX_BAD_FRAMES:
                    conn.close(TOO_MANY_BAD_FRAMES)
                    return
                conn.offer(0, exc.wire())
                continue
            if isinstance(frame, PingFrame):
                conn.offer(0, _dumps({"type": "pong"}))
            else:
                conn.offer(0, BadFrame("already subscribed; reconnect to change it").wire())

    def left(task: asyncio.Future[None]) -> None:
        conn.close("disconnected")

    receiver = asyncio.ensure_future(receive())
    receiver.add_done_callback(left)
    try:
        while True:
            item = await conn.next()
            if item is None:
                if conn.closed_reason and conn.closed_reason != "disconnected":
                    code = {
                        SESSION_ENDED: CLOSE_UNAUTHENTICATED,
                        TOO_MANY_BAD_FRAMES: CLOSE_BAD_REQUEST,
                    }.get(conn.closed_reason, CLOSE_SLOW)
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
