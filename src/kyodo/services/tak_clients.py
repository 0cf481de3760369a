"""Who is connected to the TAK server, as TAK's clientEndPoints shows it, filtered by the reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from kyodo.domain.identity import Person
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class ConnectedClient:
    """One TAK connection: who it acts as and its own last position report (if any yet)."""

    connection: str
    person: Person | None  # None: a plain-TCP feed identity, nobody in particular
    uid: str | None
    callsign: str | None
    label: Label | None  # of its own position report
    last_event_time: datetime | None


class ClientSource(Protocol):
    """What the TAK server tells the services about its connections (wired in by the app)."""

    def connected_clients(self) -> Sequence[ConnectedClient]: ...


class NoClients:
    """The source when no TAK server runs (tests, or before start-up): nobody is connected."""

    def connected_clients(self) -> Sequence[ConnectedClient]:
        return ()


@dataclass(frozen=True, slots=True)
class ClientEndpoint:
    """What a reader is shown of one connected client."""

    uid: str
    callsign: str
    username: str
    last_event_time: datetime


def client_endpoints(
    ctx: ServiceContext, actor: Actor, source: ClientSource
) -> list[ClientEndpoint]:
    """The connected clients whose own position report the actor may read, and (for a person's
    connection) whose person record they may read too; nothing at all about the others, so the
    list tells no more than the picture does. Clients that have reported no position yet are
    left out (they have no uid or callsign to show)."""
    shown: list[ClientEndpoint] = []
    for client in source.connected_clients():
        if client.uid is None or client.label is None or client.last_event_time is None:
            continue
        if not ctx.decisions.can_read(actor.subject, client.label):
            continue
        if client.person is not None and not ctx.decisions.can_read(
            actor.subject, client.person.label
        ):
            continue
        shown.append(
            ClientEndpoint(
                uid=client.uid,
                callsign=client.callsign or client.uid,
                username=client.person.username if client.person is not None else "",
                last_event_time=client.last_event_time,
            )
        )
    shown.sort(key=lambda c: (c.callsign, c.uid))
    return shown
