"""A scripted ATAK-like session over a real TAK server (TLS) and the real HTTP app: enrol, ping,
share a data package (query, upload, announce, download), chat, draw and delete; and a NOFORN
data package that never reaches a Japanese client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kyodo.api.app import create_app
from kyodo.cot import Event, serialise_event
from kyodo.cot.delete import DELETE_TYPE
from kyodo.cot.keepalive import PONG_TYPE, ping
from kyodo.pki.files import write_pair
from kyodo.pki.issuing import CertifiedKey, create_ca, create_server_cert
from kyodo.services import tracks
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings
from kyodo.takserver.server import TakServer

from tests.support.factories import PASSWORD, add_person, bearer
from tests.support.live import free_port
from tests.takserver.test_geochat import _net, chat, presence
from tests.takserver.test_tak_server import Peer

FMT = "%Y-%m-%dT%H:%M:%S.%fZ"
PACKAGE = b"PK\x03\x04 MANIFEST/manifest.xml " + bytes(range(256)) * 16


@dataclass
class Site:
    """A Kyodo with its TAK server (TLS) and its HTTP API, sharing one context."""

    tak: TakServer
    http: httpx.AsyncClient
    folder: Path


@pytest.fixture
async def site(ctx: ServiceContext, settings: Settings, tmp_path: Path) -> AsyncIterator[Site]:
    ca = create_ca(name="Kyodo Session CA", org="USFJ-JJS Kyodo")
    write_pair(ca, tmp_path / "ca", "ca")
    write_pair(create_server_cert(ca, ["127.0.0.1"]), tmp_path / "srv", "server")
    configured = settings.model_copy(
        update={
            "cot_port": 0,
            "cot_tls_port": free_port(),
            "cot_tls_cert": tmp_path / "srv" / "server.pem",
            "cot_tls_key": tmp_path / "srv" / "server.key",
            "cot_tls_ca": tmp_path / "ca" / "ca.pem",
            "cot_enrol_ca_key": tmp_path / "ca" / "ca.key",
            # The CoT feed may carry US-only items (its default ceiling is REL TO USA, JPN).
            "cot_feed_ceiling": "SECRET//NOFORN",
        }
    )
    tak = TakServer(ctx, configured)
    await tak.start()
    app = create_app(configured, context=ctx)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:8443") as h:
            yield Site(tak, h, tmp_path)
    finally:
        await tak.stop()


async def enrol_and_connect(site: Site, username: str, uid: str, callsign: str) -> Peer:
    """What ATAK does with a server, username and password: fetch the certificate config,
    enrol a key over signClient/v2, connect over TLS with the signed certificate, and report
    its own position."""
    config = await site.http.get("/Marti/api/tls/config")
    assert config.status_code == 200 and 'name="O" value="USFJ-JJS Kyodo"' in config.text
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, username)]))
        .sign(key, hashes.SHA256())
    )
    basic = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    signed = await site.http.post(
        f"/Marti/api/tls/signClient/v2?clientUid={uid}&version=5.2",
        headers={"Authorization": f"Basic {basic}"},
        content=base64.b64encode(csr.public_bytes(serialization.Encoding.DER)),
    )
    assert signed.status_code == 200, signed.text
    certificate = x509.load_der_x509_certificate(base64.b64decode(signed.json()["signedCert"]))
    folder = site.folder / username
    write_pair(CertifiedKey(certificate, key), folder, "client")
    context = ssl.create_default_context(cafile=str(site.folder / "ca" / "ca.pem"))
    context.load_cert_chain(str(folder / "client.pem"), str(folder / "client.key"))
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", site.tak.ports["tls"], ssl=context, server_hostname="127.0.0.1"
    )
    peer = await Peer(reader, writer).ready()
    peer.send(presence(uid, callsign))
    return peer


def fileshare(sender_uid: str, callsign: str, url: str, sha256: str, to: str = "") -> bytes:
    """ATAK's announcement of a data package it uploaded (`b-f-t-r`)."""
    now = datetime.now(UTC)
    time, stale = now.strftime(FMT), (now + timedelta(seconds=10)).strftime(FMT)
    dest = f'<marti><dest callsign="{to}"/></marti>' if to else ""
    return (
        f'<event version="2.0" uid="share-{sha256[:8]}" type="b-f-t-r" how="h-e"'
        f' time="{time}" start="{time}" stale="{stale}">'
        '<point lat="35.3" lon="139.6" hae="NaN" ce="NaN" le="NaN"/><detail>'
        f'<fileshare filename="plan.zip" senderUrl="{url.replace("&", "&amp;")}"'
        f' sizeInBytes="{len(PACKAGE)}" sha256="{sha256}" senderUid="{sender_uid}"'
        f' senderCallsign="{callsign}" name="plan"/>'
        f'<ackrequest uid="ack-{sha256[:8]}" ackrequested="true" tag="plan"/>{dest}'
        "</detail></event>"
    ).encode()


