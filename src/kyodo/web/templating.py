"""Rendering pages: one Jinja2 environment (autoescaped), the reader's language and banner."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from kyodo.api.deps import CSRF_COOKIE
from kyodo.api.problems import STATUS
from kyodo.domain.identity import Role
from kyodo.errors import KyodoError
from kyodo.labels import Label, label_from_json
from kyodo.services.actor import Actor
from kyodo.web.i18n import choose_language, translations
from kyodo.web.js_strings import JS_MESSAGES
from kyodo.web.labels_view import LabelView, for_reader, view, view_of
from kyodo.web.reasons import HTTP_SUMMARIES, ErrorText, error_text
from kyodo.web.session import context_of, safe_next

# Nothing from elsewhere: scripts, styles and connections from this origin only. Images may come
# from a site's configured tile server, so they are the one exception.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https: http:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(context["lang"]).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(context["lang"]).ngettext(singular, plural, n)


@functools.cache
def environment() -> Environment:
    """The one template environment: autoescape on for every template, gettext installed."""
    env = Environment(
        loader=PackageLoader("kyodo.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


@functools.cache
def vendor_script(name: str) -> str | None:
    """The URL of a vendored library's main script, if it has been vendored."""
    folder = resources.files("kyodo.web").joinpath("static", "vendor", name)
    if not folder.is_dir():
        return None
    for candidate in (f"{name}.min.js", f"{name}.js", "dist/htmx.min.js"):
        if folder.joinpath(candidate).is_file():
            return f"/static/vendor/{name}/{candidate}"
    return None


def language_of(request: Request, actor: Actor | None) -> str:
    """The reader's UI language."""
    person = actor.person if actor is not None else None
    if person is None:
        return choose_language(request)
    return choose_language(request, person.nation, person.language)


def render_page(
    request: Request,
    template: str,
    *,
    actor: Actor | None,
    page_label: Label | dict[str, Any] | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A full page (or fragment): `page_label` is the highest label of what it shows."""
    ctx = context_of(request)
    lang = language_of(request, actor)
    registry = ctx.registry
    if page_label is None:
        page_label = ctx.unclassified()
    person = actor.person if actor is not None else None
    if not isinstance(page_label, Label):
        page_label = label_from_json(page_label, registry)  # LabelError (422) if malformed
    banner = view(for_reader(page_label, person.nation if person else None), registry, lang)
    roles = actor.subject.roles if actor is not None else frozenset()

    def label(value: object) -> LabelView:
        return view_of(value, registry, lang)

    gettext = translations(lang).gettext
    values: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "me": person,
        "actor": actor,
        "csrf_token": request.cookies.get(CSRF_COOKIE, ""),
        "is_security_officer": Role.SECURITY_OFFICER.value in roles,
        "may_override": Role.MAY_OVERRIDE.value in roles,
        "records_officer": Role.RECORDS_OFFICER.value in roles,
        "page_label": banner.data,
        "banner": banner,
        "label": label,
        "htmx_src": vendor_script("htmx"),
        # Inside <script type="application/json">: no "<" may close the element early.
        "js_messages": json.dumps(
            {key: gettext(text) for key, text in JS_MESSAGES.items()}, ensure_ascii=False
        ).replace("<", "\\u003c"),
        **context,
    }
    body = environment().get_template(template).render(values)
    response = HTMLResponse(body, status_code=status_code)
    secure_headers(response)
    return response


def secure_headers(response: HTMLResponse) -> None:
    """No caching of labelled pages; no framing; scripts from this origin only."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"


def render_error(
    request: Request, actor: Actor | None, exc: KyodoError | None, status: int | None = None
) -> HTMLResponse:
    """A page saying what went wrong, in the reader's language, with the API's status for the
    error (404, 403, 422…); `exc` None: an HTTP error of its own `status` (no such page)."""
    lang = language_of(request, actor)
    if exc is None:
        status = status or 404
        summary = HTTP_SUMMARIES.get(status)
        text = ErrorText(
            translations(lang).gettext(summary) if summary else translations(lang).gettext("Error"),
            (),
            "",
        )
    else:
        status = STATUS.get(exc.code, 400)
        text = error_text(exc, lang, context_of(request).registry)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render_page(
        request,
        "error.html",
        actor=actor,
        status_code=status,
        status=status,
        message=text.summary,
        detail=text.detail,
        reasons=text.reasons,
        login_next=safe_next(path),
    )
