"""The chat floor: a WebSocket fan-out with no storage, policy or labels behind the same API."""

# Run by bench/peers/ws_fanout.py as `python ws_fanout_server.py PORT` (Starlette and
# uvicorn, as Kyodo uses): it answers just the calls the chat bench makes, trusting everyone.

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    from starlette.requests import Request

ids = itertools.count(1)
revs = itertools.count(1)
tokens: dict[str, str] = {}  # token -> username
people: dict[str, str] = {}  # username -> person id
members: dict[str, set[str]] = {}  # person id -> net ids
subscribers: dict[str, set[asyncio.Queue[str]]] = {}  # net id -> the sockets' queues


async def health(_: Request) -> Response:
    """Always up."""
    return JSONResponse({"status": "ok"})


async def login(request: Request) -> Response:
    """Any password: remembers the username in a cookie."""
    body = await request.json()
    answer = JSONResponse({"csrf_token": "floor"})
    answer.set_cookie("floor_user", body["username"])
    return answer


async def token(request: Request) -> Response:
    """A token that names the cookie's user."""
    user = request.cookies.get("floor_user", "")
    value = f"floor-{next(ids)}"
    tokens[value] = user
    return JSONResponse({"token": value}, status_code=201)


async def person(request: Request) -> Response:
    """A person: only an id for the username."""
    body = await request.json()
    people[body["username"]] = pid = f"p{next(ids)}"
    members[pid] = set()
    return JSONResponse({"id": pid}, status_code=201)


async def net(_: Request) -> Response:
    """A net: only an id."""
    nid = f"n{next(ids)}"
    subscribers[nid] = set()
    return JSONResponse({"id": nid}, status_code=201)


async def member(request: Request) -> Response:
    """Adds a person to a net."""
    body = await request.json()
    members[body["person_id"]].add(request.path_params["net"])
    return JSONResponse({}, status_code=201)


async def post(request: Request) -> Response:
    """A message: straight to the queue of every socket subscribed to the net."""
    body = await request.json()
    frame = json.dumps(
        {"type": "message", "kind": "posted", "rev": next(revs), "message": {"text": body["text"]}}
    )
    for queue in subscribers.get(request.path_params["net"], ()):
        queue.put_nowait(frame)
    return JSONResponse({"ok": True}, status_code=201)


async def stream(ws: WebSocket) -> None:
    """Subscribes the token's user to all its nets and sends what is posted to them."""
    offered = ws.scope.get("subprotocols", [])
    user = next(
        (tokens.get(p[len("kyodo.token.") :]) for p in offered if p.startswith("kyodo.token.")),
        None,
    )
    await ws.accept(subprotocol="kyodo.v1")
    nets = sorted(members.get(people.get(user or "", ""), ()))
    queue: asyncio.Queue[str] = asyncio.Queue()
    try:
        await ws.receive_text()  # the subscribe frame
        await ws.send_text(json.dumps({"type": "subscribed", "rev": 0, "nets": nets}))
        for nid in nets:
            subscribers[nid].add(queue)
        while True:
            await ws.send_text(await queue.get())
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        for nid in nets:
            subscribers[nid].discard(queue)
        with contextlib.suppress(RuntimeError):
            await ws.close()


app = Starlette(
    routes=[
        Route("/api/v1/health", health),
        Route("/api/v1/auth/login", login, methods=["POST"]),
        Route("/api/v1/auth/tokens", token, methods=["POST"]),
        Route("/api/v1/people", person, methods=["POST"]),
        Route("/api/v1/nets", net, methods=["POST"]),
        Route("/api/v1/nets/{net}/members", member, methods=["POST"]),
        Route("/api/v1/nets/{net}/messages", post, methods=["POST"]),
        WebSocketRoute("/api/v1/stream", stream),
    ]
)

if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
        ws_per_message_deflate=False,  # as Kyodo's default (KYODO_WS_DEFLATE)
    )
