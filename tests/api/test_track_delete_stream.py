"""A deleted track over a real WebSocket: a `track_deleted` frame to the watchers who may read it,
and nothing to those who may not; the next snapshot no longer has it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.api.test_stream_api import Setup, _connect, _nothing_more
from tests.support.live import LiveServer


async def _snapshot(ws: Any) -> list[str]:
    await ws.send(json.dumps({"op": "subscribe", "nets": [], "tracks": True}))
    uids = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] == "subscribed":
            return uids
        uids.append(frame["track"]["uid"])


@pytest.mark.slow
async def test_a_deleted_track_is_withdrawn_from_the_watchers_who_may_read_it(
    shared_server: LiveServer,
) -> None:
    s = Setup(shared_server)
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
    for uid, label in (("shared", "SECRET//REL TO USA, JPN"), ("noforn", "SECRET//NOFORN")):
        body = {
            "uid": s.name(uid),
            "type": "a-f-S-C-L-CC",
            "callsign": uid,
            "feed_id": feed_id,
            "lat": 35.0,
            "lon": 139.6,
            "label": label,
        }
        made = await s.http.post("/api/v1/tracks", headers=s.auth("us"), json=body)
        assert made.status_code == 201, made.text

    async with (
        _connect(shared_server, s.tokens["us"]) as us,
        _connect(shared_server, s.tokens["jp"]) as jp,
    ):
        assert s.name("noforn") in await _snapshot(us)
        assert s.name("shared") in await _snapshot(jp)
        for uid in ("noforn", "shared"):
            gone = await s.http.delete(f"/api/v1/tracks/{s.name(uid)}", headers=s.auth("us"))
            assert gone.status_code == 204, gone.text
        got = [json.loads(await asyncio.wait_for(us.recv(), 10)) for _ in range(2)]
        assert got == [
            {"type": "track_deleted", "uid": s.name("noforn")},
            {"type": "track_deleted", "uid": s.name("shared")},
        ]
        # The NOFORN track's delete never reaches the Japanese reader.
        assert json.loads(await asyncio.wait_for(jp.recv(), 10)) == {
            "type": "track_deleted",
            "uid": s.name("shared"),
        }
        await _nothing_more(jp)
    async with _connect(shared_server, s.tokens["us"]) as again:
        left = await _snapshot(again)
        assert s.name("noforn") not in left and s.name("shared") not in left
    await s.http.aclose()
