"""The TAK server passes events on as sent (but for the label) and sends net messages as GeoChat."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kyodo.cot import Event, EventSplitter, apply_label, parse_event, read_label, serialise_event
from kyodo.cot.framing import TakEventReader
from kyodo.cot.labelling import label_element_xml
from kyodo.cot.negotiation import protocol_request
from kyodo.domain.identity import Person
from kyodo.domain.nets import Net
from kyodo.domain.tracks import Position, TrackReport
from kyodo.labels import parse_marking, render_marking
from kyodo.services import identity, messages, nets, tracks
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.takserver.encoding import track_event
from kyodo.takserver.server import TakServer

from tests.support.factories import add_person
from tests.support.wait import wait_for
from tests.takserver.test_tak_server import (  # the server fixture and its clients
    Peer,
    _pytak_connect,
    _pytak_event,
    plain,
    tak,
    tls,
)

__all__ = ["tak"]
FMT = "%Y-%m-%dT%H:%M:%S.%fZ"


class RawPeer:
    """A client that keeps each event's bytes exactly as they arrive."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.splitter = EventSplitter()
        self.got: list[bytes] = []

    async def expect(self, count: int, wait: float = 5.0) -> list[bytes]:
        async with asyncio.timeout(wait):
            while len(self.got) < count:
                data = await self.peer.read()
                assert data, "connection closed"
                items = self.splitter.feed(data).items
                self.got += [e for e in items if b'type="t-x-takp' not in e]
        return self.got


def odd_event(uid: str, label: bytes = b' access="Undefined"') -> bytes:
    """Valid CoT an XML writer other than Kyodo's might send: its own attribute order and
    quotes, line breaks, numbers with trailing zeros, unknown attributes and elements."""
    now = datetime.now(UTC)
    time, stale = now.strftime(FMT).encode(), (now + timedelta(minutes=5)).strftime(FMT).encode()
    return (
        b"<event how='m-g'\n    uid=\"" + uid.encode() + b'" type="a-f-S-C-L-CC"'
        b' time="' + time + b'" start="' + time + b'" stale="' + stale + b'" qos="1-r-c"'
        b' version="2.0"' + label + b' opex="e-EXERCISE" >\n'
        b'  <point le="9999999.0" ce="12.50" hae="9999999.0" lon="139.6917000" lat="35.6895000"/>\n'
        b"  <detail>\n"
        b'    <contact  callsign="ODD" endpoint="*:-1:stcp"/>\n'
        b"    <x-unknown foo='bar'><nested a=\"1\">text &amp; more &#x41;</nested></x-unknown>\n"
        b'    <track speed="0.00" course="090.0"/>\n'
        b"    <remarks>on station</remarks>\n"
        b"  </detail>\n"
        b"</event>"
    )


def with_label(sent: bytes, old: bytes, new: bytes, element: str) -> bytes:
    """What Kyodo should pass on: the label attributes and the label element changed."""
    return sent.replace(old, new).replace(
        b"\n  </detail>", b"\n  " + element.encode() + b"</detail>"
    )


