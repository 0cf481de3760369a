"""Login, logout, the caller's own record and API tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from kyodo.api.deps import (
    Context,
    CurrentActor,
    clear_session_cookies,
    client_address,
    set_session_cookies,
)
from kyodo.api.schemas import (
    LanguageIn,
    LoginIn,
    LoginOut,
    PasswordIn,
    PersonOut,
    TokenIn,
    TokenInfo,
    TokenOut,
)
from kyodo.errors import PermissionDenied
from kyodo.services import auth, identity, tokens

router = APIRouter(tags=["session"])


@router.post("/auth/login", response_model=LoginOut)
async def login(body: LoginIn, request: Request, response: Response, ctx: Context) -> LoginOut:
    """Log in with username and password; sets the session cookie and returns the CSRF token."""
    result = await auth.login(ctx, body.username, body.password, client_address(request))
    set_session_cookies(response, request, ctx, result)
    return LoginOut(person=PersonOut.of(result.person, ctx.registry), csrf_token=result.csrf_token)


@router.post("/auth/logout", status_code=204)
async def logout(actor: CurrentActor, response: Response, ctx: Context) -> None:
    """End this session (or revoke the API token used)."""
    await auth.logout(ctx, actor)
    clear_session_cookies(response)


@router.post("/auth/tokens", response_model=TokenOut, status_code=201)
async def create_token(body: TokenIn, actor: CurrentActor, ctx: Context) -> TokenOut:
    """A new API token for programs acting as you, with scopes and an expiry; shown once.
    Minted with a token, it is revoked with that token and gets nothing that token lacks."""
    lifetime = None if body.expires_in_days is None else timedelta(days=body.expires_in_days)
    new = await tokens.create(ctx, actor, body.name, body.scopes, lifetime)
    return TokenOut(token=new.secret, **TokenInfo.of(new.record).model_dump())


@router.get("/auth/tokens", response_model=list[TokenInfo])
async def list_tokens(actor: CurrentActor, ctx: Context) -> list[TokenInfo]:
    """Your API tokens by id (never their secrets); a token sees itself and what it minted."""
    return [TokenInfo.of(r, actor.token_id) for r in await tokens.list_tokens(ctx, actor)]


@router.delete("/auth/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: str, actor: CurrentActor, ctx: Context) -> None:
    """Revoke one of your tokens by id, and every token it minted."""
    await tokens.revoke(ctx, actor, token_id)


@router.get("/me", response_model=PersonOut)
async def me(actor: CurrentActor, ctx: Context) -> PersonOut:
    """Your own record: nation, clearance, grants, roles."""
    if actor.person is None:
        raise PermissionDenied("the operator has no person record")
    return PersonOut.of(actor.person, ctx.registry)


@router.put("/me/language", response_model=PersonOut)
async def choose_language(body: LanguageIn, actor: CurrentActor, ctx: Context) -> PersonOut:
    """Choose the web UI's language (en, ja), remembered for you on any device."""
    person = await identity.set_language(ctx, actor, body.language)
    return PersonOut.of(person, ctx.registry)


@router.put("/me/password", status_code=204)
async def change_password(body: PasswordIn, actor: CurrentActor, ctx: Context) -> None:
    """Change your password (logged in, with the current one; not with a token); your other
    sessions and your tokens end."""
    await identity.set_password(ctx, actor, actor.subject.id, body.password, body.current_password)
