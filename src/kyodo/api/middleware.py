"""ASGI middleware in front of every route: one request body limit, and no-store on the API."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kyodo.api import problems

# What a multipart upload may carry besides the file itself (boundaries, part headers, fields).
MULTIPART_ROOM = 64 * 1024


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed (chunked) body passes the limit. An HTTPException,
    so the route's body parsing passes it on (it turns other errors into 400) and the app's
    handler answers 413 problem+json; caught here if it gets this far."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def too_large(limit: int) -> JSONResponse:
    """The 413 answer."""
    return problems.problem(413, f"the request body is larger than {limit} bytes", "too_large")


class BodyLimit:
    """Refuses a body over `limit` bytes with 413 problem+json: by its Content-Length before
    anything is read, and while a chunked body streams in (counting what arrives), for every
    HTTP route, forms included. The paths in `large` (file uploads) have `large_limit`
    instead (plus room for a multipart envelope)."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        large: frozenset[str] = frozenset(),
        large_limit: int = 0,
    ) -> None:
        self.app = app
        self.default_limit = limit
        self.large = large
        self.large_limit = max(limit, large_limit + MULTIPART_ROOM) if large else limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.large_limit if scope["path"] in self.large else self.default_limit
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    await _answer(scope, receive, send, limit, declared)
                    return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await too_large(limit)(scope, receive, send)


async def _answer(scope: Scope, receive: Receive, send: Send, limit: int, declared: int) -> None:
    if declared < 0:
        response = problems.problem(400, "Content-Length is not a number", "bad_request")
    else:
        response = too_large(limit)
    # The client may still be sending: close the connection rather than read the body.
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


class NoStoreApi:
    """`Cache-Control: no-store` on every /api/ response: they carry labelled content, which
    no browser or proxy cache may keep."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = "no-store"
                headers.setdefault("Pragma", "no-cache")
            await send(message)

        await self.app(scope, receive, no_store)
