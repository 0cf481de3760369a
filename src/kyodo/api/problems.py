"""RFC 9457 problem+json answers: the only place error codes become HTTP statuses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kyodo.errors import ErrorCode, GuardRefused, KyodoError, PermissionDenied, RateLimited

STATUS = {
    ErrorCode.LABEL_INVALID: 422,
    ErrorCode.MARKING_INVALID: 422,
    ErrorCode.NO_EQUIVALENT: 422,
    ErrorCode.LABEL_XML_INVALID: 422,
    ErrorCode.SCHEME_INVALID: 422,
    ErrorCode.INVALID_INPUT: 422,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.GUARD_REFUSED: 422,
    ErrorCode.GUARD_RULES_INVALID: 500,
}
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    422: "Unprocessable content",
    429: "Too many requests",
    503: "Service unavailable",
}
MEDIA_TYPE = "application/problem+json"


def problem(status: int, detail: str, code: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {
        "type": f"urn:kyodo:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


async def _kyodo_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KyodoError)  # noqa: S101 - registered for KyodoError only
    return kyodo_error(exc)


def kyodo_error(exc: KyodoError) -> JSONResponse:
    """The problem+json answer to a service error."""
    status = STATUS.get(exc.code, 400)
    extra: dict[str, Any] = {}
    if isinstance(exc, PermissionDenied) and exc.reasons:
        extra["reasons"] = list(exc.reasons)
        if exc.codes:
            extra["reason_codes"] = list(exc.codes)
    if isinstance(exc, GuardRefused):
        extra.update(
            findings=list(exc.findings),
            suggested=exc.suggested,
            needed=exc.needed,
            overridable=exc.overridable,
            reason={"code": exc.reason, "params": exc.params},
            override_reason=None
            if exc.override_reason is None
            else {"code": exc.override_reason, "params": exc.override_params},
        )
    response = problem(status, exc.message, exc.code.value, **extra)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kyodo"'
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    return invalid_request(exc.errors())


def invalid_request(found: Sequence[Any]) -> JSONResponse:
    """The 422 answer to a request that does not match its schema (pydantic's errors)."""
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in found
    ]
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
    return problem(422, detail, "invalid_request", errors=errors)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """The problem+json answer to an HTTP error (no such route, method, too large)."""
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    code = "too_large" if exc.status_code == 413 else "http_error"
    return problem(exc.status_code, str(exc.detail), code)


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(KyodoError, _kyodo_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
