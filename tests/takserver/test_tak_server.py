"""The TAK server over real sockets: per-client label filtering, streams, TLS, TAK protocol 1."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kyodo.cot import XmlEventReader, parse_event, serialise_event
from kyodo.cot.framing import TakEventReader, frame_stream
from kyodo.cot.negotiation import OFFER_TYPE, RESPONSE_TYPE, protocol_request
from kyodo.cot.tak import event_to_message
from kyodo.labels import parse_marking
from kyodo.pki.files import write_pair
from kyodo.pki.issuing import create_ca, create_client_cert, create_server_cert
from kyodo.pki.names import fingerprint
from kyodo.services import identity, messages, nets, tracks
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings
from kyodo.takserver.server import TakServer

from tests.support.factories import add_person
from tests.support.live import free_port
from tests.support.wait import wait_for


def cot(
    uid: str,
    *,
    lat: float = 35.29,
    access: str | None = None,
    relto: str | None = None,
    remarks: str = "on station",
) -> bytes:
    now = datetime.now(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    label = ""
    if access:
        label += f' access="{access}"'
    if relto:
        label += f' releasableTo="{relto}"'
    return (
        f'<event version="2.0" uid="{uid}" type="a-f-S-C-L-CC" how="m-g"'
        f' time="{now.strftime(fmt)}" start="{now.strftime(fmt)}"'
        f' stale="{(now + timedelta(minutes=5)).strftime(fmt)}"{label}>'
        f'<point lat="{lat}" lon="139.67" hae="0" ce="10" le="10"/>'
        f'<detail><contact callsign="{uid.upper()}"/><remarks>{remarks}</remarks></detail>'
        "</event>"
    ).encode()


def _end_of(kind: str, data: bytes) -> int:
    """Where the first event of type `kind` ends in `data`, or -1 while it has not all come."""
    start = data.find(f'type="{kind}"'.encode())
    end = data.find(b"</event>", start) if start >= 0 else -1
    return end + len(b"</event>") if end >= 0 else -1


def _cut(kind: str, data: bytes) -> bytes:
    """`data` without its first event of type `kind`."""
    end = _end_of(kind, data)
    if end < 0:
        return data
    start = data.rfind(b"<event", 0, data.find(f'type="{kind}"'.encode()))
    return data[:start] + data[end:]


class Peer:
    """A raw TAK client: reads events as they come."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.events = XmlEventReader()
        self.proto: TakEventReader | None = None
        self.got: list[object] = []
        self.pending = b""  # read by `ready`, not yet parsed

    async def ready(self, wait: float = 10.0) -> Peer:
        """Wait until the server has taken this client in and queued its snapshot, instead of
        a fixed sleep after connecting. The server answers a protocol request once the
        client is in its fan-out, and writes the snapshot right behind the answer, in the
        same write, so the answer marks the point: from then on, what others send reaches
        this client, and only once (a track reported while the snapshot is read may come
        twice). The request asks for version 0, which the server does not speak: the
        connection stays in XML. What is read on the way is kept for `expect` (the snapshot
        follows the answer: `expect` reads it); the offer and the answer are dropped."""
        self.send(serialise_event(protocol_request(datetime.now(UTC), version=0)))
        seen = b""
        async with asyncio.timeout(wait):
            while _end_of(RESPONSE_TYPE, seen) < 0:
                data = await self.reader.read(65536)
                assert data, "connection closed before the server answered"
                seen += data
        self.pending = _cut(OFFER_TYPE, _cut(RESPONSE_TYPE, seen))
        return self

    async def read(self) -> bytes:
        """What `ready` left over, else the next bytes from the server."""
        data, self.pending = self.pending, b""
        return data or await self.reader.read(65536)

    async def expect(self, count: int, wait: float = 5.0) -> list[object]:
        async with asyncio.timeout(wait):
            while len(self.got) < count:
                data = await self.read()
                assert data, "connection closed"
                batch = (self.proto or self.events).feed(data)
                self.got += [e for e in batch.items if not e.type.startswith("t-x-takp")]
        return self.got

    async def quiet(self) -> None:
        with pytest.raises(TimeoutError):
            await self.expect(len(self.got) + 1, wait=0.7)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
