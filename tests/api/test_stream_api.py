"""Live delivery over a real WebSocket to a real server: per-recipient filtering, removal,
resume without loss or duplicates."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from kyodo.api.app import create_app
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings

from tests.support.factories import PASSWORD, add_person
from tests.support.live import ADMIN_PASSWORD, LiveServer, free_port, live_server, unique
from tests.support.wait import wait_for


def _ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/api/v1/stream"


def _connect(server: LiveServer, token: str, **kw: Any) -> Any:
    """A WebSocket client with the token in a subprotocol (never in the URL)."""
    return websockets.connect(
        _ws_url(server),
        subprotocols=[
            websockets.Subprotocol("kyodo.v1"),
            websockets.Subprotocol(f"kyodo.token.{token}"),
        ],
        **kw,
    )


class Setup:
    """People and a mixed US–JPN net made over the real server's HTTP API, under names of this
    test's own (the server is shared): `person("us", ...)` makes "us-<tag>", known as "us"."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.tag = unique("t")
        self.http = httpx.AsyncClient(base_url=server.url, timeout=30)
        self.admin = {"Authorization": f"Bearer {server.admin_token()}"}
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def name(self, name: str) -> str:
        return f"{name}-{self.tag}"

    async def person(self, username: str, nation: str, clearance: str) -> None:
        created = await self.http.post(
            "/api/v1/people",
            headers=self.admin,
            json={
                "username": self.name(username),
                "name": username,
                "nation": nation,
                "clearance": clearance,
                "password": "stream test password",
            },
        )
        assert created.status_code == 201, created.text
        self.ids[username] = created.json()["id"]
        login = await self.http.post(
            "/api/v1/auth/login",
            json={"username": self.name(username), "password": "stream test password"},
        )
        token = await self.http.post(
            "/api/v1/auth/tokens",
            json={"name": "ws", "scopes": ["read", "write"]},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        self.http.cookies.clear()
        self.tokens[username] = token.json()["token"]

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    async def net(self) -> str:
        created = await self.http.post(
            "/api/v1/nets",
            headers=self.auth("us"),
            json={
                "name": self.name("combined"),
                "ceiling": "SECRET//NOFORN",
                "entry": "SECRET//REL TO USA, JPN",
                "default_label": "SECRET//REL TO USA, JPN",
            },
        )
        assert created.status_code == 201, created.text
        net_id: str = created.json()["id"]
        added = await self.http.post(
            f"/api/v1/nets/{net_id}/members",
            headers=self.auth("us"),
            json={"person_id": self.ids["jp"]},
        )
        assert added.status_code == 201
        return net_id

    async def post(
        self, username: str, net_id: str, text: str, label: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text} | ({"label": label} if label else {})
        response = await self.http.post(
            f"/api/v1/nets/{net_id}/messages", headers=self.auth(username), json=body
        )
        assert response.status_code == 201, response.text
        message: dict[str, Any] = response.json()["message"]
        return message


async def _subscribe(ws: Any, after: int = 0) -> dict[str, Any]:
    await ws.send(json.dumps({"op": "subscribe", "nets": None, "after": after}))
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if event["type"] == "subscribed":
            return event


async def _collect(ws: Any, count: int, wait: float = 10) -> list[dict[str, Any]]:
    events = []
    while len(events) < count:
        events.append(json.loads(await asyncio.wait_for(ws.recv(), wait)))
    return events


async def _nothing_more(ws: Any) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), 1.0)


