"""The chat load client: WebSocket subscribers that time deliveries, and keep-alive posters."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import websockets

if TYPE_CHECKING:
    from ..chatbench.world import Person, World

POST_TIMEOUT = 10.0  # seconds for the server to answer a post


# Ordinary staff traffic (nothing the spillage guard should flag at SECRET//REL TO USA, JPN).
TEXTS = (
    "Logistics sync at the usual place",
    "Movement table for the next serial is posted on the shared drive",
    "Liaison officers meet at the J4 office after lunch",
    "Fuel report received, no change to the plan",
    "Weather brief moved to the afternoon slot",
    "Interpreter support confirmed for the planning conference",
    "Vehicle maintenance window starts tomorrow morning",
    "Please review the draft agenda before the coordination meeting",
    "日米調整会議の資料を共有フォルダに置きました",
    "補給状況の報告を受領、計画に変更なし",
)


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------


def message_text(mid: int) -> str:
    """The text of message `mid`: ordinary staff traffic with its id."""
    return f"{TEXTS[mid % len(TEXTS)]} (ref {mid})"


def message_id(text: str) -> int:
    """The id in a message's text."""
    return int(text.rsplit("(ref ", 1)[1].rstrip(")"))


class Fleet:
    """The WebSocket clients: each records (message id, receive time) for every delivery."""

    def __init__(self, url: str, world: World, deflate: bool) -> None:
        self.ws_url = url.replace("http://", "ws://") + "/api/v1/stream"
        self.world = world
        self.deflate = deflate
        self.deliveries: list[tuple[int, float]] = []
        self.closes: Counter[str] = Counter()
        self.subscribed = 0
        self.stopping = False
        self.failure = ""
        self._tasks: list[asyncio.Task[None]] = []
        self._all_subscribed = asyncio.Event()

    async def start(self) -> None:
        gate = asyncio.Semaphore(20)  # connect in waves; each connect is authenticated
        for person in self.world.clients:
            self._tasks.append(asyncio.create_task(self._client(person, gate)))
        await asyncio.wait_for(self._all_subscribed.wait(), 180)
        if self.failure:
            raise RuntimeError(self.failure)

    async def stop(self) -> None:
        self.stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _client(self, person: Person, gate: asyncio.Semaphore) -> None:
        after = 0
        expected_net = self.world.client_nets[person.username]
        await gate.acquire()  # the first connect only: reconnects are not gated
        holding = True
        try:
            while not self.stopping:
                try:
                    ws = await websockets.connect(
                        self.ws_url,
                        # The token goes in a subprotocol, never in the URL (which gets logged).
                        subprotocols=[
                            websockets.Subprotocol("kyodo.v1"),
                            websockets.Subprotocol(f"kyodo.token.{person.token}"),
                        ],
                        compression="deflate" if self.deflate else None,
                        open_timeout=60,
                        max_size=2**20,
                    )
                    try:
                        await ws.send(json.dumps({"op": "subscribe", "nets": None, "after": after}))
                        async for raw in ws:
                            now = time.perf_counter()
                            event = json.loads(raw)
                            kind = event.get("type")
                            if kind == "message":
                                after = max(after, event["rev"])
                                if event["kind"] == "posted":
                                    mid = message_id(event["message"]["text"])
                                    self.deliveries.append((mid, now))
                            elif kind == "subscribed":
                                after = max(after, event["rev"])
                                if event["nets"] != [expected_net]:
                                    self.failure = f"{person.username} got nets {event['nets']}"
                                    self._all_subscribed.set()
                                    return
                                if holding:
                                    holding = False
                                    gate.release()
                                    self.subscribed += 1
                                    if self.subscribed == len(self.world.clients):
                                        self._all_subscribed.set()
                    finally:
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(ws.close(), 5)
                except websockets.ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd is not None else "no close frame"
                    self.closes[f"ws {code}"] += 1
                except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
                    self.closes[type(exc).__name__] += 1
                if not self.stopping:
                    await asyncio.sleep(0.2)  # reconnect with the last rev seen: misses nothing
        finally:
            if holding:
                gate.release()


class KeepAlivePool:
    """A minimal HTTP/1.1 client for the posts: a fixed set of keep-alive connections, one
    request at a time on each. httpx cost about 0.3 ms of CPU per request, on the cores the
    server under test shares; this sends pre-built requests and reads the answer's length."""

    # uvicorn closes a keep-alive connection idle for 5 s; one idle nearly that long is
    # replaced before use, so a request never races the server's close (as browsers do).
    MAX_IDLE = 4.0

    def __init__(self, url: str, size: int) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.size = size
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = (
            asyncio.Queue()
        )
        self.opened: list[asyncio.StreamWriter] = []

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, float]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.opened.append(writer)
        return reader, writer, time.monotonic()

    async def start(self) -> None:
        for _ in range(self.size):
            self.free.put_nowait(await self._open())

    async def post_json(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, float]:
        """(status, body, when it was sent: once a connection was free); OSError or
        TimeoutError if the connection failed (it is replaced)."""
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter, float] | None
        conn = await self.free.get()
        if time.monotonic() - conn[2] > self.MAX_IDLE:
            conn[1].close()
            conn = await self._open()  # OSError: the pool shrinks by one and the post fails
        sent = time.perf_counter()
        try:
            reader, writer, _ = conn
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                + "\r\n"
            )
            writer.write(head.encode() + body)
            async with asyncio.timeout(POST_TIMEOUT):
                raw = await reader.readuntil(b"\r\n\r\n")
                lines = raw.decode("latin-1").split("\r\n")
                status = int(lines[0].split(" ", 2)[1])
                fields = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                if "content-length" not in fields:
                    raise OSError(f"answer without Content-Length: {lines[0]}")
                answer = await reader.readexactly(int(fields["content-length"]))
            if fields.get("connection", "").lower() == "close":
                writer.close()
                conn = await self._open()
            else:
                conn = (reader, writer, time.monotonic())
            return status, answer, sent
        except BaseException as error:
            # Whatever failed or was cancelled, the answer may still be on its way: a
            # connection is never reused with an unread answer in it.
            conn[1].close()
            conn = None
            if isinstance(error, (OSError, asyncio.IncompleteReadError, TimeoutError)):
                with contextlib.suppress(OSError):
                    conn = await self._open()
            raise
        finally:
            if conn is not None:  # a connection that could not be reopened leaves the pool
                self.free.put_nowait(conn)

    async def close(self) -> None:
        for writer in self.opened:
            writer.close()
