"""Posting a chat message, the hottest request, served in front of FastAPI's router.

Every chat message is one `POST /api/v1/nets/{id}/messages`. Through FastAPI, routing (a scan
of every route), dependency solving and request validation cost about as much CPU as storing
the message; here the same request is parsed, authenticated and answered directly, with the
same service call, the same checks and the same answers (problem+json errors included). The
FastAPI route stays: it documents the endpoint, and serves it if this middleware is not
installed. The tests of the route run through this path.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.requests import cookie_parser

from kyodo.api import problems
from kyodo.api.deps import SESSION_COOKIE, request_actor
from kyodo.api.middleware import too_large
from kyodo.api.routes.nets import posted_response
from kyodo.api.schemas import MessageIn
from kyodo.errors import KyodoError

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import ASGIApp, Receive, Scope, Send

    from kyodo.services.context import ServiceContext

PATH = re.compile(r"/api/v1/nets/([^/]+)/messages")
# The default limit (settings.max_body_bytes, the limit of every route): a message is at most
# 20,000 characters (up to 12 bytes each as JSON escapes) plus a label and a justification.
MAX_BODY = 1024 * 1024


class _TooLarge(Exception):
    pass


class _Gone(Exception):
    """The client went away before its body arrived: nothing is posted, nothing answered."""


class PostMessageFastPath:
    """ASGI middleware: answers POST /api/v1/nets/{id}/messages; passes on everything else."""

    def __init__(self, app: ASGIApp, ctx: ServiceContext, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.ctx = ctx
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        match = PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await self._post(scope, receive, match.group(1))
        except _Gone:
            return
        await response(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, net_id: str) -> Response:
        headers = Headers(scope=scope)
        try:
            raw = await _body(receive, self.max_body)
        except _TooLarge:
            return too_large(self.max_body)
        try:
            # Credentials before the body, as the route's dependencies do: a caller who is not
            # logged in learns nothing about what the body should be.
            cookies = cookie_parser(headers["cookie"]) if "cookie" in headers else {}
            actor = await request_actor(
                self.ctx,
                "POST",
                headers.get("authorization"),
                cookies.get(SESSION_COOKIE),
                headers.get("x-csrf-token"),
            )
            try:
                body = _message(raw, headers.get("content-type"))
            except ValidationError as exc:
                return problems.invalid_request(
                    [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
                )
            return await posted_response(self.ctx, actor, net_id, body)
        except KyodoError as exc:
            return problems.kyodo_error(exc)


async def _body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Gone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _message(raw: bytes, content_type: str | None) -> MessageIn:
    """The body as a MessageIn; ValidationError (422) when it is not one."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if raw and not (media == "application/json" or media.endswith("+json")):
        raise ValidationError.from_exception_data(
            "MessageIn",
            [
                {
                    "type": "value_error",
                    "loc": (),
                    "input": media,
                    "ctx": {"error": "send the message as JSON (Content-Type: application/json)"},
                }
            ],
        )
    if not raw:
        raise ValidationError.from_exception_data(
            "MessageIn", [{"type": "missing", "loc": (), "input": None}]
        )
    return MessageIn.model_validate_json(raw)