@pytest.mark.slow
async def test_live_delivery_filters_per_recipient_and_stops_on_removal(
    shared_server: LiveServer,
) -> None:
    server = shared_server
    s = Setup(server)
    await s.person("us", "USA", "TOP SECRET")
    await s.person("jp", "JPN", "GOKUHI")
    net_id = await s.net()
    async with (
        _connect(server, s.tokens["us"]) as us_ws,
        _connect(server, s.tokens["jp"]) as jp_ws,
    ):
        assert (await _subscribe(us_ws))["nets"] == [net_id]
        await _subscribe(jp_ws)
        await s.post("us", net_id, "Shared planning note.")
        await s.post("us", net_id, "US-only note.", "SECRET//NOFORN")
        await s.post("jp", net_id, "Acknowledged.")
        us_events = await _collect(us_ws, 3)
        jp_events = await _collect(jp_ws, 2)
        assert [e["message"]["text"] for e in us_events] == [
            "Shared planning note.",
            "US-only note.",
            "Acknowledged.",
        ]
        assert [e["message"]["text"] for e in jp_events] == [
            "Shared planning note.",
            "Acknowledged.",
        ]
        await _nothing_more(jp_ws)
        # Lowering the Japanese officer's clearance removes them at once.
        lowered = await s.http.patch(
            f"/api/v1/people/{s.ids['jp']}", headers=s.admin, json={"clearance": "HI"}
        )
        assert lowered.status_code == 200
        left = json.loads(await asyncio.wait_for(jp_ws.recv(), 10))
        assert left == {
            "type": "net.left",
            "net_id": net_id,
            "reason": "no longer cleared for this net",
        }
        await s.post("us", net_id, "After the removal.")
        assert (await _collect(us_ws, 1))[0]["message"]["text"] == "After the removal."
        await _nothing_more(jp_ws)
    await s.http.aclose()


@pytest.mark.slow
async def test_reconnect_with_the_last_rev_misses_nothing_and_repeats_nothing(
    shared_server: LiveServer,
) -> None:
    server = shared_server
    s = Setup(server)
    await s.person("us", "USA", "TOP SECRET")
    await s.person("jp", "JPN", "GOKUHI")
    net_id = await s.net()
    async with _connect(server, s.tokens["jp"]) as ws:
        await _subscribe(ws)
        first = await s.post("us", net_id, "one")
        seen = await _collect(ws, 1)
        last_rev = seen[-1]["rev"]
        assert seen[0]["message"]["seq"] == first["seq"]
    # While disconnected: new messages, an edit of a seen one, a US-only one, a deletion.
    await s.post("us", net_id, "two")
    await s.http.put(
        f"/api/v1/messages/{first['seq']}",
        headers=s.auth("us"),
        json={"text": "one (corrected)"},
    )
    await s.post("us", net_id, "US only", "SECRET//NOFORN")
    three = await s.post("us", net_id, "three")
    await s.http.delete(f"/api/v1/messages/{three['seq']}", headers=s.auth("us"))
    async with _connect(server, s.tokens["jp"]) as ws:
        replay: list[dict[str, Any]] = []
        await ws.send(json.dumps({"op": "subscribe", "nets": [net_id], "after": last_rev}))
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if event["type"] == "subscribed":
                break
            replay.append(event)
        got = [(e["message"]["text"], e["message"]["deleted"]) for e in replay]
        assert got == [("two", False), ("one (corrected)", False), (None, True)]
        revs = [e["rev"] for e in replay]
        assert revs == sorted(revs) and len(set(revs)) == len(revs)
        live = await s.post("us", net_id, "four")
        after = await _collect(ws, 1)
        assert after[0]["message"]["seq"] == live["seq"]
        await _nothing_more(ws)
    await s.http.aclose()


@pytest.mark.slow
async def test_the_stream_refuses_bad_credentials_and_bad_requests(
    shared_server: LiveServer,
) -> None:
    server = shared_server
    with pytest.raises(websockets.InvalidStatus):
        async with _connect(server, "kyd_wrong") as ws:
            await ws.recv()
    token = server.admin_token()
    async with _connect(server, token) as ws:
        # Only kyodo.v1 is answered: echoing the token protocol would echo the secret.
        assert ws.subprotocol == "kyodo.v1"
        await ws.send("not json")
        error = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert error["type"] == "error" and error["code"] == "invalid_request"
        assert "not JSON" in error["detail"]
        # The socket stays: a good subscribe still works.
        await _subscribe(ws)


