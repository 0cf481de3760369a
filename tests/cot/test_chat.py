"""GeoChat (`b-t-f`): room, sender, message id, text and addressees read from the event."""

from __future__ import annotations

import pytest

from kyodo.cot import CotError, Detail, GeoChat, parse_event
from kyodo.cot.chat import geochat_detail, geochat_uid

from tests.cot.samples import GEOCHAT, make_event


def test_an_atak_direct_message_is_read() -> None:
    chat = parse_event(GEOCHAT).chat
    assert chat is not None
    assert chat.room == "OSPREY"
    assert chat.room_id == "ANDROID-0b1c"
    assert chat.sender_uid == "ANDROID-589520ccfcd20f01"
    assert chat.sender_callsign == "KESTREL"
    assert chat.message_id == "4f1c2d3e-aaaa"
    assert chat.text == "Landing zone clear & marked"
    assert chat.recipients == ("OSPREY",)


def _chat(detail: str, uid: str = "GeoChat.ANDROID-1.All Chat Rooms.m-1") -> GeoChat:
    chat = make_event(uid=uid, type="b-t-f", detail=Detail(detail)).chat
    assert chat is not None
    return chat


def test_a_room_message_without_link_takes_the_sender_from_chatgrp() -> None:
    chat = _chat(
        '<__chat chatroom="All Chat Rooms" id="All Chat Rooms" senderCallsign="HAWK" '
        'messageId="m-1"><chatgrp uid0="ANDROID-7" uid1="All Chat Rooms"/></__chat>'
        "<remarks>radio check</remarks>"
    )
    assert chat.sender_uid == "ANDROID-7"
    assert chat.recipients == ()


def test_the_uid_supplies_what_the_chat_element_lacks() -> None:
    chat = _chat(
        '<__chat chatroom="Ops.Room" senderCallsign="HAWK"/><remarks>hi</remarks>',
        uid="GeoChat.ANDROID-9.Ops.Room.msg-42",
    )
    assert chat.sender_uid == "ANDROID-9"
    assert chat.message_id == "msg-42"
    assert chat.room_id == "Ops.Room"


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ("<remarks>hi</remarks>", "no <__chat>"),
        ('<__chat senderCallsign="A" messageId="1"/>', "no chatroom"),
    ],
)
def test_a_geochat_without_its_parts_is_refused(detail: str, reason: str) -> None:
    with pytest.raises(CotError, match=reason):
        _chat(detail)


def test_a_geochat_before_2022_has_no_sender_callsign() -> None:
    # ATAK wrote no senderCallsign then: the event's contact names the sender, else its uid.
    chat = _chat(
        '<__chat chatroom="R" messageId="1"/><contact callsign="HAWK"/>',
        uid="GeoChat.ANDROID-9.R.1",
    )
    assert chat.sender_callsign == "HAWK"
    assert _chat('<__chat chatroom="R" messageId="1"/>', uid="GeoChat.A-1.R.1").sender_callsign == (
        "A-1"
    )


def test_a_geochat_with_no_message_id_anywhere_is_refused() -> None:
    with pytest.raises(CotError, match="no messageId"):
        _chat('<__chat chatroom="R" senderCallsign="A"/>', uid="chat-1")


def test_other_types_are_not_chats() -> None:
    assert make_event(type="b-t-f-d", detail=Detail("<__chat chatroom='R'/>")).chat is None


def test_a_message_written_as_geochat_reads_back_the_same() -> None:

    sent = GeoChat(
        room='Harbor "A" & <B>',
        room_id='Harbor "A" & <B>',
        sender_uid="KYODO-1f2e",
        sender_callsign="us.watch",
        message_id="kyodo-42",
        text="Pier 3 <closed> & guarded\nuntil 1800",
    )
    detail = geochat_detail(sent, "2024-05-01T03:05:00.000Z")
    event = make_event(uid=geochat_uid(sent), type="b-t-f", detail=detail)
    assert event.chat == sent
    remarks = detail.find("remarks")
    assert remarks is not None and remarks.get("time") == "2024-05-01T03:05:00.000Z"
    link = detail.find("link")
    assert link is not None and link.get("relation") == "p-p"


def test_characters_xml_cannot_carry_are_replaced() -> None:
    sent = GeoChat("Net", "Net", "KYODO-1", "us.watch", "kyodo-1", "bell\x07 and \x1b[0m")
    assert geochat_detail(sent, "2024-05-01T03:05:00.000Z").remarks == "bell\ufffd and \ufffd[0m"
