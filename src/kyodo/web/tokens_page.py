"""The person's "My tokens" page: their API tokens by id, minted and revoked through the
same service as the API."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kyodo.errors import KyodoError
from kyodo.services import tokens
from kyodo.services.auth import SCOPES
from kyodo.services.ports import SessionRecord
from kyodo.web.i18n import N_
from kyodo.web.session import FormDep, PageActor, context_of
from kyodo.web.templating import render_page

router = APIRouter(include_in_schema=False)
SCOPE_TEXTS = {
    "read": N_("read: view and follow live"),
    "write": N_("write: post and change"),
    "admin": N_("admin: use your administrative roles"),
}


def _rows(records: list[SessionRecord] | tuple[SessionRecord, ...]) -> list[SessionRecord]:
    return sorted(records, key=lambda r: r.created_at, reverse=True)


async def _page(
    request: Request,
    actor: PageActor,
    *,
    minted: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    ctx = context_of(request)
    records = await tokens.list_tokens(ctx, actor)
    return render_page(
        request,
        "tokens.html",
        actor=actor,
        active="tokens",
        records=_rows(list(records)),
        scopes=[(s, SCOPE_TEXTS[s]) for s in sorted(SCOPES)],
        default_days=int(ctx.token_ttl.total_seconds() // 86400),
        max_days=int(ctx.token_max_ttl.total_seconds() // 86400),
        minted=minted,
        error=error,
        now=ctx.clock(),
        status_code=status_code,
    )


@router.get("/account/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request, actor: PageActor) -> Response:
    """Your API tokens: name, scopes, expiry, which token minted which; a form for a new one."""
    return await _page(request, actor)


@router.post("/account/tokens", response_class=HTMLResponse)
async def mint(request: Request, post: FormDep) -> Response:
    """A new token, shown on the page once."""
    ctx = context_of(request)
    days_text = post.text("days")
    try:
        days = float(days_text) if days_text else None
    except ValueError:
        days = -1.0
    if days is not None and not 0 < days <= 36500:  # NaN too; the service names the bounds
        days = -1.0
    try:
        new = await tokens.create(
            ctx,
            post.actor,
            post.text("name")[:100] or "token",
            post.texts("scopes") or ["read"],
            None if days is None else timedelta(days=days),
        )
    except KyodoError as exc:
        return await _page(request, post.actor, error=exc.message, status_code=422)
    return await _page(request, post.actor, minted=new.secret)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke(request: Request, token_id: str, post: FormDep) -> Response:
    """Revoke a token and every token it minted."""
    try:
        await tokens.revoke(context_of(request), post.actor, token_id)
    except KyodoError as exc:
        return await _page(request, post.actor, error=exc.message, status_code=404)
    return RedirectResponse("/account/tokens", status_code=303)
