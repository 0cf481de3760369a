"""The browser UI: server-rendered pages (Jinja2, htmx, small ES modules) over the services."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from kyodo.api import problems
from kyodo.errors import KyodoError
from kyodo.web import (
    actions_pages,
    directory_page,
    labels_api,
    map_page,
    nets_pages,
    pages,
    security_page,
    tokens_page,
)
from kyodo.web.session import LoginRequired, login_redirect, optional_actor
from kyodo.web.templating import render_error


def install(app: FastAPI) -> None:
    """Mount /static and the pages (/ is the home page, or the login page)."""
    static = resources.files("kyodo.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in (
        pages,
        nets_pages,
        actions_pages,
        map_page,
        directory_page,
        security_page,
        tokens_page,
        labels_api,
    ):
        app.include_router(module.router)

    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)  # noqa: S101 - registered for LoginRequired only
        return login_redirect(exc)

    app.add_exception_handler(LoginRequired, to_login)

    # Errors: a page (banner, navigation, the reader's language) for a browser asking for
    # HTML; problem+json, as before, for API clients and /api/ paths.
    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it only
        if not wants_html(request) or exc.status_code not in (404, 405):
            return await problems.http_error(request, exc)
        return render_error(request, await optional_actor(request), None, exc.status_code)

    async def service_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KyodoError)  # noqa: S101 - registered for KyodoError only
        if not wants_html(request):
            return problems.kyodo_error(exc)
        return render_error(request, await optional_actor(request), exc)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(KyodoError, service_error)


def wants_html(request: Request) -> bool:
    """A browser's page request: HTML accepted ahead of JSON, outside the API's paths."""
    path = request.url.path
    if path.startswith(("/api/", "/Marti/", "/static/", "/web/")) or path == "/api":
        return False
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept and "application/json" not in accept.split(",")[0]