async def tak(ctx: ServiceContext, settings: Settings, tmp_path: Path) -> AsyncIterator[TakServer]:
    ca = create_ca()
    write_pair(ca, tmp_path / "ca", "ca")
    write_pair(create_server_cert(ca, ["127.0.0.1", "localhost"]), tmp_path / "srv", "server")
    server_settings = settings.model_copy(
        update={
            "cot_port": free_port(),
            "cot_tls_port": free_port(),
            "cot_tls_cert": tmp_path / "srv" / "server.pem",
            "cot_tls_key": tmp_path / "srv" / "server.key",
            "cot_tls_ca": tmp_path / "ca" / "ca.pem",
            "cot_queue": 50,
            "cot_max_refusals": 5,
        }
    )
    server = TakServer(ctx, server_settings)
    server.ca = ca  # type: ignore[attr-defined]
    await server.start()
    yield server
    await server.stop()


async def plain(tak: TakServer) -> Peer:
    reader, writer = await asyncio.open_connection("127.0.0.1", tak.ports["tcp"])
    return await Peer(reader, writer).ready()


async def tls(
    tak: TakServer,
    tmp_path: Path,
    username: str,
    ctx: ServiceContext,
    operator: Actor,
    first: bytes = b"",
) -> Peer:
    """A TLS client with a certificate registered to `username`, which sends `first` first."""
    client = create_client_cert(tak.ca, username)  # type: ignore[attr-defined]
    folder = tmp_path / username
    write_pair(client, folder, "client")
    person = await identity.find_person(ctx, username)
    await identity.register_certificate(ctx, operator, person.id, fingerprint(client.certificate))
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(tmp_path / "ca" / "ca.pem")
    )
    context.load_cert_chain(str(folder / "client.pem"), str(folder / "client.key"))
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", tak.ports["tls"], ssl=context, server_hostname="127.0.0.1"
    )
    writer.write(first)
    return await Peer(reader, writer).ready()


async def test_plain_clients_exchange_unclassified_events_passed_through(
    tak: TakServer,
) -> None:
    a, b = await plain(tak), await plain(tak)
    a.send(cot("alpha", remarks="Fuel state 60%"))
    (event,) = await b.expect(1)
    assert event.uid == "alpha" and event.remarks == "Fuel state 60%"  # type: ignore[attr-defined]
    assert event.access == "UNCLASSIFIED"  # type: ignore[attr-defined]
    assert "ConfidentialityLabel" in event.detail.xml  # type: ignore[attr-defined]
    await a.quiet()  # not echoed to its sender
    a.close(), b.close()


async def test_plain_tcp_cannot_report_or_see_classified_tracks(
    tak: TakServer, ctx: ServiceContext
) -> None:
    a, b = await plain(tak), await plain(tak)
    a.send(cot("secret-1", access="SECRET", relto="USA JPN"))
    await b.quiet()
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.tracks.count() == 0
    a.close(), b.close()


async def test_fragmented_concatenated_and_garbage_streams(tak: TakServer) -> None:
    a, b = await plain(tak), await plain(tak)
    stream = b"  junk <?xml version='1.0'?>" + cot("one") + b"\n\n" + cot("two") + b"<not-cot/>"
    for i in range(len(stream)):
        a.send(stream[i : i + 1])
        if i % 50 == 0:
            await a.writer.drain()
    a.send(cot("three"))
    got = await b.expect(3)
    assert [e.uid for e in got] == ["one", "two", "three"]  # type: ignore[attr-defined]
    a.close(), b.close()


async def test_an_abusive_client_is_dropped_and_others_carry_on(tak: TakServer) -> None:
    bad, good, watcher = await plain(tak), await plain(tak), await plain(tak)
    for n in range(8):
        bad.send(b"<event uid='x'>" + b"<broken" * 3 + b"</event>")
        bad.send(cot(f"bad-{n}", lat=float("inf")))  # no number of degrees
    await bad.writer.drain()
    good.send(cot("good"))
    got = await watcher.expect(1)
    assert got[-1].uid == "good"  # type: ignore[attr-defined]
    # The server closes the abusive connection: an end of stream, or a reset when it closes
    # with some of what the client sent still unread (which now that the test no longer sleeps
    # before sending is usual).
    async with asyncio.timeout(5):
        with contextlib.suppress(ConnectionResetError):
            while await bad.reader.read(65536):
                pass
    bad.close(), good.close(), watcher.close()


async def test_tls_clients_act_as_their_person_and_see_only_what_they_may_read(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "us.watch", clearance="SECRET")
    await add_person(ctx, operator, "jp.watch", nation="JPN", clearance="GOKUHI")
    us = await tls(tak, tmp_path, "us.watch", ctx, operator)
    jp = await tls(tak, tmp_path, "jp.watch", ctx, operator)
    us.send(cot("us-only", access="SECRET", relto="USA"))
    us.send(cot("shared", access="SECRET", relto="USA JPN"))
    got = await jp.expect(1)
    assert [e.uid for e in got] == ["shared"]  # type: ignore[attr-defined]
    await jp.quiet()
    us.close(), jp.close()


