"""The routes' typed dependencies (context, authenticated actor) and the session cookies."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Request, Response
from starlette.datastructures import Headers

from kyodo.api.tls_scope import client_certificate
from kyodo.errors import Unauthenticated
from kyodo.services import auth
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

if TYPE_CHECKING:
    from starlette.types import Scope

SESSION_COOKIE = "kyodo_session"
CSRF_COOKIE = "kyodo_csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Dependencies are `async def` even when they do not wait: FastAPI runs a plain `def` in a
# worker thread, a hand-off per request that costs more than the function.
async def get_context(request: Request) -> ServiceContext:
    """The process's ServiceContext (built by the app's lifespan)."""
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


async def current_actor(
    request: Request,
    ctx: Context,
    authorization: Annotated[str | None, Header()] = None,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Actor:
    """The caller: on the client-certificate HTTPS listener the certificate's person; else
    from a bearer token or the session cookie (with CSRF on unsafe methods)."""
    by_certificate = await certificate_caller(ctx, request.scope, request.method)
    if by_certificate is not None:
        return by_certificate
    return await request_actor(
        ctx, request.method, authorization, request.cookies.get(SESSION_COOKIE), x_csrf_token
    )


async def certificate_caller(ctx: ServiceContext, scope: Scope, method: str) -> Actor | None:
    """The person registered to the client certificate this request's connection presented to
    Kyodo's HTTPS listener (`api.tls_scope`: from the TLS layer, never from a header), or None
    when there is none. On that listener the certificate decides: tokens and cookies are not
    looked at, and an unregistered or revoked certificate is refused (audited), as on the CoT
    TLS port. A state-changing request from another site's page is refused (a browser
    presents its certificate to any site's requests, as it sends cookies)."""
    der = client_certificate(scope)
    if der is None:
        return None
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    cross = method not in _SAFE_METHODS and origin is not None and origin != _own_origin(headers)
    return await auth.request_certificate_actor(
        ctx, hashlib.sha256(der).hexdigest(), _scope_address(scope), cross_origin=cross
    )


def _own_origin(headers: Headers) -> str:
    return f"https://{headers.get('host', '')}"


def _scope_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def request_actor(
    ctx: ServiceContext,
    method: str,
    authorization: str | None,
    session_cookie: str | None,
    csrf_token: str | None,
) -> Actor:
    """The actor behind a request's credentials: the bearer token (an API token, never a
    session's secret) if there is one, else the session cookie, whose CSRF token must come with
    every state-changing request; a token must hold the scope for the method."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("use 'Authorization: Bearer <token>'")
        actor = await auth.authenticate(ctx, token.strip(), kind="api")
    elif session_cookie:
        actor = await auth.authenticate(ctx, session_cookie, kind="session")
        if method not in _SAFE_METHODS:
            auth.check_csrf(actor, csrf_token)
    else:
        raise Unauthenticated("log in first, or send an API token")
    # The one place a token's read/write scope is enforced for every HTTP route.
    await auth.require_scope(
        ctx, actor, auth.SCOPE_READ if method in _SAFE_METHODS else auth.SCOPE_WRITE
    )
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def set_session_cookies(
    response: Response, request: Request, ctx: ServiceContext, login: auth.LoginResult
) -> None:
    """The cookies of a new session, for the API's login and the web page's alike."""
    max_age = int(ctx.session_ttl.total_seconds())
    secure = request.app.state.settings.cookie_secure
    response.set_cookie(
        SESSION_COOKIE,
        login.token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    # Readable by the page's script, which echoes it in X-CSRF-Token (double submit).
    response.set_cookie(
        CSRF_COOKIE,
        login.csrf_token,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
    )


def clear_session_cookies(response: Response) -> None:
    """Forget the session's cookies (logging out)."""
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def client_address(request: Request) -> str:
    """The peer's address, for login throttling and the audit log."""
    return request.client.host if request.client else "unknown"
