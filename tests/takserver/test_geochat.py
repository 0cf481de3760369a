"""GeoChat as TAK clients send it: rooms mapped to nets, direct messages, answers, plain TCP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kyodo.audit.chain import AuditRecord
from kyodo.cot import Detail, Event
from kyodo.cot.chat import read_geochat
from kyodo.domain.identity import Person
from kyodo.domain.nets import Net
from kyodo.errors import NotFound
from kyodo.labels import parse_marking
from kyodo.services import messages, nets
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.takserver.geochat import ANSWERS, answer_text, direct_net_name, language_of
from kyodo.takserver.server import TakServer

from tests.support.factories import add_person
from tests.support.wait import wait_for
from tests.takserver.test_tak_server import plain, tak, tls

__all__ = ["tak"]
FMT = "%Y-%m-%dT%H:%M:%S.%fZ"


def chat(
    uid: str,
    callsign: str | None,
    room: str,
    text: str,
    *,
    room_id: str | None = None,
    message_id: str = "m1",
    dests: tuple[str, ...] = (),
    dest_uids: tuple[str, ...] = (),
    label: str = "",
    contact: str | None = None,
) -> bytes:
    """A GeoChat as ATAK writes one (`callsign` None: as ATAK wrote it before 2022)."""
    now = datetime.now(UTC)
    time, stale = now.strftime(FMT), (now + timedelta(days=1)).strftime(FMT)
    room_id = room_id or room
    sender = f' senderCallsign="{callsign}"' if callsign is not None else ""
    marti = "".join(f'<dest callsign="{d}"/>' for d in dests)
    marti += "".join(f'<dest uid="{d}"/>' for d in dest_uids)
    return (
        f'<event version="2.0" uid="GeoChat.{uid}.{room_id}.{message_id}" type="b-t-f"'
        f' how="h-g-i-g-o" time="{time}" start="{time}" stale="{stale}"{label}>'
        '<point lat="35.1234" lon="139.5678" hae="12.5" ce="9.0" le="9999999.0"/><detail>'
        f'<__chat parent="RootContactGroup" groupOwner="false" messageId="{message_id}"'
        f' chatroom="{room}" id="{room_id}"{sender}>'
        f'<chatgrp uid0="{uid}" uid1="{room_id}" id="{room_id}"/></__chat>'
        f'<link uid="{uid}" type="a-f-G-U-C" relation="p-p"/>'
        + (f'<contact callsign="{contact}"/>' if contact else "")
        + (f"<marti>{marti}</marti>" if marti else "")
        + f'<remarks source="BAO.F.ATAK.{uid}" to="{room_id}" time="{time}">{text}</remarks>'
        "</detail></event>"
    ).encode()


def presence(uid: str, callsign: str) -> bytes:
    """A client's own position report (ATAK's self PLI: a contact with an endpoint)."""
    now = datetime.now(UTC)
    time, stale = now.strftime(FMT), (now + timedelta(minutes=5)).strftime(FMT)
    return (
        f'<event version="2.0" uid="{uid}" type="a-f-G-U-C" how="m-g" time="{time}"'
        f' start="{time}" stale="{stale}"><point lat="35.0" lon="139.0" hae="0" ce="9" le="9"/>'
        f'<detail><contact callsign="{callsign}" endpoint="*:-1:stcp"/></detail></event>'
    ).encode()


async def _net(ctx: ServiceContext, owner: Person, *members: Person, name: str = "Harbor") -> Net:
    net = await nets.create_net(
        ctx,
        person_actor(owner, "api"),
        name=name,
        ceiling=parse_marking("SECRET//NOFORN", ctx.registry),
        entry=parse_marking("UNCLASSIFIED", ctx.registry),
        default_label=parse_marking("UNCLASSIFIED", ctx.registry),
    )
    for member in members:
        await nets.add_member(ctx, person_actor(owner, "api"), net.id, member.id)
    return net


async def _direct(ctx: ServiceContext, person: Person, name: str) -> Net | None:
    try:
        return await nets.find_net(ctx, person_actor(person, "api"), name)
    except NotFound:
        return None


def _chat_of(event: object) -> Event:
    assert isinstance(event, Event) and event.type == "b-t-f" and event.chat is not None
    return event


async def test_all_chat_rooms_reach_the_default_net_with_the_senders_identity(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    alpha = await add_person(ctx, operator, "gc.alpha")
    bravo = await add_person(ctx, operator, "gc.bravo")
    await add_person(ctx, operator, "gc.outsider")
    net = await _net(ctx, alpha, bravo)
    tak.geochat.default_nets = {"*": "Harbor"}
    a = await tls(tak, tmp_path, "gc.alpha", ctx, operator)
    b = await tls(tak, tmp_path, "gc.bravo", ctx, operator)
    outsider = await tls(tak, tmp_path, "gc.outsider", ctx, operator)
    a.send(chat("ANDROID-A", "ALPHA", "All Chat Rooms", "Radio check", message_id="u1"))
    (got,) = await b.expect(1)
    event = _chat_of(got)
    assert event.uid == "GeoChat.ANDROID-A.All Chat Rooms.u1"
    assert event.chat is not None
    assert (event.chat.room, event.chat.sender_callsign, event.chat.sender_uid) == (
        "All Chat Rooms",
        "ALPHA",
        "ANDROID-A",
    )
    assert event.point is not None and (event.point.lat, event.point.lon) == (35.1234, 139.5678)
    assert event.access == "UNCLASSIFIED"
    await outsider.quiet()
    await a.quiet()  # neither echoed nor answered
    (stored,) = await messages.list_messages(ctx, person_actor(bravo, "api"), net.id)
    assert stored.message.text == "Radio check" and stored.author == "gc.alpha"
    for peer in (a, b, outsider):
        peer.close()


async def test_a_team_colour_no_net_is_configured_for_goes_where_all_chat_rooms_goes(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    alpha = await add_person(ctx, operator, "gc.team.a")
    bravo = await add_person(ctx, operator, "gc.team.b")
    net = await _net(ctx, alpha, bravo)
    tak.geochat.default_nets = {"*": "Harbor"}
    a = await tls(tak, tmp_path, "gc.team.a", ctx, operator)
    b = await tls(tak, tmp_path, "gc.team.b", ctx, operator)
    a.send(chat("ANDROID-A", "ALPHA", "Dark Blue", "Team, rally on me", message_id="t1"))
    (got,) = await b.expect(1)
    assert _chat_of(got).chat.room == "Dark Blue"  # type: ignore[union-attr]
    (stored,) = await messages.list_messages(ctx, person_actor(bravo, "api"), net.id)
    assert stored.message.text == "Team, rally on me"
    a.close(), b.close()


async def test_a_noforn_chat_in_a_room_never_reaches_a_japanese_member(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    us = await add_person(ctx, operator, "gc.us")
    us2 = await add_person(ctx, operator, "gc.us2")
    jp = await add_person(ctx, operator, "gc.jp", nation="JPN", clearance="GOKUHI")
    await _net(ctx, us, us2, jp, name="Red Team")
    tak.geochat.rooms = {"Red": "Red Team"}
    a = await tls(tak, tmp_path, "gc.us", ctx, operator)
    b = await tls(tak, tmp_path, "gc.us2", ctx, operator)
    j = await tls(tak, tmp_path, "gc.jp", ctx, operator)
    a.send(
        chat("ANDROID-U", "UNIFORM", "Red", "US only", label=' access="SECRET" releasableTo="USA"')
    )
    a.send(chat("ANDROID-U", "UNIFORM", "Red", "for all", message_id="m2"))
    got = await b.expect(2)
    assert [_chat_of(e).chat.text for e in got] == ["US only", "for all"]  # type: ignore[union-attr]
    (shared,) = await j.expect(1)
    assert _chat_of(shared).chat.text == "for all"  # type: ignore[union-attr]
    await j.quiet()
    for peer in (a, b, j):
        peer.close()


async def test_a_refused_chat_is_answered_in_the_senders_language(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "gc.en")
    await add_person(ctx, operator, "gc.ja", nation="JPN", clearance="GOKUHI")
    en = await tls(tak, tmp_path, "gc.en", ctx, operator)
    ja = await tls(tak, tmp_path, "gc.ja", ctx, operator)
    en.send(chat("ANDROID-E", "ECHO", "All Chat Rooms", "anyone?"))
    ja.send(chat("ANDROID-J", "JULIET", "Cyan", "誰かいますか"))
    (answer,) = await en.expect(1)
    event = _chat_of(answer)
    assert event.chat is not None
    assert (event.chat.room, event.chat.sender_callsign) == ("All Chat Rooms", "Kyodo")
    assert event.chat.text.startswith("Not delivered") and "All Chat Rooms" in event.chat.text
    (answer,) = await ja.expect(1)
    event = _chat_of(answer)
    assert event.chat is not None
    assert (event.chat.room, event.chat.sender_callsign) == ("Cyan", "Kyodo")
    assert event.chat.text.startswith("未配信") and "Cyan" in event.chat.text
    # Answered, and still audited (the first refusal of each connection in full).
    records = await wait_for(lambda: _denied(ctx, "chat.post"))
    assert {r.entry.actor for r in records} == {"gc.en", "gc.ja"}
    en.close(), ja.close()


async def _denied(ctx: ServiceContext, action: str) -> list[AuditRecord]:
    async with ctx.db.transaction(write=False) as tx:
        found = [
            r
            async for r in tx.audit.walk()
            if r.entry.action == action and r.entry.decision == "deny"
        ]
    return found if len(found) >= 2 else []


async def test_a_direct_message_reaches_only_its_addressee_and_the_web(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    alpha = await add_person(ctx, operator, "dm.alpha")
    bravo = await add_person(ctx, operator, "dm.bravo")
    charlie = await add_person(ctx, operator, "dm.charlie")
    await _net(ctx, alpha, bravo, charlie)  # all three share a net: the message must not
    a = await tls(tak, tmp_path, "dm.alpha", ctx, operator)
    b = await tls(tak, tmp_path, "dm.bravo", ctx, operator)
    c = await tls(tak, tmp_path, "dm.charlie", ctx, operator)
    b.send(presence("ANDROID-B", "BRAVO"))
    await a.expect(1)  # bravo's position: the server knows its callsign now
    await c.expect(1)
    a.send(chat("ANDROID-A", "ALPHA", "BRAVO", "just you", room_id="ANDROID-B", dests=("BRAVO",)))
    (got,) = await b.expect(1)
    event = _chat_of(got)
    assert event.chat is not None
    assert (event.chat.room, event.chat.text, event.chat.sender_uid) == (
        "BRAVO",
        "just you",
        "ANDROID-A",
    )
    await c.quiet()
    await a.quiet()
    # A direct conversation in Kyodo: a net of just the two, seen on the web.
    net = await nets.find_net(ctx, person_actor(bravo, "api"), "DM dm.alpha / dm.bravo")
    assert net.name == direct_net_name(["dm.bravo", "dm.alpha"])
    members = await nets.list_members(ctx, person_actor(alpha, "api"), net.id)
    assert {m.person_id for m in members} == {alpha.id, bravo.id}
    # The answer from the web goes to alpha's device as a one-to-one chat with bravo.
    await messages.post_message(ctx, person_actor(bravo, "session"), net.id, "roger")
    reply = (await a.expect(2))[-1]
    event = _chat_of(reply)
    assert event.chat is not None
    assert (event.chat.room, event.chat.text, event.chat.sender_callsign) == (
        "dm.bravo",
        "roger",
        "dm.bravo",
    )
    await c.quiet()
    assert charlie.id not in {m.person_id for m in members}
    for peer in (a, b, c):
        peer.close()


async def test_a_noforn_direct_message_never_reaches_a_japanese_addressee(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "dm.us")
    await add_person(ctx, operator, "dm.jp", nation="JPN", clearance="GOKUHI")
    us = await tls(tak, tmp_path, "dm.us", ctx, operator)
    jp = await tls(tak, tmp_path, "dm.jp", ctx, operator)
    jp.send(presence("ANDROID-JP", "KILO"))
    await us.expect(1)
    us.send(
        chat(
            "ANDROID-US",
            "UNIFORM",
            "KILO",
            "US eyes only",
            room_id="ANDROID-JP",
            dests=("KILO",),
            label=' access="SECRET" releasableTo="USA"',
        )
    )
    answer = (await us.expect(2))[-1]
    event = _chat_of(answer)
    assert event.chat is not None and event.chat.sender_callsign == "Kyodo"
    assert "dm.jp" in event.chat.text and event.chat.text.startswith("Not delivered")
    await jp.quiet()
    us.close(), jp.close()


async def test_a_direct_message_by_uid_and_to_an_offline_person_by_username(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    alpha = await add_person(ctx, operator, "uid.alpha")
    await add_person(ctx, operator, "uid.bravo")
    offline = await add_person(ctx, operator, "uid.offline")
    a = await tls(tak, tmp_path, "uid.alpha", ctx, operator)
    b = await tls(tak, tmp_path, "uid.bravo", ctx, operator)
    b.send(presence("IOS-B", "BRAVO"))
    await a.expect(1)
    # iTAK and CloudTAK address by uid.
    a.send(chat("ANDROID-A", "ALPHA", "BRAVO", "by uid", room_id="IOS-B", dest_uids=("IOS-B",)))
    (got,) = await b.expect(1)
    assert _chat_of(got).chat.text == "by uid"  # type: ignore[union-attr]
    a.send(chat("ANDROID-A", "ALPHA", "uid.offline", "later", dests=("uid.offline",)))
    net = await wait_for(lambda: _direct(ctx, offline, "DM uid.alpha / uid.offline"))
    reader = person_actor(offline, "api")
    (stored,) = await wait_for(lambda: messages.list_messages(ctx, reader, net.id))
    assert stored.message.text == "later" and stored.author == alpha.username
    await b.quiet()
    a.close(), b.close()


async def test_pre_2022_geochat_without_sender_callsign_is_accepted(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    old = chat("ANDROID-O", None, "Harbor", "old client", contact="OSCAR")
    event_chat = read_geochat(
        "GeoChat.ANDROID-O.Harbor.m1",
        Detail(old.split(b"<detail>")[1].split(b"</detail>")[0].decode()),
    )
    assert event_chat.sender_callsign == "OSCAR"
    owner = await add_person(ctx, operator, "old.owner")
    other = await add_person(ctx, operator, "old.other")
    await _net(ctx, owner, other)
    a = await tls(tak, tmp_path, "old.owner", ctx, operator)
    b = await tls(tak, tmp_path, "old.other", ctx, operator)
    a.send(old)
    (got,) = await b.expect(1)
    assert _chat_of(got).chat.sender_callsign == "OSCAR"  # type: ignore[union-attr]
    a.close(), b.close()


async def test_plain_clients_chat_among_themselves_within_their_clearance(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "plain.watch")
    a, b = await plain(tak), await plain(tak)
    person = await tls(tak, tmp_path, "plain.watch", ctx, operator)
    a.send(chat("ANDROID-P1", "PAPA", "All Chat Rooms", "anyone on plain?"))
    (got,) = await b.expect(1)
    event = _chat_of(got)
    assert event.chat is not None and event.chat.sender_callsign == "PAPA"
    assert event.access == "UNCLASSIFIED"
    a.send(chat("ANDROID-P1", "PAPA", "All Chat Rooms", "secret", label=' access="SECRET"'))
    (answer,) = await a.expect(1)
    assert _chat_of(answer).chat.sender_callsign == "Kyodo"  # type: ignore[union-attr]
    await b.quiet()
    await person.quiet()
    for peer in (a, b, person):
        peer.close()


def test_direct_net_names_are_one_per_set_of_people() -> None:
    assert direct_net_name(["b.user", "a.user"]) == direct_net_name(["a.user", "b.user", "a.user"])
    assert direct_net_name(["a.user", "b.user"]) == "DM a.user / b.user"
    odd = direct_net_name(["x@example.org", "y"])  # not a net name as it is: a digest
    assert odd.startswith("DM ") and "@" not in odd
    assert len(direct_net_name([f"user{n:03d}" for n in range(30)])) <= 100


async def test_answers_speak_the_senders_language(ctx: ServiceContext) -> None:
    def person(nation: str, language: str | None) -> Person:
        label = parse_marking("UNCLASSIFIED", ctx.registry)
        return Person("p", "p", "P", nation, "SECRET", 30, label, language=language)

    assert language_of(person("JPN", None)) == "ja"
    assert language_of(person("JPN", "en")) == "en"
    assert language_of(person("USA", "ja")) == "ja"
    assert language_of(None) == "en"
    for key, texts in ANSWERS.items():
        assert set(texts) == {"en", "ja"}, key
    assert answer_text("no_net", "ja", room="Red").startswith("未配信")


async def test_a_group_chat_reaches_its_addressees_only(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    people = [await add_person(ctx, operator, f"grp.{n}") for n in ("a", "b", "c", "d")]
    a, b, c, d = [await tls(tak, tmp_path, p.username, ctx, operator) for p in people]
    b.send(presence("ANDROID-B", "BRAVO"))
    c.send(presence("ANDROID-C", "CHARLIE"))
    d.send(presence("ANDROID-D", "DELTA"))
    await a.expect(3)
    await d.expect(2)
    # An ATAK user group: its own room name, a <dest> per member.
    a.send(chat("ANDROID-A", "ALPHA", "Squad", "form up", dests=("BRAVO", "CHARLIE")))
    assert _chat_of((await b.expect(3))[-1]).chat.text == "form up"  # type: ignore[union-attr]
    assert _chat_of((await c.expect(3))[-1]).chat.text == "form up"  # type: ignore[union-attr]
    await d.quiet()
    # One direct conversation of the three, named after them all.
    name = direct_net_name(p.username for p in people[:3])
    net = await nets.find_net(ctx, person_actor(people[0], "api"), name)
    members = await nets.list_members(ctx, person_actor(people[0], "api"), net.id)
    assert {m.person_id for m in members} == {p.id for p in people[:3]}
    for peer in (a, b, c, d):
        peer.close()


async def test_a_callsign_two_people_claim_is_refused_not_guessed(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "amb.sender")
    await add_person(ctx, operator, "amb.real")
    await add_person(ctx, operator, "amb.spoof")
    sender = await tls(tak, tmp_path, "amb.sender", ctx, operator)
    real = await tls(tak, tmp_path, "amb.real", ctx, operator)
    spoof = await tls(tak, tmp_path, "amb.spoof", ctx, operator)
    real.send(presence("ANDROID-R", "ROMEO"))
    spoof.send(presence("ANDROID-S", "ROMEO"))
    await sender.expect(2)
    sender.send(chat("ANDROID-X", "XRAY", "ROMEO", "for romeo", dests=("ROMEO",)))
    answer = _chat_of((await sender.expect(3))[-1])
    assert answer.chat is not None and answer.chat.sender_callsign == "Kyodo"
    assert "ROMEO" in answer.chat.text
    await real.expect(1)  # spoof's position only
    await spoof.expect(1)
    await real.quiet()
    await spoof.quiet()
    for peer in (sender, real, spoof):
        peer.close()
