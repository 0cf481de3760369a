"""Posting a chat message, the hottest request: a plain Starlette route ahead of FastAPI's.

Every chat message is one `POST /api/v1/nets/{id}/messages`. Through FastAPI's route, dependency
solving and request validation cost about as much CPU as storing the message; this route,
placed first in the router, reads the body, authenticates and validates it directly and makes
the same service call. Everything else is shared with every route: the app's middleware (the
body limit, no-store) and its exception handlers, which render the errors raised here as the
same problem+json answers. The FastAPI route stays for the OpenAPI document (and serves posts
where this route is not installed); tests/api/test_fast_post.py checks both answer alike.
"""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from kyodo.api.deps import SESSION_COOKIE, certificate_caller, request_actor
from kyodo.api.routes.nets import posted_response
from kyodo.api.schemas import MessageIn
from kyodo.services.context import ServiceContext

PATH = "/api/v1/nets/{net_id}/messages"
# The body limit is the app's (settings.max_body_bytes, BodyLimit): its default, 1 MiB, holds the
# largest message, 20,000 characters (up to 12 bytes each as JSON escapes), a label and a
# justification.


class PostMessage:
    """The ASGI endpoint: a class, so Starlette calls it as is (no request/response wrapper),
    and a client that leaves before its body arrives gets no answer at all."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            raw = await request.body()
        except ClientDisconnect:
            return  # nothing is posted, and there is no one to answer
        headers = request.headers
        # Credentials before the body, as the route's dependencies do: a caller who is not
        # logged in learns nothing about what the body should be.
        actor = await certificate_caller(self.ctx, scope, "POST") or await request_actor(
            self.ctx,
            "POST",
            headers.get("authorization"),
            request.cookies.get(SESSION_COOKIE),
            headers.get("x-csrf-token"),
        )
        try:
            body = _message(raw, headers.get("content-type"))
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in errors]
            ) from exc
        response = await posted_response(self.ctx, actor, request.path_params["net_id"], body)
        await response(scope, receive, send)


def route(ctx: ServiceContext) -> Route:
    """The route to put first in the app's router."""
    return Route(PATH, PostMessage(ctx), methods=["POST"], include_in_schema=False)


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
