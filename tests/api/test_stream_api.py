"""Live delivery over a real WebSocket to a real server: per-recipient filtering, removal,
resume without loss or duplicates."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from tests.support.live import LiveServer, live_server


def _ws_url(server: LiveServer, token: str) -> str:
    return server.url.replace("http://", "ws://") + f"/api/v1/stream?token={token}"


class Setup:
    """People and a mixed US–JPN net made over the real server's HTTP API."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = httpx.AsyncClient(base_url=server.url, timeout=30)
        self.admin = {"Authorization": f"Bearer {server.admin_token()}"}
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    async def person(self, username: str, nation: str, clearance: str) -> None:
        created = await self.http.post(
            "/api/v1/people",
            headers=self.admin,
            json={
                "username": username,
                "name": username,
                "nation": nation,
                "clearance": clearance,
                "password": "stream test password",
            },
        )
        assert created.status_code == 201, created.text
        self.ids[username] = created.json()["id"]
        login = await self.http.post(
            "/api/v1/auth/login", json={"username": username, "password": "stream test password"}
        )
        token = await self.http.post(
            "/api/v1/auth/tokens",
            json={"name": "ws"},
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
                "name": "combined",
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
    database_url: str,
) -> None:
    with live_server(database_url) as server:
        s = Setup(server)
        await s.person("us", "USA", "TOP SECRET")
        await s.person("jp", "JPN", "GOKUHI")
        net_id = await s.net()
        async with (
            websockets.connect(_ws_url(server, s.tokens["us"])) as us_ws,
            websockets.connect(_ws_url(server, s.tokens["jp"])) as jp_ws,
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
    database_url: str,
) -> None:
    with live_server(database_url) as server:
        s = Setup(server)
        await s.person("us", "USA", "TOP SECRET")
        await s.person("jp", "JPN", "GOKUHI")
        net_id = await s.net()
        async with websockets.connect(_ws_url(server, s.tokens["jp"])) as ws:
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
        async with websockets.connect(_ws_url(server, s.tokens["jp"])) as ws:
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
async def test_the_stream_refuses_bad_credentials_and_bad_requests(database_url: str) -> None:
    with live_server(database_url) as server:
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with websockets.connect(_ws_url(server, "kyd_wrong")) as ws:
                await ws.recv()
        token = server.admin_token()
        async with websockets.connect(_ws_url(server, token)) as ws:
            await ws.send("not json")
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


@pytest.mark.slow
async def test_tracks_snapshot_on_connect_then_live_filtered(database_url: str) -> None:
    with live_server(database_url) as server:
        s = Setup(server)
        await s.person("us", "USA", "SECRET")
        await s.person("jp", "JPN", "GOKUHI")
        feed = await s.http.post(
            "/api/v1/feeds",
            headers=s.admin,
            json={
                "name": "surface",
                "ceiling": "SECRET//NOFORN",
                "default_label": "SECRET//REL TO USA, JPN",
            },
        )
        feed_id = feed.json()["id"]

        async def report(uid: str, lat: float, label: str | None = None) -> None:
            body = {
                "uid": uid,
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
        async with websockets.connect(_ws_url(server, s.tokens["jp"])) as ws:
            await ws.send(json.dumps({"op": "subscribe", "nets": [], "tracks": True}))
            snapshot = []
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if event["type"] == "subscribed":
                    break
                snapshot.append(event["track"]["uid"])
            assert snapshot == ["shared"]
            await report("us-only", 35.2, "SECRET//NOFORN")
            await report("shared", 35.3)
            moved = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert moved["track"]["uid"] == "shared" and moved["track"]["lat"] == 35.3
            await _nothing_more(ws)
        await s.http.aclose()
