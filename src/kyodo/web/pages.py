"""Login, logout, the language switch and the home page."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kyodo.api.deps import clear_session_cookies, client_address, set_session_cookies
from kyodo.errors import RateLimited, Unauthenticated
from kyodo.labels import join_all
from kyodo.services import auth, identity, nets, tracks
from kyodo.web.i18n import LANG_COOKIE, LANGUAGES, N_, translations
from kyodo.web.session import FormDep, context_of, optional_actor, safe_next
from kyodo.web.templating import language_of, render_page

router = APIRouter(include_in_schema=False)
ONE_YEAR = 365 * 86400
AFFILIATIONS = {
    "f": N_("Friend"),
    "a": N_("Assumed friend"),
    "n": N_("Neutral"),
    "u": N_("Unknown"),
    "p": N_("Pending"),
    "s": N_("Suspect"),
    "h": N_("Hostile"),
    "j": N_("Joker"),
    "k": N_("Faker"),
    "o": N_("None"),
}


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/") -> Response:
    """The login form (the home page when already logged in)."""
    if await optional_actor(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render_page(request, "login.html", actor=None, next=safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password through the same service as the API; set the same cookies."""
    ctx = context_of(request)
    gettext = translations(language_of(request, None)).gettext
    try:
        if not username or not password:
            raise Unauthenticated("empty")
        result = await auth.login(ctx, username, password, client_address(request))
    except RateLimited:
        error, status = gettext("Too many failed attempts. Wait a few minutes."), 429
    except Unauthenticated:
        error, status = gettext("Unknown username or wrong password."), 401
    else:
        response = RedirectResponse(safe_next(next), status_code=303)
        set_session_cookies(response, request, ctx, result)
        return response
    return render_page(
        request,
        "login.html",
        actor=None,
        next=safe_next(next),
        error=error,
        username=username,
        status_code=status,
    )


@router.post("/logout")
async def logout(request: Request, post: FormDep) -> Response:
    """End the session and forget its cookies."""
    await auth.logout(context_of(request), post.actor)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookies(response)
    return response


@router.post("/lang")
async def switch_language(
    request: Request,
    lang: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Remember the chosen language: with the person when logged in (any device; the form's
    CSRF token is checked, as for any change), and in this browser (a cookie, a year)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang not in LANGUAGES:
        return response
    actor = await optional_actor(request)
    if actor is not None and actor.person is not None:
        auth.check_csrf(actor, request.headers.get("x-csrf-token") or csrf_token)
        await identity.set_language(context_of(request), actor, lang)
    secure = request.app.state.settings.cookie_secure
    response.set_cookie(
        LANG_COOKIE, lang, max_age=ONE_YEAR, samesite="lax", secure=secure, path="/"
    )
    return response


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    """The person's nets (unread counts filled in by the page) and the picture's summary."""
    actor = await optional_actor(request)
    if actor is None or actor.person is None:
        return render_page(request, "login.html", actor=None, next="/", error=None)
    ctx = context_of(request)
    my_nets = await nets.list_my_nets(ctx, actor)
    seen = await nets.read_markers(ctx, actor)
    feeds = {f.id: f.name for f in await tracks.list_feeds(ctx, actor)}
    live = await tracks.list_tracks(ctx, actor, limit=5000)
    # A track may be readable in a feed whose entry label the person cannot read as a whole.
    other = translations(language_of(request, actor)).gettext("Other feeds")
    by_feed = Counter(feeds.get(t.feed_id, other) for t in live)
    by_affiliation = Counter(_affiliation(t.type) for t in live)
    # The counts are drawn from the tracks, so the page is as sensitive as the highest of them.
    page_label = join_all(*(t.label for t in live)) if live else None
    return render_page(
        request,
        "home.html",
        actor=actor,
        page_label=page_label,
        active="home",
        nets=my_nets,
        seen=seen,
        track_total=len(live),
        by_feed=sorted(by_feed.items()),
        by_affiliation=sorted(by_affiliation.items(), key=lambda kv: -kv[1]),
    )


def _affiliation(cot_type: str) -> str:
    parts = cot_type.split("-")
    key = parts[1] if len(parts) > 1 and parts[0] == "a" else "o"
    return AFFILIATIONS.get(key, AFFILIATIONS["o"])
