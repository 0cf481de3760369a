"""Chat receipts update the message they acknowledge: delivered and read per person, for those
who may read the message, shown only to readers of the message and of the person's record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from kyodo.cot import Event
from kyodo.labels import parse_marking
from kyodo.services import messages
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.takserver.server import TakServer

from tests.support.factories import add_person, bearer
from tests.support.wait import wait_for
from tests.takserver.test_geochat import FMT, _denied, _net, chat
from tests.takserver.test_tak_server import tak, tls

__all__ = ["tak"]


def receipt(kind: str, message_id: str, uid: str, room: str = "Harbor") -> bytes:
    """A receipt as ATAK writes one: delivered (`<__chatreceipt>`, uid `<messageId>.d`) or
    read (`<__chat>`, uid = the messageId)."""
    now = datetime.now(UTC)
    time, stale = now.strftime(FMT), (now + timedelta(days=1)).strftime(FMT)
    tag, suffix, kind_type = (
        ("__chatreceipt", ".d", "b-t-f-d") if kind == "delivered" else ("__chat", "", "b-t-f-r")
    )
    return (
        f'<event version="2.0" uid="{message_id}{suffix}" type="{kind_type}" how="h-g-i-g-o"'
        f' time="{time}" start="{time}" stale="{stale}">'
        '<point lat="35.0" lon="139.0" hae="0" ce="9999999" le="9999999"/><detail>'
        f'<{tag} parent="RootContactGroup" groupOwner="false" messageId="{message_id}"'
        f' chatroom="{room}" id="{room}" senderCallsign="X"><chatgrp uid0="{uid}" uid1="{room}"'
        f' id="{room}"/></{tag}><link uid="{uid}" type="a-f-G-U-C" relation="p-p"/>'
        "</detail></event>"
    ).encode()


async def _receipts(
    ctx: ServiceContext, actor: Actor, seq: int, count: int
) -> list[tuple[str, str]]:
    async def found() -> list[tuple[str, str]]:
        got = await messages.message_receipts(ctx, actor, seq)
        return [(p.username, r.kind) for r, p in got] if len(got) >= count else []

    result: list[tuple[str, str]] = await wait_for(found, timeout=5)
    return result


async def test_receipts_for_a_tak_chat_are_recorded_and_still_relayed(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    alpha = await add_person(ctx, operator, "rc.alpha")
    bravo = await add_person(ctx, operator, "rc.bravo")
    net = await _net(ctx, alpha, bravo)
    a = await tls(tak, tmp_path, "rc.alpha", ctx, operator)
    b = await tls(tak, tmp_path, "rc.bravo", ctx, operator)
    a.send(chat("ANDROID-A", "ALPHA", "Harbor", "Radio check", message_id="f77dae64-1"))
    await b.expect(1)
    (posted,) = await messages.list_messages(ctx, person_actor(alpha, "api"), net.id)
    b.send(receipt("delivered", "f77dae64-1", "ANDROID-B"))
    b.send(receipt("read", "f77dae64-1", "ANDROID-B"))
    b.send(receipt("read", "f77dae64-1", "ANDROID-B"))  # again (another device): nothing new
    got = await a.expect(3)  # the chat's receipts reach its sender as sent
    assert [e.type for e in got if isinstance(e, Event)] == ["b-t-f-d", "b-t-f-r", "b-t-f-r"]
    seen = await _receipts(ctx, person_actor(alpha, "api"), posted.message.seq, 2)
    assert seen == [("rc.bravo", "delivered"), ("rc.bravo", "read")]
    a.close(), b.close()


async def test_receipts_for_a_message_posted_in_kyodo_name_it_by_its_seq(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    alpha = await add_person(ctx, operator, "rc.web")
    bravo = await add_person(ctx, operator, "rc.tak")
    net = await _net(ctx, alpha, bravo)
    b = await tls(tak, tmp_path, "rc.tak", ctx, operator)
    posted = await messages.post_message(ctx, person_actor(alpha, "web"), net.id, "From the web")
    (got,) = await b.expect(1)
    assert isinstance(got, Event) and got.chat is not None
    assert got.chat.message_id == messages.chat_ref(posted.message.seq)
    b.send(receipt("read", got.chat.message_id, "ANDROID-T"))
    seen = await _receipts(ctx, person_actor(alpha, "api"), posted.message.seq, 1)
    assert seen == [("rc.tak", "read")]
    b.close()


async def test_a_receipt_from_one_who_may_not_read_the_message_is_refused_and_audited(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    alpha = await add_person(ctx, operator, "rc.owner")
    await add_person(ctx, operator, "rc.outsider")
    net = await _net(ctx, alpha)
    await add_person(ctx, operator, "rc.second")  # a second refusal for `_denied`
    posted = await messages.post_message(ctx, person_actor(alpha, "web"), net.id, "members only")
    ref = messages.chat_ref(posted.message.seq)
    outsider = await tls(tak, tmp_path, "rc.outsider", ctx, operator)
    second = await tls(tak, tmp_path, "rc.second", ctx, operator)
    for _ in range(tak.settings.cot_max_refusals + 1):
        outsider.send(receipt("read", ref, "ANDROID-O"))
    second.send(receipt("delivered", ref, "ANDROID-S"))
    records = await wait_for(lambda: _denied(ctx, "message.receipt"))
    assert {r.entry.actor for r in records} >= {"rc.outsider", "rc.second"}
    assert (
        await messages.message_receipts(ctx, person_actor(alpha, "api"), posted.message.seq) == []
    )
    # Refused for what its user may read, not for a broken client: still connected.
    await outsider.quiet()
    assert len(tak.clients) == 2
    assert all(client.refused == 0 for client in tak.clients)
    outsider.close(), second.close()


async def test_the_receipts_api_shows_only_readable_people_to_readers_of_the_message(
    tak: TakServer,
    ctx: ServiceContext,
    operator: Actor,
    client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    owner = await add_person(ctx, operator, "rc.api.owner", clearance="TOP SECRET")
    seen_one = await add_person(ctx, operator, "rc.api.seen")
    hidden = await add_person(
        ctx,
        operator,
        "rc.api.hidden",
        clearance="TOP SECRET",
        label=parse_marking("SECRET//NOFORN", ctx.registry),
    )
    japanese = await add_person(ctx, operator, "rc.api.jp", nation="JPN", clearance="GOKUHI")
    net = await _net(ctx, owner, seen_one, hidden, japanese)
    posted = await messages.post_message(ctx, person_actor(owner, "web"), net.id, "shared")
    noforn = await messages.post_message(
        ctx,
        person_actor(owner, "web"),
        net.id,
        "US only",
        label=parse_marking("SECRET//NOFORN", ctx.registry),
    )
    ref = messages.chat_ref(posted.message.seq)
    peers = [
        await tls(tak, tmp_path, name, ctx, operator)
        for name in ("rc.api.seen", "rc.api.hidden", "rc.api.jp")
    ]
    for peer in peers:
        peer.send(receipt("read", ref, "ANDROID-X"))
    await _receipts(ctx, person_actor(owner, "api"), posted.message.seq, 3)
    headers = {n: await bearer(client, n) for n in ("rc.api.owner", "rc.api.jp")}
    answer = await client.get(
        f"/api/v1/messages/{posted.message.seq}/receipts", headers=headers["rc.api.owner"]
    )
    assert answer.status_code == 200, answer.text
    assert sorted(r["username"] for r in answer.json()) == [
        "rc.api.hidden",
        "rc.api.jp",
        "rc.api.seen",
    ]
    assert {r["kind"] for r in answer.json()} == {"read"}
    # The Japanese member reads the message, but not the NOFORN person's record.
    answer = await client.get(
        f"/api/v1/messages/{posted.message.seq}/receipts", headers=headers["rc.api.jp"]
    )
    assert sorted(r["username"] for r in answer.json()) == ["rc.api.jp", "rc.api.seen"]
    # A message the caller may not read: answered as a missing one.
    hidden_answer = await client.get(
        f"/api/v1/messages/{noforn.message.seq}/receipts", headers=headers["rc.api.jp"]
    )
    assert hidden_answer.status_code == 404
    for peer in peers:
        peer.close()
