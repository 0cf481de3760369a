"""A TAK client's `<auth>`: split out of the stream, parsed hardened, its password never shown."""

from __future__ import annotations

import pytest

from kyodo.cot import (
    CotError,
    Credentials,
    EventSplitter,
    XmlEventReader,
    parse_auth,
    serialise_auth,
)
from kyodo.cot.auth import MAX_AUTH_BYTES

from tests.cot.samples import SHIP

SECRET = "s3cr3t-Passw0rd"
# As ATAK sends it: a declaration, then the element, right before its first event.
AUTH = (
    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    b'<auth><cot username="us.pilot" password="' + SECRET.encode() + b'" uid="ANDROID-1"/></auth>'
)


def test_auth_is_read_as_credentials_in_its_place() -> None:
    batch = XmlEventReader().feed(AUTH + SHIP)
    assert batch.refusals == []
    credentials, event = batch.items
    assert credentials == Credentials("us.pilot", SECRET, "ANDROID-1")
    assert SECRET not in repr(credentials)
    assert getattr(event, "uid", None) == "JMSDF-DDH-183"


@pytest.mark.parametrize("cut", range(1, len(AUTH) + len(SHIP)))
def test_auth_split_anywhere(cut: int) -> None:
    stream = AUTH + SHIP
    reader = XmlEventReader()
    items = [*reader.feed(stream[:cut]).items, *reader.feed(stream[cut:]).items]
    assert [type(item).__name__ for item in items] == ["Credentials", "Event"]
    assert reader.refused == 0


@pytest.mark.parametrize(
    "element",
    [
        b"<auth><cot username='a'/></auth>",  # no password
        b"<auth><cot password='" + SECRET.encode() + b"'/></auth>",  # no username
        b"<auth></auth>",
        b"<auth><cot username='a' password='" + SECRET.encode() + b"'></auth>",  # malformed
        b'<!DOCTYPE auth [<!ENTITY x "y">]><auth><cot username="a" password="&x;"/></auth>',
    ],
)
def test_a_bad_auth_is_refused_without_quoting_it(element: bytes) -> None:
    with pytest.raises(CotError) as raised:
        parse_auth(element)
    assert SECRET not in raised.value.message
    batch = XmlEventReader().feed(element + SHIP)
    assert len(batch.items) == 1  # the event after it is read
    assert all(SECRET not in str(r) for r in batch.refusals)


def test_an_unclosed_auth_is_refused_at_the_next_event() -> None:
    cut = AUTH[: AUTH.index(b"</auth>")]
    splitter = EventSplitter()
    batch = splitter.feed(cut + SHIP)
    assert batch.items == [SHIP]
    assert [r.reason for r in batch.refusals] == ["an <auth> not closed before the next <event>"]
    assert SECRET not in str(batch.refusals[0])


def test_an_endless_auth_is_dropped_at_its_cap() -> None:
    splitter = EventSplitter(max_event_bytes=2048)
    splitter.feed(b"<auth><cot username='a' password='")
    for _ in range(10):
        batch = splitter.feed(b"x" * 1000)
        assert splitter.buffered <= MAX_AUTH_BYTES + 1000
    refused = splitter.refused
    assert refused >= 1
    assert splitter.feed(b"'/></auth>" + SHIP).items == [SHIP]
    assert all("x" not in r.reason for r in batch.refusals)


def test_credentials_written_and_read_back() -> None:
    credentials = Credentials('a "quoted" <user>', "p&ss\tword", "ANDROID-9", "HAWK")
    assert parse_auth(serialise_auth(credentials)) == credentials