async def test_an_xml_event_reaches_xml_clients_as_sent_but_for_its_label(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    a, b = await plain(tak), RawPeer(await plain(tak))
    sent = odd_event("odd-1")
    a.send(sent)
    (got,) = await b.expect(1)
    unclassified = parse_marking("UNCLASSIFIED", ctx.registry)
    element = label_element_xml(unclassified, ctx.registry)
    assert got == with_label(sent, b'access="Undefined"', b'access="UNCLASSIFIED"', element)
    # The track is stored from it all the same (and a new client's snapshot is rebuilt from it).
    # CoT positions are written behind their fan-out.
    found = await wait_for(lambda: tracks.list_tracks(ctx, operator), timeout=5)
    (track,) = found
    assert track.position.lat == 35.6895 and track.callsign == "ODD"
    a.close(), b.peer.close()


async def test_a_labelled_event_is_relabelled_in_place_for_other_nations(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "us.sender", clearance="SECRET")
    await add_person(ctx, operator, "jp.reader", nation="JPN", clearance="GOKUHI")
    us = await tls(tak, tmp_path, "us.sender", ctx, operator)
    jp = RawPeer(await tls(tak, tmp_path, "jp.reader", ctx, operator))
    # pytak's spelling of releasability; Kyodo writes the attribute under the schema's name.
    sent = odd_event("shared-1", b' access="SECRET" rel_to="USA,JPN"')
    us.send(sent)
    (got,) = await jp.expect(1)
    label = parse_marking("SECRET//REL TO USA, JPN", ctx.registry)
    element = label_element_xml(label, ctx.registry)
    assert got == with_label(sent, b'rel_to="USA,JPN"', b'releasableTo="USA JPN"', element)
    assert read_label(parse_event(got), ctx.registry).label == label
    us.close(), jp.peer.close()


async def test_protocol_1_clients_get_a_faithful_conversion(tak: TakServer) -> None:
    a, b = await plain(tak), await plain(tak)
    b.send(serialise_event(protocol_request(datetime.now(UTC))))
    async with asyncio.timeout(5):
        seen = b""
        while b"t-x-takp-r" not in seen:
            seen += await b.reader.read(65536)
    b.proto = TakEventReader()
    sent = odd_event("odd-proto")
    a.send(sent)
    (got,) = await b.expect(1)
    assert isinstance(got, Event)
    original = parse_event(sent)
    assert (got.uid, got.type, got.how) == (original.uid, original.type, original.how)
    for name in ("time", "start", "stale"):  # protocol 1 carries milliseconds
        assert abs(getattr(got, name) - getattr(original, name)) < timedelta(milliseconds=1)
    assert got.point == original.point and got.extra == original.extra
    assert got.access == "UNCLASSIFIED" and got.callsign == "ODD"
    assert "<x-unknown foo='bar'><nested a=\"1\">text &amp; more &#x41;</nested>" in got.detail.xml
    a.close(), b.close()


async def test_a_track_from_the_api_is_written_from_the_track(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    watcher = RawPeer(await plain(tak))
    now = datetime.now(UTC)
    report = TrackReport(
        uid="api-1",
        type="a-f-G",
        callsign="API",
        position=Position(35.5, 139.5, now),
        start=now,
        stale=now + timedelta(minutes=5),
        label=parse_marking("UNCLASSIFIED", ctx.registry),
    )
    track = await tracks.report_track(ctx, operator, tak.feed_id, report)
    (got,) = await watcher.expect(1)
    assert got == serialise_event(apply_label(track_event(track), track.label, ctx.registry))
    watcher.peer.close()


async def test_pytak_events_pass_through_unchanged_but_for_the_label(
    tak: TakServer, ctx: ServiceContext
) -> None:
    sender = (
        await Peer(*await _pytak_connect(f"tcp://127.0.0.1:{tak.ports['tcp']}")).ready()
    ).writer
    receiver = RawPeer(
        await Peer(*await _pytak_connect(f"tcp://127.0.0.1:{tak.ports['tcp']}")).ready()
    )
    sent = await _pytak_event("pytak-raw", access="UNCLASSIFIED")
    sender.write(sent)
    await sender.drain()
    (got,) = await receiver.expect(1)
    element = label_element_xml(parse_marking("UNCLASSIFIED", ctx.registry), ctx.registry)
    assert got == sent.replace(b"</detail>", element.encode() + b"</detail>")
    sender.close(), receiver.peer.close()


# GeoChat out ---------------------------------------------------------------------------------


async def _net(ctx: ServiceContext, owner: Person, *members: Person) -> Net:
    net = await nets.create_net(
        ctx,
        person_actor(owner, "api"),
        name="Harbor",
        # Multi-level: each member receives the messages they may read.
        ceiling=parse_marking("SECRET//NOFORN", ctx.registry),
        entry=parse_marking("UNCLASSIFIED", ctx.registry),
        default_label=parse_marking("UNCLASSIFIED", ctx.registry),
    )
    for member in members:
        await nets.add_member(ctx, person_actor(owner, "api"), net.id, member.id)
    return net


async def _post(ctx: ServiceContext, author: Person, net: Net, text: str, marking: str) -> None:
    await messages.post_message(
        ctx,
        person_actor(author, "session"),
        net.id,
        text,
        label=parse_marking(marking, ctx.registry),
    )


def _chat_of(event: object, ctx: ServiceContext) -> tuple[str, str, str, str]:
    assert isinstance(event, Event) and event.type == "b-t-f" and event.chat is not None
    label = read_label(event, ctx.registry).label
    assert label is not None

    chat = event.chat
    return chat.room, chat.sender_callsign, chat.text, render_marking(label, ctx.registry)


async def test_net_messages_go_to_members_tak_clients_that_may_read_them(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    author = await add_person(ctx, operator, "web.author", clearance="SECRET")
    us = await add_person(ctx, operator, "us.member", clearance="SECRET")
    jp = await add_person(ctx, operator, "jp.member", nation="JPN", clearance="GOKUHI")
    await add_person(ctx, operator, "us.outsider", clearance="SECRET")
    net = await _net(ctx, author, us, jp)
    us_tak = await tls(tak, tmp_path, "us.member", ctx, operator)
    jp_tak = await tls(tak, tmp_path, "jp.member", ctx, operator)
    outsider = await tls(tak, tmp_path, "us.outsider", ctx, operator)
    anonymous = await plain(tak)

    await _post(ctx, author, net, "Pier 3 closed & guarded", "SECRET//REL TO USA, JPN")
    await _post(ctx, author, net, "US eyes only: <pier 4>", "SECRET//NOFORN")
    got = await us_tak.expect(2)
    assert [_chat_of(e, ctx) for e in got] == [
        ("Harbor", "web.author", "Pier 3 closed & guarded", "SECRET//REL TO USA, JPN"),
        ("Harbor", "web.author", "US eyes only: <pier 4>", "SECRET//NOFORN"),
    ]
    assert got[0].chat.room_id == "Harbor"  # type: ignore[attr-defined]
    assert got[0].uid != got[1].uid  # type: ignore[attr-defined]
    await jp_tak.expect(1)
    await asyncio.gather(jp_tak.quiet(), outsider.quiet(), anonymous.quiet())
    assert [_chat_of(e, ctx)[2] for e in jp_tak.got] == ["Pier 3 closed & guarded"]
    assert outsider.got == anonymous.got == []
    for peer in (us_tak, jp_tak, outsider, anonymous):
        peer.close()


async def test_geochat_from_a_member_reaches_other_members_but_not_back(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    owner = await add_person(ctx, operator, "chat.sender", clearance="SECRET")
    other = await add_person(ctx, operator, "chat.other", clearance="SECRET")
    await _net(ctx, owner, other)
    sender = await tls(tak, tmp_path, "chat.sender", ctx, operator)
    receiver = await tls(tak, tmp_path, "chat.other", ctx, operator)
    # The receiver speaks TAK protocol 1: it gets the message in protobuf.
    receiver.send(serialise_event(protocol_request(datetime.now(UTC))))
    async with asyncio.timeout(5):
        seen = b""
        while b"t-x-takp-r" not in seen:
            seen += await receiver.reader.read(65536)
    receiver.proto = TakEventReader()
    now = datetime.now(UTC).strftime(FMT)
    later = (datetime.now(UTC) + timedelta(minutes=5)).strftime(FMT)
    sender.send(
        (
            f'<event version="2.0" uid="GeoChat.ANDROID-9.Harbor.m9" type="b-t-f" how="h-g-i-g-o"'
            f' time="{now}" start="{now}" stale="{later}"><point lat="0" lon="0"/><detail>'
            '<__chat chatroom="Harbor" id="Harbor" senderCallsign="SENDER" messageId="m9">'
            '<chatgrp uid0="ANDROID-9" uid1="Harbor" id="Harbor"/></__chat>'
            '<link uid="ANDROID-9" relation="p-p" type="a-f-G"/>'
            f'<remarks source="BAO.F.ATAK.ANDROID-9" to="Harbor" time="{now}">Radio check'
            "</remarks></detail></event>"
        ).encode()
    )
    (got,) = await receiver.expect(1)
    # Passed on as sent: the sender's own callsign, not its Kyodo username.
    assert _chat_of(got, ctx) == ("Harbor", "SENDER", "Radio check", "UNCLASSIFIED")
    await sender.quiet()
    sender.close(), receiver.close()


async def test_membership_changes_reach_the_tak_side(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    owner = await add_person(ctx, operator, "net.owner", clearance="SECRET")
    late = await add_person(ctx, operator, "late.joiner", clearance="SECRET")
    net = await _net(ctx, owner)
    peer = await tls(tak, tmp_path, "late.joiner", ctx, operator)
    await _post(ctx, owner, net, "before joining", "UNCLASSIFIED")
    await peer.quiet()
    await nets.add_member(ctx, person_actor(owner, "api"), net.id, late.id)
    await _post(ctx, owner, net, "after joining", "UNCLASSIFIED")
    (got,) = await peer.expect(1)
    assert _chat_of(got, ctx)[2] == "after joining"
    await nets.remove_member(ctx, person_actor(owner, "api"), net.id, late.id)
    await _post(ctx, owner, net, "after leaving", "UNCLASSIFIED")
    await peer.quiet()
    peer.close()


async def test_only_new_messages_are_sent(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    owner = await add_person(ctx, operator, "edit.owner", clearance="SECRET")
    reader = await add_person(ctx, operator, "edit.reader", clearance="SECRET")
    net = await _net(ctx, owner, reader)
    peer = await tls(tak, tmp_path, "edit.reader", ctx, operator)
    posted = await messages.post_message(ctx, person_actor(owner, "session"), net.id, "typo")
    await peer.expect(1)
    await messages.delete_message(ctx, person_actor(owner, "session"), posted.message.seq)
    await peer.quiet()
    peer.close()


async def test_a_lowered_clearance_holds_for_a_connected_client(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:

    await add_person(ctx, operator, "us.sender2", clearance="SECRET")
    watcher = await add_person(ctx, operator, "us.lowered", clearance="SECRET")
    sender = await tls(tak, tmp_path, "us.sender2", ctx, operator)
    peer = await tls(tak, tmp_path, "us.lowered", ctx, operator)
    sender.send(odd_event("before", b' access="SECRET" releasableTo="USA JPN"'))
    await peer.expect(1)
    changes = identity.PersonChanges(clearance="UNCLASSIFIED")
    await identity.update_person(ctx, operator, watcher.id, changes)
    sender.send(odd_event("after", b' access="SECRET" releasableTo="USA JPN"'))
    sender.send(odd_event("open", b' access="UNCLASSIFIED"'))
    await peer.expect(2)
    await peer.quiet()
    assert [e.uid for e in peer.got] == ["before", "open"]  # type: ignore[attr-defined]
    sender.close(), peer.close()
