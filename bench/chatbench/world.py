"""The people, nets and memberships a chat run needs, made through the real HTTP API."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from ..peers.kyodo import CHAT_ADMIN_PASSWORD
from .config import NET_LABEL, USER_PASSWORD

if TYPE_CHECKING:
    from collections.abc import Awaitable, Sequence

    from .config import Config


@dataclass
class Person:
    """A bench account: who it is and its API token."""

    username: str
    nation: str
    clearance: str
    id: str = ""
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """Everything the set-up made."""

    clients: list[Person]
    posters: list[Person]
    nets: list[str]
    client_nets: dict[str, str]  # username -> net id
    setup_seconds: dict[str, float] = field(default_factory=dict)


async def _login_token(
    url: str, username: str, password: str, scopes: tuple[str, ...] = ("read", "write")
) -> str:
    """Log in (a session cookie), then mint an API token with the CSRF header (an
    administrator's token needs the admin scope to act as one)."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        login.raise_for_status()
        token = await http.post(
            "/api/v1/auth/tokens",
            json={"name": "chat-bench", "scopes": list(scopes)},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        token.raise_for_status()
        value: str = token.json()["token"]
        return value


async def _bounded(limit: int, jobs: Sequence[Awaitable[Any]]) -> list[Any]:
    """The jobs' results, at most `limit` running at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


async def build_world(url: str, cfg: Config) -> World:
    """People, nets and memberships over the real API with an admin bearer token."""
    marks: dict[str, float] = {}
    t = time.perf_counter()
    admin = Person("admin", "USA", "TOP SECRET")
    admin.token = await _login_token(url, "admin", CHAT_ADMIN_PASSWORD, ("read", "write", "admin"))

    def person(kind: str, i: int) -> Person:
        usa = i % 2 == 0
        return Person(
            f"{kind}-{'usa' if usa else 'jpn'}-{i:03d}",
            "USA" if usa else "JPN",
            "SECRET" if usa else "GOKUHI",
        )

    clients = [person("ws", i) for i in range(cfg.clients)]
    posters = [person("poster", i) for i in range(cfg.posters)]
    async with httpx.AsyncClient(base_url=url, timeout=120, headers=admin.headers) as http:

        async def create(p: Person) -> None:
            made = await http.post(
                "/api/v1/people",
                json={
                    "username": p.username,
                    "name": p.username.replace("-", " ").title(),
                    "nation": p.nation,
                    "clearance": p.clearance,
                    "password": USER_PASSWORD,
                },
            )
            if made.status_code != 201:
                raise RuntimeError(f"creating {p.username}: {made.status_code} {made.text}")
            p.id = made.json()["id"]

        # The server hashes passwords with argon2 (slow by design): a few at a time.
        await _bounded(4, [create(p) for p in clients + posters])
        marks["people"] = time.perf_counter() - t
        t = time.perf_counter()
        nets: list[str] = []
        for n in range(cfg.nets):
            made = await http.post(
                "/api/v1/nets",
                json={
                    "name": f"bench-net-{n:02d}",
                    "purpose": "chat benchmark",
                    "ceiling": NET_LABEL,
                    "default_label": NET_LABEL,
                },
            )
            if made.status_code != 201:
                raise RuntimeError(f"creating a net: {made.status_code} {made.text}")
            nets.append(made.json()["id"])
        client_nets = {p.username: nets[i % cfg.nets] for i, p in enumerate(clients)}

        async def add(net_id: str, p: Person) -> None:
            added = await http.post(f"/api/v1/nets/{net_id}/members", json={"person_id": p.id})
            if added.status_code != 201:
                raise RuntimeError(f"adding {p.username}: {added.status_code} {added.text}")

        memberships = [add(client_nets[p.username], p) for p in clients]
        memberships += [add(net_id, p) for net_id in nets for p in posters]
        await _bounded(8, memberships)
        marks["nets"] = time.perf_counter() - t
    t = time.perf_counter()

    async def token(p: Person) -> None:
        p.token = await _login_token(url, p.username, USER_PASSWORD)

    await _bounded(4, [token(p) for p in clients + posters])
    marks["logins"] = time.perf_counter() - t
    return World(clients, posters, nets, client_nets, marks)


# ---------------------------------------------------------------------------------------------
# WebSocket clients
# ---------------------------------------------------------------------------------------------