@pytest.mark.slow
async def test_the_token_is_not_accepted_in_the_url(shared_server: LiveServer) -> None:
    server = shared_server
    token = await _api_token(server.url, "admin", ADMIN_PASSWORD)
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(_ws_url(server) + f"?token={token}") as ws:
            await ws.recv()


BAD_FRAMES: list[tuple[Any, str]] = [
    ({"op": "subscribe", "nets": None, "after": True}, "after"),
    ({"op": "subscribe", "nets": None, "after": 2**63}, "after"),
    ({"op": "subscribe", "nets": None, "after": 2**70}, "after"),
    ({"op": "subscribe", "nets": None, "after": -1}, "after"),
    ({"op": "subscribe", "nets": None, "after": "5"}, "after"),
    ({"op": "subscribe", "nets": "all"}, "nets"),
    ({"op": "subscribe", "nets": [1, 2]}, "nets"),
    ({"op": "subscribe", "nets": None, "tracks": "yes"}, "tracks"),
    ({"op": "subscribe", "nets": None, "admin": True}, "admin"),
    ({"op": "unsubscribe"}, "op"),
    ([1, 2, 3], "frame"),
]


@pytest.mark.slow
async def test_a_bad_frame_gets_an_error_frame_with_the_reason_and_the_socket_stays(
    shared_server: LiveServer,
) -> None:
    server = shared_server
    token = await _api_token(server.url, "admin", ADMIN_PASSWORD)
    bearer = {"Authorization": f"Bearer {token}"}
    for frame, reason in BAD_FRAMES:
        async with websockets.connect(_ws_url(server), additional_headers=bearer) as ws:
            await ws.send(json.dumps(frame))
            error = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert error["type"] == "error", (frame, error)
            assert error["code"] == "invalid_request"
            assert reason in error["detail"], (frame, error)
            subscribed = await _subscribe(ws)
            assert subscribed["type"] == "subscribed"
            # After subscribing, frames are still validated and the socket still stays.
            await ws.send(json.dumps(frame))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "error"
            await ws.send(json.dumps({"op": "ping"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}
    log = server.log_text()
    assert "Traceback" not in log and "Exception in ASGI" not in log


@pytest.mark.slow
async def test_tracks_snapshot_on_connect_then_live_filtered(shared_server: LiveServer) -> None:
    server = shared_server
    s = Setup(server)
    await s.person("us", "USA", "SECRET")
    await s.person("jp", "JPN", "GOKUHI")
    feed = await s.http.post(
        "/api/v1/feeds",
        headers=s.admin,
        json={
            "name": s.name("surface"),
            "ceiling": "SECRET//NOFORN",
            "default_label": "SECRET//REL TO USA, JPN",
        },
    )
    feed_id = feed.json()["id"]

    async def report(uid: str, lat: float, label: str | None = None) -> None:
        body = {
            "uid": s.name(uid),  # the server is shared: uids of this test's own
            "type": "a-f-S-C-L-CC",
            "callsign": uid,
            "feed_id": feed_id,
            "lat": lat,
            "lon": 139.6,
        } | ({"label": label} if label else {})
        response = await s.http.post("/api/v1/tracks", headers=s.auth("us"), json=body)
        assert response.status_code == 201, response.text

    await report("shared", 35.0)
    await report("us-only", 35.1, "SECRET//NOFORN")
    async with _connect(server, s.tokens["jp"]) as ws:
        await ws.send(json.dumps({"op": "subscribe", "nets": [], "tracks": True}))
        snapshot = []
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if event["type"] == "subscribed":
                break
            snapshot.append(event["track"]["uid"])
        assert snapshot == [s.name("shared")]
        await report("us-only", 35.2, "SECRET//NOFORN")
        await report("shared", 35.3)
        moved = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert moved["track"]["uid"] == s.name("shared") and moved["track"]["lat"] == 35.3
        await _nothing_more(ws)
    await s.http.aclose()


async def _api_token(url: str, username: str, password: str) -> str:
    """A token as every version of the API mints it (name only: the default scopes)."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert login.status_code == 200, login.text
        token = await http.post(
            "/api/v1/auth/tokens",
            json={"name": "leak"},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        assert token.status_code == 201, token.text
        value: str = token.json()["token"]
        return value


async def _quiet_client(url: str, token: str, nets: list[str] | None) -> None:
    """Connect, subscribe to quiet nets (or none), wait for `subscribed`, leave."""
    async with websockets.connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=30
    ) as ws:
        await ws.send(json.dumps({"op": "subscribe", "nets": nets, "after": 0}))
        while json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] != "subscribed":
            pass


@pytest.mark.slow
async def test_a_closed_connection_frees_everything_at_once(
    ctx: ServiceContext, settings: Settings, operator: Actor
) -> None:
    """1,000 clients subscribe to quiet nets (or none) and leave: the hub's live connection
    count and the number of tasks return to where they were (the handler used to wait for
    an event that never came, for ever)."""
    await add_person(ctx, operator, "quiet")
    app = create_app(settings, context=ctx)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: server.started, timeout=30)
        token = await _api_token(f"http://127.0.0.1:{port}", "quiet", PASSWORD)
        hub = app.state.hub
        url = f"ws://127.0.0.1:{port}/api/v1/stream"
        await _quiet_client(url, token, [])
        await wait_for(lambda: hub.connections() == 0)  # its handler has finished
        tasks_before = len(asyncio.all_tasks())
        for _ in range(20):
            await asyncio.gather(
                *(_quiet_client(url, token, [] if n % 2 else None) for n in range(50))
            )
        # The server notices each close within moments.
        await wait_for(lambda: hub.connections() == 0, timeout=5)
        assert hub.connections() == 0
        assert len(asyncio.all_tasks()) <= tasks_before + 5
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)


@pytest.mark.slow
async def test_serve_stops_within_5_seconds_of_sigterm_with_clients_connected(
    database_url: str,
) -> None:
    with live_server(database_url) as server:
        assert server.proc is not None
        token = await _api_token(server.url, "admin", ADMIN_PASSWORD)  # a read token
        url = _ws_url(server)
        headers = {"Authorization": f"Bearer {token}"}
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(websockets.connect(url, additional_headers=headers))
                for _ in range(10)
            ]
            for n, ws in enumerate(clients[:8]):
                await ws.send(json.dumps({"op": "subscribe", "nets": [] if n % 2 else None}))
                while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "subscribed":
                    pass
            # Two have not subscribed yet: the handler is waiting for their first frame.
            server.proc.send_signal(signal.SIGTERM)
            exited = await asyncio.to_thread(_waited, server.proc, 5.0)
            assert exited, "kyodo serve still running 5 s after SIGTERM"


def _waited(proc: subprocess.Popen[str], seconds: float) -> bool:
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


@pytest.mark.slow
async def test_query_strings_never_reach_the_log(shared_server: LiveServer) -> None:
    server = shared_server
    secret = "kyd_SECRETSHOULDNOTBELOGGED"
    # The log is the shared server's: wait for this test's own lines, counted.
    health = "/api/v1/health?[redacted]"
    refused = '"WebSocket /api/v1/stream?[redacted]" 403'
    before = server.log_text()
    async with httpx.AsyncClient(timeout=10) as http:
        await http.get(f"{server.url}/api/v1/health?token={secret}")
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"{_ws_url(server)}?token={secret}") as ws:
            await ws.recv()
    log = await wait_for(
        lambda: (text := server.log_text()).count(refused) > before.count(refused) and text
    )
    assert log.count(health) > before.count(health)
    assert secret not in log
    opened = server.log_text().count("connection open")
    token = server.admin_token()
    async with _connect(server, token) as ws:
        await _subscribe(ws)
    await wait_for(lambda: server.log_text().count("connection open") > opened)
    assert token not in server.log_text()
