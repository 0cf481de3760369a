"""Who is looking at a page: the session cookie, a redirect to the login page when absent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from kyodo.api.deps import SESSION_COOKIE
from kyodo.errors import Unauthenticated
from kyodo.services import auth
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext


class LoginRequired(Exception):
    """The page needs a logged-in person; the handler sends the browser to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def context_of(request: Request) -> ServiceContext:
    """The process's ServiceContext."""
    ctx: ServiceContext = request.app.state.context
    return ctx


def safe_next(value: str | None) -> str:
    """A local path to return to after logging in (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def optional_actor(request: Request) -> Actor | None:
    """The logged-in person, or None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return await auth.authenticate(context_of(request), cookie, kind="session")
    except Unauthenticated:
        return None


async def page_actor(request: Request) -> Actor:
    """The logged-in person; LoginRequired (a redirect to /login) otherwise."""
    actor = await optional_actor(request)
    if actor is None or actor.person is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


@dataclass(frozen=True, slots=True)
class FormPost:
    """A form sent by a logged-in person, its CSRF token checked (field or header)."""

    actor: Actor
    form: FormData

    def text(self, name: str, default: str = "") -> str:
        """A text field, stripped ('' when absent or a file)."""
        value = self.form.get(name, default)
        return value.strip() if isinstance(value, str) else default

    def texts(self, name: str) -> list[str]:
        """Every value of a repeated field."""
        return [v.strip() for v in self.form.getlist(name) if isinstance(v, str) and v.strip()]


async def form_post(request: Request) -> FormPost:
    """Authenticate a form post and check its CSRF token (double submit, as the API does)."""
    actor = await page_actor(request)
    form = await request.form()
    token = request.headers.get("x-csrf-token")
    field = form.get("csrf_token")
    auth.check_csrf(actor, token or (field if isinstance(field, str) else None))
    return FormPost(actor, form)


FormDep = Annotated[FormPost, Depends(form_post)]


def login_redirect(exc: LoginRequired) -> RedirectResponse:
    """303 to the login page, remembering where the person was going."""
    return RedirectResponse(f"/login?next={quote(safe_next(exc.next_path))}", status_code=303)
