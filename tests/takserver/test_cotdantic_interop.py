"""Interop with cotdantic, a second CoT library independent of Kyodo and pytak: events it builds
(a position, a GeoChat and its receipts, a shape) are accepted and relayed by Kyodo, and what
Kyodo sends parses in cotdantic, as XML and as TAK protocol 1."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from cotdantic import Chat, ChatGroup, Detail, Event, Link, Point, Remarks, converters
from cotdantic.templates import ack_message, default_blue_force

from kyodo.cot import parse_event, serialise_event
from kyodo.cot.negotiation import protocol_request
from kyodo.services import tracks
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.takserver.server import TakServer

from tests.support.wait import wait_for
from tests.takserver.test_passthrough_and_chat import RawPeer
from tests.takserver.test_tak_server import Peer, plain, tak

__all__ = ["tak"]
# cotdantic 2.2 reads `model_fields` off instances, which pydantic 2.11 deprecates: its warning,
# not Kyodo's.
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")


def _position() -> Event:
    return default_blue_force("ANDROID-CD", "CD-1", "Cyan", "Team Member", "10.0.0.1", 35.1, 139.2)


def _chat() -> Event:
    chat = Chat(
        id="All Chat Rooms",
        chatroom="All Chat Rooms",
        sender_callsign="CD-1",
        group_owner=False,
        message_id="cd-message-1",
        parent="RootContactGroup",
        chatgrp=ChatGroup(id="All Chat Rooms", uid0="ANDROID-CD", uid1="All Chat Rooms"),
    )
    detail = Detail(
        chat=chat,
        link=[Link(type="a-f-G-U-C-I", uid="ANDROID-CD", relation="p-p")],
        remarks=Remarks(source="BAO.F.ATAK.ANDROID-CD", to="All Chat Rooms", text="radio check"),
    )
    return Event(
        uid="GeoChat.ANDROID-CD.All Chat Rooms.cd-message-1",
        type="b-t-f",
        how="h-g-i-g-o",
        point=Point(lat=35.1, lon=139.2),
        detail=detail,
    )


def _shape() -> Event:
    corners = ["35.0,139.0", "35.0,139.2", "35.2,139.2", "35.2,139.0", "35.0,139.0"]
    detail = Detail(link=[Link(point=p) for p in corners])
    return Event(uid="cd-shape", type="u-d-f", how="h-e", point=Point(lat=0, lon=0), detail=detail)


def _xml(event: Event) -> bytes:
    return bytes(event.to_xml())


async def test_cotdantic_events_are_accepted_relayed_and_parse_back_in_cotdantic(
    tak: TakServer, ctx: ServiceContext, operator: Actor
) -> None:
    sender, reader = await plain(tak), RawPeer(await plain(tak))
    chat = _chat()
    delivered, read = ack_message(chat)
    try:
        for event in (_position(), chat, _shape(), delivered, read):
            sender.send(_xml(event))
        relayed = await reader.expect(5)
        parsed = [Event.from_xml(raw) for raw in relayed]
        assert [(e.type, e.uid) for e in parsed] == [
            ("a-f-G-U-C-I", "ANDROID-CD"),
            ("b-t-f", "GeoChat.ANDROID-CD.All Chat Rooms.cd-message-1"),
            ("u-d-f", "cd-shape"),
            ("b-t-f-d", "cd-message-1"),
            ("b-t-f-r", "cd-message-1"),
        ]
        assert (parsed[0].point.lat, parsed[0].point.lon) == (35.1, 139.2)
        assert parsed[0].detail is not None and parsed[0].detail.contact is not None
        assert parsed[0].detail.contact.callsign == "CD-1"
        assert parsed[1].detail is not None and parsed[1].detail.remarks is not None
        assert parsed[1].detail.remarks.text == "radio check"
        assert parsed[1].detail.chat is not None
        assert parsed[1].detail.chat.sender_callsign == "CD-1"
        assert parsed[2].detail is not None and len(parsed[2].detail.link) == 5
        # Kyodo labels what it relays; cotdantic reads the label attribute too.
        assert all(e.access == "UNCLASSIFIED" for e in parsed)

        async def stored() -> dict[str, str]:
            found = await tracks.list_tracks(ctx, operator, include_stale=True)
            return {t.uid: t.type for t in found} if len(found) >= 2 else {}

        # The position and the shape are tracks; the chat and its receipts are not.
        assert await wait_for(stored, timeout=5) == {
            "ANDROID-CD": "a-f-G-U-C-I",
            "cd-shape": "u-d-f",
        }
        assert [client.refused for client in tak.clients] == [0, 0]
    finally:
        sender.close(), reader.peer.close()


def _frames(data: bytes) -> tuple[list[bytes], bytes]:
    """TAK protocol 1 stream frames (0xbf, varint length, TakMessage) and what is left over."""
    found: list[bytes] = []
    while data[:1] == b"\xbf":
        length, shift, at = 0, 0, 1
        while at < len(data):
            byte = data[at]
            length |= (byte & 0x7F) << shift
            at, shift = at + 1, shift + 7
            if not byte & 0x80:
                break
        else:
            break
        if len(data) < at + length:
            break
        found.append(data[at : at + length])
        data = data[at + length :]
    return found, data


async def _protocol_1_peer(tak: TakServer) -> Peer:
    peer = await plain(tak)
    peer.send(serialise_event(protocol_request(datetime.now(UTC))))
    seen = peer.pending
    async with asyncio.timeout(5):
        while b"t-x-takp-r" not in seen:
            seen += await peer.reader.read(65536)
    peer.pending = seen[seen.index(b"</event>", seen.index(b"t-x-takp-r")) + len(b"</event>") :]
    return peer


async def test_kyodo_protocol_1_parses_in_cotdantic_and_cotdantic_protocol_1_is_accepted(
    tak: TakServer,
) -> None:
    xml_sender = await plain(tak)
    proto = await _protocol_1_peer(tak)
    try:
        xml_sender.send(_xml(_position()))
        data = proto.pending.lstrip()
        frames: list[bytes] = []
        async with asyncio.timeout(5):
            while not frames:
                data += await proto.reader.read(65536)
                frames, data = _frames(data)
        # cotdantic reads a TakMessage behind its mesh header (it has no stream reader).
        got = Event.from_bytes(b"\xbf\x01\xbf" + frames[0])
        assert (got.type, got.uid, got.point.lat, got.point.lon) == (
            "a-f-G-U-C-I",
            "ANDROID-CD",
            35.1,
            139.2,
        )
        assert got.detail is not None and got.detail.contact is not None
        assert got.detail.contact.callsign == "CD-1"
        # And the other way: cotdantic's TakMessage, in stream framing, from a protocol 1 client.
        shape = bytes(converters.model2message(_shape()))
        proto.send(b"\xbf" + _varint(len(shape)) + shape)
        (relayed,) = await xml_sender.expect(1)
        assert parse_event(serialise_event(relayed)).type == "u-d-f"  # type: ignore[arg-type]
        assert relayed.uid == "cd-shape"  # type: ignore[attr-defined]
    finally:
        xml_sender.close(), proto.close()


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


@pytest.mark.parametrize("make", [_position, _chat, _shape])
def test_kyodo_parses_what_cotdantic_writes(make: object) -> None:
    event = make()  # type: ignore[operator]
    parsed = parse_event(_xml(event))
    assert (parsed.uid, parsed.type) == (event.uid, event.type)
