"""The stream and the store agree (Zulip's `verify_action`, zerver/tests/test_events.py): for each
reader, fetch the state over HTTP, act, apply the events the reader's WebSocket received to the
fetched state, fetch again, and compare. Readers include one who may not read some labels: what
the stream tells them must match what a fresh fetch shows them, no more and no less."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from kyodo.api.app import create_app
from kyodo.labels import parse_marking
from kyodo.services import nets
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings

from tests.support.factories import PASSWORD, add_person
from tests.support.live import free_port
from tests.support.wait import wait_for

# What a message looks like to a client, in both the HTTP list and the stream.
FIELDS = ("seq", "net_id", "author_id", "text", "html", "reply_to", "version", "deleted")

State = dict[int, dict[str, Any]] | None  # seq -> message; None: the reader lost the net


@dataclass
class Reader:
    """A person with an API token, a WebSocket subscribed to all their nets, and tracks."""

    username: str
    token: str
    ws: Any = None
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Site:
    """The real app served by uvicorn in this process: real HTTP and a real WebSocket."""

    url: str
    ctx: ServiceContext
    http: httpx.AsyncClient


@pytest.fixture
async def site(ctx: ServiceContext, settings: Settings) -> AsyncIterator[Site]:
    app = create_app(settings, context=ctx)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: server.started, timeout=30)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield Site(url, ctx, http)
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)


async def _reader(site: Site, username: str) -> Reader:
    login = await site.http.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    token = await site.http.post(
        "/api/v1/auth/tokens",
        json={"name": "verify", "scopes": ["read", "write", "admin"]},
        headers={"X-CSRF-Token": login.json()["csrf_token"]},
    )
    assert token.status_code == 201, token.text
    site.http.cookies.clear()
    return Reader(username, token.json()["token"])


async def _subscribe(site: Site, reader: Reader, *, tracks: bool = False) -> list[dict[str, Any]]:
    """Connect and subscribe; returns the snapshot sent before `subscribed`."""
    reader.ws = await websockets.connect(
        site.url.replace("http://", "ws://") + "/api/v1/stream",
        additional_headers=reader.auth,
    )
    frame = {"op": "subscribe", "nets": None, "after": 0, "tracks": tracks}
    await reader.ws.send(json.dumps(frame))
    snapshot = []
    while (event := json.loads(await asyncio.wait_for(reader.ws.recv(), 10)))["type"] != (
        "subscribed"
    ):
        snapshot.append(event)
    return snapshot


async def _events(reader: Reader) -> list[dict[str, Any]]:
    """Every event sent to the reader so far. The action's HTTP answer came after its commit,
    and events are queued at commit: a ping now is answered after all of them."""
    await reader.ws.send(json.dumps({"op": "ping"}))
    got = []
    while (event := json.loads(await asyncio.wait_for(reader.ws.recv(), 10))) != {"type": "pong"}:
        got.append(event)
    reader.received += got
    return got


def _view(message: dict[str, Any]) -> dict[str, Any]:
    return {k: message[k] for k in FIELDS} | {"label": message["label"]["marking"]}


async def _fetch(site: Site, reader: Reader, net_id: str) -> State:
    """The messages of the net the reader may read, every page; None if the net is gone."""
    state: dict[int, dict[str, Any]] = {}
    after: int | None = None
    while True:
        params = {"limit": 2} | ({"after": after} if after is not None else {})
        page = await site.http.get(
            f"/api/v1/nets/{net_id}/messages", params=params, headers=reader.auth
        )
        if page.status_code in (403, 404):
            return None
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        if not items:
            return state
        state |= {m["seq"]: _view(m) for m in items}
        after = items[-1]["seq"]


def _apply(state: State, events: list[dict[str, Any]], net_id: str) -> State:
    """What a client does with the events: the model a web page keeps."""
    for event in events:
        if state is None:
            break
        if event["type"] == "message" and event["message"]["net_id"] == net_id:
            state = state | {event["message"]["seq"]: _view(event["message"])}
        elif event["type"] == "message.hidden" and event["net_id"] == net_id:
            state = {seq: m for seq, m in state.items() if seq != event["seq"]}
        elif event["type"] == "net.left" and event["net_id"] == net_id:
            state = None
    return state


async def _verify(
    site: Site, readers: list[Reader], net_id: str, action: Callable[[], Awaitable[object]]
) -> dict[str, list[dict[str, Any]]]:
    """Zulip's verify_action: the state each reader holds after the events is the state a fresh
    fetch gives them. Returns the events each received, for the test to check what it expects."""
    before = {r.username: await _fetch(site, r, net_id) for r in readers}
    await action()
    received = {}
    for reader in readers:
        events = await _events(reader)
        received[reader.username] = events
        applied = _apply(before[reader.username], events, net_id)
        fetched = await _fetch(site, reader, net_id)
        assert applied == fetched, (reader.username, events)
    return received


@dataclass
class World:
    net_id: str
    owner: Actor
    us: Reader
    jp: Reader
    downgrader: Reader


@pytest.fixture
async def world(site: Site, operator: Actor) -> AsyncIterator[World]:
    ctx = site.ctx
    us = await add_person(ctx, operator, "us.author", clearance="TOP SECRET")
    await add_person(ctx, operator, "jp.reader", nation="JPN", clearance="GOKUHI")
    await add_person(
        ctx, operator, "us.downgrader", clearance="SECRET", roles=("member", "may_downgrade")
    )
    owner = person_actor(us, "api")
    net = await nets.create_net(
        ctx,
        owner,
        name="verify",
        ceiling=parse_marking("SECRET//NOFORN", ctx.registry),
        entry=parse_marking("SECRET//REL TO USA, JPN", ctx.registry),
        default_label=parse_marking("SECRET//REL TO USA, JPN", ctx.registry),
    )
    readers = [await _reader(site, name) for name in ("us.author", "jp.reader", "us.downgrader")]
    for reader in readers[1:]:
        found = await site.http.get("/api/v1/me", headers=reader.auth)
        await nets.add_member(ctx, owner, net.id, found.json()["id"])
    for reader in readers:
        await _subscribe(site, reader)
    yield World(net.id, owner, *readers)
    for reader in readers:
        await reader.ws.close()


async def _post(
    site: Site, author: Reader, net_id: str, text: str, label: str | None = None
) -> int:
    body: dict[str, Any] = {"text": text} | ({"label": label} if label else {})
    posted = await site.http.post(f"/api/v1/nets/{net_id}/messages", json=body, headers=author.auth)
    assert posted.status_code == 201, posted.text
    seq: int = posted.json()["message"]["seq"]
    return seq


async def test_posts_edits_downgrades_and_deletes_agree_for_every_reader(
    site: Site, world: World
) -> None:
    w, readers = world, [world.us, world.jp, world.downgrader]
    seqs: dict[str, int] = {}

    async def post(name: str, label: str | None = None) -> None:
        seqs[name] = await _post(site, w.us, w.net_id, f"{name} text", label)

    got = await _verify(site, readers, w.net_id, lambda: post("shared"))
    assert [len(got[r.username]) for r in readers] == [1, 1, 1]

    got = await _verify(site, readers, w.net_id, lambda: post("noforn", "SECRET//NOFORN"))
    assert got["jp.reader"] == [] and len(got["us.author"]) == 1  # never told of it

    async def edit(seq_of: str, body: dict[str, Any]) -> None:
        answer = await site.http.put(
            f"/api/v1/messages/{seqs[seq_of]}", json=body, headers=w.us.auth
        )
        assert answer.status_code == 200, answer.text

    await _verify(site, readers, w.net_id, lambda: edit("shared", {"text": "shared, edited"}))
    # Raised above the Japanese reader: withdrawn from them, told to the others.
    got = await _verify(
        site,
        readers,
        w.net_id,
        lambda: edit("shared", {"text": "now NOFORN", "label": "SECRET//NOFORN"}),
    )
    assert [e["type"] for e in got["jp.reader"]] == ["message.hidden"]

    async def downgrade() -> None:
        answer = await site.http.post(
            f"/api/v1/messages/{seqs['noforn']}/downgrade",
            json={"label": "SECRET//REL TO USA, JPN", "justification": "released to JPN today"},
            headers=w.downgrader.auth,
        )
        assert answer.status_code == 200, answer.text

    got = await _verify(site, readers, w.net_id, downgrade)
    assert [e["message"]["seq"] for e in got["jp.reader"]] == [seqs["noforn"]]  # now theirs

    async def delete() -> None:
        answer = await site.http.delete(f"/api/v1/messages/{seqs['noforn']}", headers=w.us.auth)
        assert answer.status_code == 204, answer.text

    got = await _verify(site, readers, w.net_id, delete)
    assert [e["message"]["deleted"] for e in got["jp.reader"]] == [True]


async def test_membership_changes_agree(site: Site, world: World) -> None:
    w, readers = world, [world.us, world.jp, world.downgrader]
    await _verify(site, readers, w.net_id, lambda: _post(site, w.jp, w.net_id, "hello"))

    async def remove_jp() -> None:
        found = await site.http.get("/api/v1/me", headers=w.jp.auth)
        await nets.remove_member(site.ctx, w.owner, w.net_id, found.json()["id"])

    got = await _verify(site, readers, w.net_id, remove_jp)
    assert [e["type"] for e in got["jp.reader"]] == ["net.left"]
    # Whatever is said in the net afterwards, the stream and a fetch agree they see none of it.
    got = await _verify(site, readers, w.net_id, lambda: _post(site, w.us, w.net_id, "after"))
    assert got["jp.reader"] == [] and len(got["us.author"]) == 1


async def test_track_updates_agree_with_the_tracks_each_reader_may_read(
    site: Site, world: World, operator: Actor
) -> None:
    ctx = site.ctx
    await add_person(ctx, operator, "us.feeder", clearance="SECRET", roles=("admin",))
    admin = await _reader(site, "us.feeder")
    feed = await site.http.post(
        "/api/v1/feeds",
        headers=admin.auth,
        json={"name": "verify", "ceiling": "SECRET//NOFORN", "default_label": "UNCLASSIFIED"},
    )
    assert feed.status_code == 201, feed.text
    readers = [world.us, world.jp]
    watchers = {r.username: Reader(r.username, r.token) for r in readers}  # sockets with tracks
    state: dict[str, dict[str, Any]] = {}
    for name, watcher in watchers.items():
        snapshot = await _subscribe(site, watcher, tracks=True)
        state[name] = {e["track"]["uid"]: e["track"] for e in snapshot}

    async def fetch(reader: Reader) -> dict[str, Any]:
        found = await site.http.get("/api/v1/tracks", headers=reader.auth)
        assert found.status_code == 200, found.text
        return {t["uid"]: t for t in found.json()}

    async def report(uid: str, lat: float, label: str) -> None:
        body = {
            "uid": uid,
            "type": "a-f-S-C-L-CC",
            "callsign": uid,
            "feed_id": feed.json()["id"],
            "lat": lat,
            "lon": 139.6,
            "label": label,
        }
        answer = await site.http.post("/api/v1/tracks", headers=admin.auth, json=body)
        assert answer.status_code == 201, answer.text

    for uid, lat, label in [
        ("shared", 35.0, "SECRET//REL TO USA, JPN"),
        ("us-only", 35.1, "SECRET//NOFORN"),
        ("shared", 35.2, "SECRET//REL TO USA, JPN"),
        ("us-only", 35.3, "SECRET//NOFORN"),
    ]:
        await report(uid, lat, label)
        for reader in readers:
            watcher = watchers[reader.username]
            for event in await _events(watcher):
                assert event["type"] == "track"
                state[reader.username][event["track"]["uid"]] = event["track"]
            assert state[reader.username] == await fetch(reader), reader.username
    assert set(state["jp.reader"]) == {"shared"}
    assert set(state["us.author"]) == {"shared", "us-only"}
    for watcher in watchers.values():
        await watcher.ws.close()