async def test_a_tls_client_with_an_unknown_certificate_is_refused(
    tak: TakServer, ctx: ServiceContext, tmp_path: Path
) -> None:
    # Without credentials first: refused at its first event, or after the wait for them.
    tak.credentials_seconds = 0.5
    for first in (cot("stranger-1"), b""):
        reader, writer = await stranger(tak, tmp_path)
        writer.write(first)
        async with asyncio.timeout(5):
            assert await reader.read() == b""
        writer.close()


async def stranger(
    tak: TakServer, tmp_path: Path, name: str = "stranger"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TLS connection with a certificate the CA signed but nobody registered."""
    folder = tmp_path / f"unregistered-{name}"
    if not folder.exists():
        write_pair(create_client_cert(tak.ca, name), folder, "client")  # type: ignore[attr-defined]
    context = ssl.create_default_context(cafile=str(tmp_path / "ca" / "ca.pem"))
    context.load_cert_chain(str(folder / "client.pem"), str(folder / "client.key"))
    return await asyncio.open_connection(
        "127.0.0.1", tak.ports["tls"], ssl=context, server_hostname="127.0.0.1"
    )


async def test_snapshot_on_connect(tak: TakServer, ctx: ServiceContext, operator: Actor) -> None:
    a = await plain(tak)
    a.send(cot("parked"))
    # The snapshot is read from the database, where positions are written behind the fan-out.
    await wait_for(lambda: tracks.list_tracks(ctx, operator))
    late = await plain(tak)
    got = await late.expect(1)
    assert got[0].uid == "parked"  # type: ignore[attr-defined]
    a.close(), late.close()


async def test_tak_protocol_1_negotiation_and_framing(tak: TakServer) -> None:
    a, b = await plain(tak), await plain(tak)
    a.send(serialise_event(protocol_request(datetime.now(UTC))))
    async with asyncio.timeout(5):
        seen = b""
        while b"t-x-takp-r" not in seen:
            seen += await a.reader.read(65536)
    assert b'status="true"' in seen
    a.proto = TakEventReader()

    a.send(frame_stream(event_to_message(parse_event(cot("proto-1")))))
    got = await b.expect(1)
    assert got[0].uid == "proto-1"  # type: ignore[attr-defined]
    b.send(cot("xml-2"))
    got = await a.expect(1)
    assert got[0].uid == "xml-2"  # type: ignore[attr-defined]
    a.close(), b.close()


async def test_a_slow_client_does_not_stall_the_others(tak: TakServer) -> None:
    slow, sender, fast = await plain(tak), await plain(tak), await plain(tak)
    for n in range(120):  # the test server queues 50 per client; slow never reads
        sender.send(cot(f"u{n}", remarks="x" * 2000))
    got = await fast.expect(120, wait=20)
    assert len({e.uid for e in got}) == 120  # type: ignore[attr-defined]
    slow.close(), sender.close(), fast.close()


async def _pytak_connect(
    url: str, **extra: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    import configparser

    import pytak

    parser = configparser.ConfigParser()
    parser["kyodo"] = {"COT_URL": url, **extra}
    return await pytak.protocol_factory(parser["kyodo"])  # type: ignore[no-any-return]


async def _pytak_event(uid: str, **label: str) -> bytes:
    import xml.etree.ElementTree as ET

    import pytak

    element = pytak.cot_event(
        lat=26.35,
        lon=127.77,
        uid=uid,
        cot_type="a-f-A-M-F",
        callsign=uid.upper(),
        stale=600,
        **label,
    )
    return ET.tostring(element)


async def test_pytak_clients_over_tcp_send_and_receive(tak: TakServer) -> None:
    sender = (
        await Peer(*await _pytak_connect(f"tcp://127.0.0.1:{tak.ports['tcp']}")).ready()
    ).writer
    receiver, receiver_writer = await _pytak_connect(f"tcp://127.0.0.1:{tak.ports['tcp']}")
    peer = await Peer(receiver, receiver_writer).ready()
    sender.write(await _pytak_event("pytak-1", access="UNCLASSIFIED"))
    await sender.drain()
    got = await peer.expect(1)
    assert got[0].uid == "pytak-1" and got[0].callsign == "PYTAK-1"  # type: ignore[attr-defined]
    sender.close(), peer.close()


# pytak sets the deprecated ssl.OP_NO_* flags itself.
@pytest.mark.filterwarnings("ignore:ssl.OP_NO:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:Disabled TLS:UserWarning")
async def test_pytak_over_tls_with_labels(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:
    await add_person(ctx, operator, "pytak.us", clearance="SECRET")
    await add_person(ctx, operator, "jp.eyes", nation="JPN", clearance="GOKUHI")
    client = create_client_cert(tak.ca, "pytak.us")  # type: ignore[attr-defined]
    write_pair(client, tmp_path / "pt", "client")
    person = await identity.find_person(ctx, "pytak.us")
    await identity.register_certificate(ctx, operator, person.id, fingerprint(client.certificate))
    jp = await tls(tak, tmp_path, "jp.eyes", ctx, operator)
    connected = await _pytak_connect(
        f"tls://127.0.0.1:{tak.ports['tls']}",
        PYTAK_TLS_CLIENT_CERT=str(tmp_path / "pt" / "client.pem"),
        PYTAK_TLS_CLIENT_KEY=str(tmp_path / "pt" / "client.key"),
        PYTAK_TLS_CLIENT_CAFILE=str(tmp_path / "ca" / "ca.pem"),
        PYTAK_TLS_DONT_CHECK_HOSTNAME="1",
    )
    writer = (await Peer(*connected).ready()).writer
    writer.write(await _pytak_event("tls-noforn", access="SECRET", relto="USA"))
    writer.write(await _pytak_event("tls-shared", access="SECRET", relto="USA,JPN"))
    await writer.drain()
    got = await jp.expect(1)
    assert [e.uid for e in got] == ["tls-shared"]  # type: ignore[attr-defined]
    await jp.quiet()
    writer.close(), jp.close()


async def test_geochat_from_a_tak_client_lands_in_the_matching_net(
    tak: TakServer, ctx: ServiceContext, operator: Actor, tmp_path: Path
) -> None:

    owner = await add_person(ctx, operator, "chat.owner", clearance="SECRET")
    net = await nets.create_net(
        ctx,
        person_actor(owner, "api"),
        name="Convoy",
        ceiling=parse_marking("SECRET//REL TO USA, JPN", ctx.registry),
        default_label=parse_marking("UNCLASSIFIED", ctx.registry),
    )
    us = await tls(tak, tmp_path, "chat.owner", ctx, operator)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    geochat = (
        f'<event version="2.0" uid="GeoChat.ANDROID-1.Convoy.m1" type="b-t-f" how="h-g-i-g-o"'
        f' time="{now}" start="{now}" stale="{later}"><point lat="0" lon="0" hae="0" ce="9999999"'
        ' le="9999999"/><detail><__chat chatroom="Convoy" id="Convoy" senderCallsign="OWNER"'
        ' messageId="m1"><chatgrp uid0="ANDROID-1" uid1="Convoy" id="Convoy"/></__chat>'
        '<link uid="ANDROID-1" relation="p-p" type="a-f-G"/>'
        '<remarks source="BAO.F.ATAK.ANDROID-1" to="Convoy" time="'
        f'{now}">Lunch at 1200 in the galley.</remarks></detail></event>'
    ).encode()
    us.send(geochat)
    found = await wait_for(
        lambda: messages.list_messages(ctx, person_actor(owner, "api"), net.id), timeout=5
    )
    assert found[0].message.text == "Lunch at 1200 in the galley."
    us.close()


async def test_protocol_1_frames_without_negotiation_are_understood(tak: TakServer) -> None:

    a, b = await plain(tak), await plain(tak)
    a.send(frame_stream(event_to_message(parse_event(cot("straight-proto")))))
    got = await b.expect(1)
    assert got[0].uid == "straight-proto"  # type: ignore[attr-defined]
    a.close(), b.close()


@pytest.mark.slow  # three `kyodo` processes
async def test_kyodo_cot_send_and_listen(tak: TakServer, tmp_path: Path) -> None:
    import sys

    port = str(tak.ports["tcp"])
    listener = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kyodo",
        "cot",
        "listen",
        "--port",
        port,
        "--count",
        "1",
        "--seconds",
        "20",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await wait_for(lambda: len(tak.clients) == 1, timeout=30)  # the listener is connected
    events = tmp_path / "events.xml"
    events.write_bytes(cot("from-cli"))
    sender = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kyodo",
        "cot",
        "send",
        str(events),
        "--port",
        port,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await sender.communicate()
    assert sender.returncode == 0, err
    assert b"sent 1 event" in out
    heard, _ = await asyncio.wait_for(listener.communicate(), 30)
    assert b'uid="from-cli"' in heard
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<event uid='x'></event>")
    refused = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kyodo",
        "cot",
        "send",
        str(bad),
        "--port",
        port,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await refused.communicate()
    assert refused.returncode == 2 and b"refused" in err
