"""The browser UI: server-rendered pages (Jinja2, htmx, small ES modules) over the services."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

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
from kyodo.web.session import LoginRequired, login_redirect


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