def shape(uid: str) -> bytes:
    """A freehand polyline as ATAK draws it (`u-d-f`, its vertices as links)."""
    now = datetime.now(UTC)
    time, stale = now.strftime(FMT), (now + timedelta(days=1)).strftime(FMT)
    links = "".join(
        f'<link point="{lat},{lon}"/>' for lat, lon in ((35.1, 139.1), (35.2, 139.2), (35.3, 139.1))
    )
    return (
        f'<event version="2.0" uid="{uid}" type="u-d-f" how="h-e" time="{time}" start="{time}"'
        f' stale="{stale}"><point lat="35.2" lon="139.15" hae="0" ce="9999999" le="9999999"/>'
        f'<detail>{links}<contact callsign="Route line"/>'
        '<strokeColor value="-1"/><strokeWeight value="3.0"/></detail></event>'
    ).encode()


def delete(uid: str) -> bytes:
    now = datetime.now(UTC)
    time, stale = now.strftime(FMT), (now + timedelta(seconds=20)).strftime(FMT)
    return (
        f'<event version="2.0" uid="del-{uid}" type="{DELETE_TYPE}" how="h-g-i-g-o"'
        f' time="{time}" start="{time}" stale="{stale}"><point lat="0" lon="0" hae="0"'
        f' ce="9999999" le="9999999"/><detail><link uid="{uid}" relation="none" type="u-d-f"/>'
        "<__forcedelete/></detail></event>"
    ).encode()


async def next_of(peer: Peer, kind: str) -> Event:
    """The next event of this type the peer receives (position reports on the way skipped)."""
    while True:
        got = await peer.expect(len(peer.got) + 1)
        event = got[-1]
        assert isinstance(event, Event)
        if event.type == kind:
            return event


async def none_of(peer: Peer, kind: str, already: int = 0) -> None:
    """No (further) event of this type arrives while the peer stays quiet for a moment; other
    traffic may (a late position report of another client is not what is tested)."""
    with contextlib.suppress(TimeoutError):
        while True:
            await peer.expect(len(peer.got) + 1, wait=0.7)
    assert len([e for e in peer.got if isinstance(e, Event) and e.type == kind]) == already


async def test_an_atak_session(ctx: ServiceContext, operator: Actor, site: Site) -> None:
    smith = await add_person(ctx, operator, "smith", clearance="SECRET")
    jones = await add_person(ctx, operator, "jones", clearance="SECRET")
    await _net(ctx, smith, jones, name="Harbor")
    site.tak.geochat.default_nets = {"*": "Harbor"}
    a = await enrol_and_connect(site, "smith", "ANDROID-SMITH", "SMITH")
    b = await enrol_and_connect(site, "jones", "ANDROID-JONES", "JONES")
    await next_of(a, "a-f-G-U-C")  # each sees the other: callsigns are known to the server
    assert (await next_of(b, "a-f-G-U-C")).uid == "ANDROID-SMITH"

    # Keep-alive: a ping is answered.
    a.send(serialise_event(ping(datetime.now(UTC), uid="ANDROID-SMITH-ping")))
    pong = await next_of(a, PONG_TYPE)
    assert pong.uid == "takPong"

    # A data package: asked for, uploaded, asked for again.
    smith_api, jones_api = await bearer(site.http, "smith"), await bearer(site.http, "jones")
    sha256 = hashlib.sha256(PACKAGE).hexdigest()
    query = f"/Marti/sync/missionquery?hash={sha256}"
    assert (await site.http.get(query, headers=smith_api)).status_code == 404
    uploaded = await site.http.post(
        f"/Marti/sync/missionupload?hash={sha256}&filename=plan&creatorUid=ANDROID-SMITH",
        files={"assetfile": ("plan", PACKAGE, "application/x-zip-compressed")},
        headers=smith_api,
    )
    assert uploaded.status_code == 200, uploaded.text
    url = uploaded.text
    assert url == f"https://127.0.0.1:8443/Marti/sync/content?hash={sha256}"
    assert (await site.http.get(query, headers=smith_api)).text == url

    # Announced to jones, who receives it and downloads the package.
    a.send(fileshare("ANDROID-SMITH", "SMITH", url, sha256, to="JONES"))
    share = await next_of(b, "b-f-t-r")
    offered = share.detail.find("fileshare")
    assert offered is not None and offered.get("sha256") == sha256
    assert offered.get("senderUrl") == url
    got = await site.http.get(offered.get("senderUrl") or "", headers=jones_api)
    assert got.status_code == 200 and got.content == PACKAGE

    # All Chat Rooms, then one-to-one.
    a.send(chat("ANDROID-SMITH", "SMITH", "All Chat Rooms", "Radio check", message_id="c1"))
    room = await next_of(b, "b-t-f")
    assert room.chat is not None
    assert (room.chat.room, room.chat.text, room.chat.sender_callsign) == (
        "All Chat Rooms",
        "Radio check",
        "SMITH",
    )
    a.send(
        chat(
            "ANDROID-SMITH",
            "SMITH",
            "JONES",
            "just you",
            room_id="ANDROID-JONES",
            message_id="c2",
            dests=("JONES",),
        )
    )
    direct = await next_of(b, "b-t-f")
    assert direct.chat is not None and (direct.chat.room, direct.chat.text) == ("JONES", "just you")

    # A shape drawn, then deleted by its author.
    a.send(shape("shape-1"))
    drawn = await next_of(b, "u-d-f")
    assert drawn.uid == "shape-1" and len(drawn.detail.findall("link")) == 3
    a.send(delete("shape-1"))
    gone = await next_of(b, DELETE_TYPE)
    (link,) = gone.detail.findall("link")
    assert link.get("uid") == "shape-1"
    for peer in (a, b):
        peer.close()


