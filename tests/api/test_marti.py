"""TAK Server's Marti info endpoints: version, config, and who is connected (label-filtered)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import httpx
import pytest

from kyodo import __version__
from kyodo.api.app import create_app
from kyodo.domain.identity import Person
from kyodo.labels import parse_marking
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.services.tak_clients import ConnectedClient
from kyodo.settings import Settings

from tests.support.factories import add_person, bearer

SEEN = datetime(2026, 12, 8, 0, 1, 2, tzinfo=UTC)


class Clients:
    """A stand-in for the TAK server's connections."""

    def __init__(self) -> None:
        self.clients: list[ConnectedClient] = []

    def connected_clients(self) -> Sequence[ConnectedClient]:
        return self.clients


@pytest.fixture
async def marti(
    ctx: ServiceContext, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, Clients]]:
    app = create_app(settings, context=ctx)
    clients = Clients()
    app.state.tak_clients = clients
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://kyodo.test") as http:
        yield http, clients


def _client(ctx: ServiceContext, person: Person | None, uid: str, marking: str) -> ConnectedClient:
    return ConnectedClient(
        connection=f"10.0.0.1:1#{uid}",
        person=person,
        uid=uid,
        callsign=f"CS-{uid}",
        label=parse_marking(marking, ctx.registry),
        last_event_time=SEEN,
    )


async def test_version_and_config_as_tak_server_answers(
    marti: tuple[httpx.AsyncClient, Clients],
) -> None:
    http, _ = marti
    version = await http.get("/Marti/api/version")
    assert version.status_code == 200
    assert version.headers["content-type"].startswith("text/plain")
    assert version.text == f"Kyodo {__version__}"
    config = (await http.get("/Marti/api/version/config")).json()
    assert config["type"] == "ServerConfig"
    assert config["data"] == {
        "version": __version__,
        "type": "Kyodo",
        "api": "3",
        "hostname": "kyodo.test",
    }


async def test_client_end_points_needs_a_caller(marti: tuple[httpx.AsyncClient, Clients]) -> None:
    http, _ = marti
    assert (await http.get("/Marti/api/clientEndPoints")).status_code == 401


async def test_client_end_points_shows_a_japanese_reader_only_what_they_may_read(
    ctx: ServiceContext, operator: Actor, marti: tuple[httpx.AsyncClient, Clients]
) -> None:
    http, clients = marti
    smith = await add_person(ctx, operator, "smith", clearance="TOP SECRET")
    jones = await add_person(ctx, operator, "jones", clearance="TOP SECRET")
    hidden = await add_person(
        ctx,
        operator,
        "hidden.person",
        clearance="TOP SECRET",
        label=parse_marking("SECRET//NOFORN", ctx.registry),
    )
    await add_person(ctx, operator, "sato", nation="JPN", clearance="KIMITSU")
    clients.clients = [
        # Its report is releasable, but the Japanese reader may not read its person.
        _client(ctx, hidden, "ANDROID-hp", "UNCLASSIFIED"),
        _client(ctx, smith, "ANDROID-rel", "SECRET//REL TO USA, JPN"),
        _client(ctx, jones, "ANDROID-nf", "SECRET//NOFORN"),
        _client(ctx, None, "PLAIN-1", "UNCLASSIFIED"),
        ConnectedClient("x#1", jones, None, None, None, None),  # nothing reported yet
    ]
    sato = await bearer(http, "sato")
    answer = await http.get("/Marti/api/clientEndPoints", headers=sato)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["type"] == "com.bbn.marti.remote.ClientEndpoint"
    assert body["data"] == [
        {
            "callsign": "CS-ANDROID-rel",
            "uid": "ANDROID-rel",
            "username": "smith",
            "lastEventTime": "2026-12-08T00:01:02.000Z",
            "lastStatus": "Connected",
        },
        {
            "callsign": "CS-PLAIN-1",
            "uid": "PLAIN-1",
            "username": "",
            "lastEventTime": "2026-12-08T00:01:02.000Z",
            "lastStatus": "Connected",
        },
    ]
    assert "ANDROID-nf" not in answer.text and "jones" not in answer.text
    assert "ANDROID-hp" not in answer.text and "hidden" not in answer.text
    # A US reader cleared for it sees the NOFORN client too.
    us = await bearer(http, "smith")
    uids = [
        c["uid"] for c in (await http.get("/Marti/api/clientEndPoints", headers=us)).json()["data"]
    ]
    assert uids == ["ANDROID-hp", "ANDROID-nf", "ANDROID-rel", "PLAIN-1"]
