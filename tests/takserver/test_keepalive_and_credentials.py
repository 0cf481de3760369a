"""Pings answered on every transport and format; `<auth>` credentials used, never logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from kyodo.cot import TakEventReader, serialise_event
from kyodo.cot.framing import frame_stream
from kyodo.cot.keepalive import PONG_TYPE, ping
from kyodo.cot.negotiation import protocol_request
from kyodo.cot.tak import event_to_message
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.takserver.server import TakServer

from tests.support.factories import PASSWORD, add_person
from tests.takserver.test_tak_server import Peer, cot, plain, stranger, tak, tls

__all__ = ["tak"]
WRONG = "Wr0ng-but-Secret-Pa55"


def auth(username: str, password: str) -> bytes:
    """What ATAK sends first when credentials are configured."""
    return (
        b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        + f'<auth><cot username="{username}" password="{password}" uid="ANDROID-{username}"/>'
        f"</auth>".encode()
    )


def _ping() -> bytes:
    return serialise_event(ping(datetime.now(UTC), uid="ANDROID-1-ping"))


def _assert_pong(event: object) -> None:
    assert getattr(event, "type", None) == PONG_TYPE
    assert (event.uid, event.how) == ("takPong", "h-g-i-g-o")  # type: ignore[attr-defined]
    assert event.point is not None and (event.point.lat, event.point.lon) == (0, 0)  # type: ignore[attr-defined]
    lifetime = event.stale - event.time  # type: ignore[attr-defined]
    assert timedelta(seconds=19) <= lifetime <= timedelta(seconds=21)


async def _closed(reader: asyncio.StreamReader) -> None:
    async with asyncio.timeout(5):
        with contextlib.suppress(ConnectionResetError):
            while await reader.read(65536):
                pass


async def test_a_ping_is_answered_over_plain_tcp_in_xml(tak: TakServer) -> None:
    a = await plain(tak)
    a.send(_ping())
    (event,) = await a.expect(1)
    _assert_pong(event)
    a.close()


async def test_a_ping_is_answered_over_tls(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "us.pinger")
    a = await tls(tak, tmp_path, "us.pinger", ctx, operator)
    a.send(_ping())
    (event,) = await a.expect(1)
    _assert_pong(event)
    a.close()


async def test_a_ping_is_answered_in_protocol_1(tak: TakServer) -> None:
    a = await plain(tak)
    a.send(serialise_event(protocol_request(datetime.now(UTC))))
    async with asyncio.timeout(5):
        seen = b""
        while b"t-x-takp-r" not in seen:
            seen += await a.reader.read(65536)
    a.proto = TakEventReader()
    a.send(frame_stream(event_to_message(ping(datetime.now(UTC), uid="ANDROID-2-ping"))))
    (event,) = await a.expect(1)
    _assert_pong(event)
    a.close()


async def test_pings_are_answered_at_most_once_a_second(tak: TakServer) -> None:
    a = await plain(tak)
    a.send(_ping() * 5)
    await a.expect(1)
    await a.quiet()
    a.close()


async def _secret_source(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> Peer:
    """A TLS client cleared to send SECRET//REL TO USA, JPN tracks (the feed's ceiling)."""
    await add_person(ctx, operator, "us.source", clearance="SECRET")
    return await tls(tak, tmp_path, "us.source", ctx, operator)


async def test_tls_credentials_make_an_unregistered_certificate_a_person(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "us.pilot", clearance="SECRET")
    source = await _secret_source(tak, ctx, operator, tmp_path)
    reader, writer = await stranger(tak, tmp_path)
    writer.write(auth("us.pilot", PASSWORD))
    pilot = await Peer(reader, writer).ready()
    source.send(cot("secret-track", access="SECRET", relto="USA JPN"))
    (event,) = await pilot.expect(1)
    assert event.uid == "secret-track"  # type: ignore[attr-defined]
    assert ("us.pilot", "auth.login", {"address": "127.0.0.1", "via": "cot"}) in await _audit(ctx)
    pilot.close(), source.close()


async def test_a_wrong_password_over_tls_is_refused_audited_and_closed(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "us.pilot", clearance="SECRET")
    reader, writer = await stranger(tak, tmp_path)
    writer.write(auth("us.pilot", WRONG) + cot("after-auth"))
    await _closed(reader)
    assert ("us.pilot", "auth.login_failed", {"address": "127.0.0.1"}) in await _audit(ctx)
    assert not tak.clients
    writer.close()


async def test_with_a_registered_certificate_the_certificate_decides(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "jp.holder", nation="JPN", clearance="HI")
    await add_person(ctx, operator, "us.pilot", clearance="SECRET")
    source = await _secret_source(tak, ctx, operator, tmp_path)
    # The credentials name someone else (with a wrong password): ignored, unchecked.
    holder = await tls(tak, tmp_path, "jp.holder", ctx, operator, auth("us.pilot", WRONG))
    # SECRET is above the holder's clearance (秘), not the pilot's.
    source.send(cot("secret-track", access="SECRET", relto="USA JPN"))
    source.send(cot("shared", access="CONFIDENTIAL", relto="USA JPN"))
    (event,) = await holder.expect(1)
    assert event.uid == "shared"  # type: ignore[attr-defined]
    assert not [a for a in await _audit(ctx) if a[0] == "us.pilot"]
    holder.close(), source.close()


