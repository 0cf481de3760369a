"""The contacts of connected TAK clients: each one's own uid and callsign, to address them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.cot import Event

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kyodo.bus.events import TrackChanged
    from kyodo.takserver.client import CotClient


@dataclass(frozen=True, slots=True)
class Contact:
    """What a TAK client says it is: its device uid and callsign."""

    uid: str
    callsign: str


def clients_named(
    clients: set[CotClient],
    contacts: dict[str, Contact],
    callsigns: Iterable[str],
    uids: Iterable[str],
) -> list[CotClient]:
    """The connected clients whose contact has one of these callsigns or uids (the contacts of
    gone clients are pruned from `contacts`)."""
    wanted_callsigns, wanted_uids = set(callsigns), set(uids)
    live = {c.id: c for c in tuple(clients)}
    for gone in contacts.keys() - live.keys():
        del contacts[gone]
    return [
        live[client_id]
        for client_id, contact in contacts.items()
        if contact.callsign in wanted_callsigns or contact.uid in wanted_uids
    ]


def note_position(contacts: dict[str, Contact], event: TrackChanged) -> None:
    """A client's own position report (a `<contact>` with an endpoint, as ATAK, WinTAK and iTAK
    send for themselves) tells its uid and callsign."""
    received = event.received
    origin = event.origin
    if origin is None or not isinstance(received, Event):
        return
    detail = received.detail
    if detail.endpoint is None or not detail.callsign:
        return  # a marker or another item the client reports, not the client itself
    contact = contacts.get(origin)
    if contact is None or contact.uid != received.uid or contact.callsign != detail.callsign:
        contacts[origin] = Contact(received.uid, detail.callsign)