async def test_a_noforn_data_package_never_reaches_a_japanese_client(
    ctx: ServiceContext, operator: Actor, site: Site
) -> None:
    await add_person(ctx, operator, "smith", clearance="SECRET")
    await add_person(ctx, operator, "jones", clearance="SECRET")
    await add_person(ctx, operator, "sato", nation="JPN", clearance="KIMITSU")
    a = await enrol_and_connect(site, "smith", "ANDROID-SMITH", "SMITH")
    us = await enrol_and_connect(site, "jones", "ANDROID-JONES", "JONES")
    jp = await enrol_and_connect(site, "sato", "ANDROID-SATO", "SATO")
    for peer in (us, jp):
        await next_of(peer, "a-f-G-U-C")
    smith_api, sato_api = await bearer(site.http, "smith"), await bearer(site.http, "sato")
    sha256 = hashlib.sha256(PACKAGE).hexdigest()
    uploaded = await site.http.post(
        "/Marti/sync/missionupload?filename=plan&label=SECRET//NOFORN",
        files={"assetfile": ("plan", PACKAGE, "application/x-zip-compressed")},
        headers=smith_api,
    )
    assert uploaded.status_code == 200, uploaded.text
    # An unlabelled announcement: it travels at the file's label, SECRET//NOFORN.
    a.send(fileshare("ANDROID-SMITH", "SMITH", uploaded.text, sha256))
    share = await next_of(us, "b-f-t-r")
    assert (share.access, share.releasable_to) == ("SECRET", "USA")
    await none_of(jp, "b-f-t-r")
    assert (await site.http.get("/Marti/sync/search", headers=sato_api)).json()["resultCount"] == 0
    assert (await site.http.get(uploaded.text, headers=sato_api)).status_code == 404
    assert (
        await site.http.get(f"/Marti/sync/missionquery?hash={sha256}", headers=sato_api)
    ).status_code == 404
    # Sato names the NOFORN package in an announcement of her own: refused, not relayed.
    jp.send(fileshare("ANDROID-SATO", "SATO", uploaded.text, sha256))
    await none_of(us, "b-f-t-r", already=1)
    client = next(c for c in site.tak.clients if c.uid == "ANDROID-SATO")
    assert client.refused_events == 1
    for peer in (a, us, jp):
        peer.close()


async def test_an_addressed_announcement_reaches_only_its_addressee_and_is_no_track(
    ctx: ServiceContext, operator: Actor, site: Site
) -> None:
    for username in ("smith", "jones", "brown"):
        await add_person(ctx, operator, username, clearance="SECRET")
    a = await enrol_and_connect(site, "smith", "ANDROID-SMITH", "SMITH")
    b = await enrol_and_connect(site, "jones", "ANDROID-JONES", "JONES")
    c = await enrol_and_connect(site, "brown", "ANDROID-BROWN", "BROWN")
    for peer in (b, c):
        await next_of(peer, "a-f-G-U-C")
    smith_api = await bearer(site.http, "smith")
    sha256 = hashlib.sha256(PACKAGE).hexdigest()
    uploaded = await site.http.post(
        "/Marti/sync/missionupload?filename=plan",
        files={"assetfile": ("plan", PACKAGE, "application/x-zip-compressed")},
        headers=smith_api,
    )
    a.send(fileshare("ANDROID-SMITH", "SMITH", uploaded.text, sha256, to="JONES"))
    await next_of(b, "b-f-t-r")
    await none_of(c, "b-f-t-r")
    # A message, not an item of the picture: nothing is stored for it.
    found = await tracks.list_tracks(ctx, operator, include_stale=True)
    assert "b-f-t-r" not in {t.type for t in found}
    for peer in (a, b, c):
        peer.close()