@pytest.mark.parametrize("enabled", [False, True])
async def test_plain_tcp_credentials_only_when_the_operator_allows_them(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path, enabled: bool
) -> None:
    tak.settings = tak.settings.model_copy(update={"cot_plain_auth": enabled})
    await add_person(ctx, operator, "us.pilot", clearance="SECRET")
    source = await _secret_source(tak, ctx, operator, tmp_path)
    reader, writer = await asyncio.open_connection("127.0.0.1", tak.ports["tcp"])
    writer.write(auth("us.pilot", PASSWORD))
    pilot = await Peer(reader, writer).ready()
    source.send(cot("secret-track", access="SECRET", relto="USA JPN"))
    source.send(cot("open-track"))
    got = await pilot.expect(1 + enabled)
    seen = {e.uid for e in got}  # type: ignore[attr-defined]
    assert seen == ({"secret-track", "open-track"} if enabled else {"open-track"})
    logins = [a for a in await _audit(ctx) if a[0] == "us.pilot"]
    assert logins == (
        [("us.pilot", "auth.login", {"address": "127.0.0.1", "via": "cot"})] if enabled else []
    )
    pilot.close(), source.close()


@pytest.mark.parametrize("enabled", [False, True])
async def test_a_wrong_password_over_plain_tcp(
    tak: TakServer, ctx: ServiceContext, operator: Actor, enabled: bool
) -> None:
    tak.settings = tak.settings.model_copy(update={"cot_plain_auth": enabled})
    await add_person(ctx, operator, "us.pilot", clearance="SECRET")
    reader, writer = await asyncio.open_connection("127.0.0.1", tak.ports["tcp"])
    writer.write(auth("us.pilot", WRONG))
    if enabled:  # refused, audited, closed
        await _closed(reader)
        assert ("us.pilot", "auth.login_failed", {"address": "127.0.0.1"}) in await _audit(ctx)
    else:  # not even checked: the connection goes on as the plain identity
        peer = await Peer(reader, writer).ready()
        assert not [a for a in await _audit(ctx) if a[0] == "us.pilot"]
        peer.close()
    writer.close()


async def test_no_password_ever_reaches_the_log(
    tak: TakServer,
    ctx: ServiceContext,
    operator: Actor,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tak.settings = tak.settings.model_copy(update={"cot_plain_auth": True})
    tak.credentials_seconds = 0.5
    await add_person(ctx, operator, "us.pilot", clearance="SECRET")
    caplog.set_level(logging.DEBUG)
    secret = WRONG.encode()
    sends = [
        auth("us.pilot", WRONG),  # a wrong password: refused and logged
        b"junk password=" + secret + b" " + cot("after-junk"),  # garbage holding one
        b"<auth><cot username='us.pilot' password='" + secret + b"'></auth>" + cot("x"),
        b"<auth><cot username='us.pilot' password='" + secret + b"' " + cot("y"),
        b"<auth><cot username='us.pilot' password='" + secret + b"'" + b"z" * 5000,
        cot("first") + auth("us.pilot", WRONG),  # credentials that come too late
        b"\xbf\x05" + secret,  # a protocol 1 frame that is not a TakMessage
        secret * 3,
    ]
    with structlog.testing.capture_logs() as logged:
        for data in sends:
            reader, writer = await asyncio.open_connection("127.0.0.1", tak.ports["tcp"])
            writer.write(data)
            await writer.drain()
            writer.close()
        for data in (auth("us.pilot", WRONG), secret + auth("us.pilot", WRONG), secret):
            reader, writer = await stranger(tak, tmp_path)
            writer.write(data)
            await _closed(reader)
            writer.close()
        # Wait until the server has read and judged everything it was sent.
        await asyncio.sleep(0.2)
        probe = await plain(tak)
        probe.close()
        for _ in range(100):
            if not tak.clients:
                break
            await asyncio.sleep(0.05)
    captured = capsys.readouterr()
    text = repr(logged) + captured.out + captured.err + caplog.text
    assert logged, "nothing was logged: the test would prove nothing"
    assert any(e.get("event") == "cot credentials refused" for e in logged)
    assert WRONG not in text
    assert PASSWORD not in text


async def _audit(ctx: ServiceContext) -> list[tuple[str, str, dict[str, object]]]:
    async with ctx.db.transaction(write=False) as tx:
        return [
            (r.entry.actor, r.entry.action, dict(r.entry.details))
            async for r in tx.audit.walk()
            if r.entry.action.startswith("auth.")
        ]
