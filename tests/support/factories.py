"""Test data made through the real services (never by writing rows directly)."""

from __future__ import annotations

from typing import Any

import httpx

from kyodo.domain.identity import Org, Person
from kyodo.labels import parse_marking
from kyodo.services import identity
from kyodo.services.actor import Actor, operator_actor
from kyodo.services.context import ServiceContext

PASSWORD = "correct horse battery"


def make_operator(ctx: ServiceContext) -> Actor:
    return operator_actor("tester", ctx.registry)


async def add_org(
    ctx: ServiceContext,
    actor: Actor,
    org_id: str,
    nation: str = "USA",
    marking: str = "UNCLASSIFIED",
    **kw: Any,
) -> Org:
    org = Org(
        id=org_id,
        abbr=org_id.upper(),
        name=f"Org {org_id}",
        nation=nation,
        label=parse_marking(marking, ctx.registry),
        **kw,
    )
    return await identity.create_org(ctx, actor, org)


async def add_person(
    ctx: ServiceContext,
    actor: Actor,
    username: str,
    nation: str = "USA",
    clearance: str = "SECRET",
    grants: tuple[str, ...] = (),
    roles: tuple[str, ...] = ("member",),
    password: str | None = PASSWORD,
    **kw: Any,
) -> Person:
    return await identity.create_person(
        ctx,
        actor,
        identity.PersonInput(
            username=username,
            name=f"Person {username}",
            nation=nation,
            clearance=clearance,
            grants=grants,
            roles=roles,
            password=password,
            **kw,
        ),
    )


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> dict[str, str]:
    """Log in over HTTP; returns headers carrying the CSRF token (cookies stay in the client)."""
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


async def bearer(
    client: httpx.AsyncClient,
    username: str,
    password: str = PASSWORD,
    scopes: tuple[str, ...] = ("read", "write", "admin"),
) -> dict[str, str]:
    """An API token for `username`, as Authorization headers; the cookie session is dropped."""
    headers = await login(client, username, password)
    response = await client.post(
        "/api/v1/auth/tokens", json={"name": "test", "scopes": scopes}, headers=headers
    )
    assert response.status_code == 201, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}
