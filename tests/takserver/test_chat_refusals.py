"""A GeoChat refused for policy reasons is its user's, answered and audited, and never counts
toward dropping the client (TAK Server drops no client for what it refuses)."""

from __future__ import annotations

from pathlib import Path

from kyodo.cot import Event
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.takserver.server import TakServer

from tests.support.factories import add_person
from tests.takserver.test_geochat import chat
from tests.takserver.test_tak_server import cot, plain, tak, tls

__all__ = ["tak"]


async def test_refused_chats_are_answered_and_do_not_drop_the_client(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "cr.talker")
    talker = await tls(tak, tmp_path, "cr.talker", ctx, operator)
    watcher = await plain(tak)
    many = tak.settings.cot_max_refusals + 2
    for n in range(many):
        talker.send(chat("ANDROID-T", "TALKER", "No such room", f"hello {n}", message_id=f"m{n}"))
    answers = await talker.expect(many)
    assert all(
        isinstance(a, Event) and a.chat is not None and a.chat.sender_callsign == "Kyodo"
        for a in answers
    )
    talker.send(cot("still-here"))  # still connected: its position goes on
    (got,) = await watcher.expect(1)
    assert isinstance(got, Event) and got.uid == "still-here"
    (client,) = (c for c in tak.clients if c.actor.name == "cr.talker")
    assert client.refused == 0
    talker.close(), watcher.close()
