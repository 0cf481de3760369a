"""Reading messages: the latest of a net, with their authors, only what the reader may read."""

from __future__ import annotations

from kyodo.labels import parse_marking
from kyodo.services import messages, nets
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person


async def test_the_latest_are_the_newest_the_reader_may_read_oldest_first(
    ctx: ServiceContext, operator: Actor
) -> None:
    owner = person_actor(
        await add_person(ctx, operator, "latest.owner", clearance="TOP SECRET"), "api"
    )
    reader = person_actor(
        await add_person(ctx, operator, "latest.reader", clearance="SECRET"), "api"
    )
    secret = parse_marking("SECRET", ctx.registry)
    top = parse_marking("TOP SECRET", ctx.registry)
    net = await nets.create_net(ctx, owner, name="latest", ceiling=top, entry=secret)
    await nets.add_member(ctx, owner, net.id, reader.subject.id)
    for i in range(6):
        await messages.post_message(
            ctx, owner, net.id, f"status report {i}", label=top if i % 2 else secret
        )

    mine = await messages.latest_messages(ctx, owner, net.id, 3)
    assert [m.message.text for m in mine] == [f"status report {i}" for i in (3, 4, 5)]
    theirs = await messages.latest_messages(ctx, reader, net.id, 2)
    assert [m.message.text for m in theirs] == ["status report 2", "status report 4"]
    assert {m.author for m in [*mine, *theirs]} == {"latest.owner"}
    # The same messages as the end of the whole list, authors included.
    listed = await messages.list_messages(ctx, reader, net.id)
    assert listed[-2:] == theirs
