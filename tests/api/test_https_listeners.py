"""Kyodo's own HTTPS on TAK Server's ports, over real sockets: 8443 (the client certificate says
who calls) and 8446 (enrolment with a password), no proxy in front."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from kyodo.api.app import create_app
from kyodo.api.listeners import CLIENT_CERTIFICATE, ENROLMENT, KyodoServer, build_server
from kyodo.errors import Unauthenticated
from kyodo.pki.files import write_pair
from kyodo.pki.issuing import (
    CertifiedKey,
    create_ca,
    create_client_cert,
    create_server_cert,
    issued_by,
)
from kyodo.pki.names import fingerprint
from kyodo.services import auth, identity
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings

from tests.support.factories import PASSWORD, add_person
from tests.support.live import free_port, free_ports
from tests.support.wait import wait_for

ENDPOINTS = "/Marti/api/clientEndPoints"


@dataclass
class Site:
    """The app behind `build_server`, as `kyodo serve` runs it, on loopback ports."""

    ctx: ServiceContext
    server: KyodoServer
    folder: Path
    ca: CertifiedKey
    http_url: str
    cot_tls_port: int

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.server.ports[CLIENT_CERTIFICATE]}"

    @property
    def enrol_url(self) -> str:
        return f"https://127.0.0.1:{self.server.ports[ENROLMENT]}"

    def context(self, device: CertifiedKey | None = None) -> ssl.SSLContext:
        """A client's TLS context: trusts the CA, presents `device` if given."""
        context = ssl.create_default_context(cafile=str(self.folder / "ca" / "ca.pem"))
        if device is not None:
            name = f"device-{fingerprint(device.certificate)[:12]}"
            write_pair(device, self.folder / "devices", name, force=True)
            context.load_cert_chain(
                str(self.folder / "devices" / f"{name}.pem"),
                str(self.folder / "devices" / f"{name}.key"),
            )
        return context

    def https(self, device: CertifiedKey | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.https_url, verify=self.context(device), timeout=30)

    def enrol(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.enrol_url, verify=self.context(), timeout=30)


@pytest.fixture
async def site(
    ctx: ServiceContext, settings: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Site]:
    """Served with uvicorn's own choice of HTTP protocol, or the one the test names."""
    ca = create_ca(name="Kyodo Test CA", org="USFJ-JJS Kyodo")
    write_pair(ca, tmp_path / "ca", "ca")
    write_pair(create_server_cert(ca, ["127.0.0.1"]), tmp_path / "srv", "server")
    http, cot, https, enrol = free_ports(4)
    served = settings.model_copy(
        update={
            "port": http,
            "cot_tls_port": cot,
            "cot_tls_cert": tmp_path / "srv" / "server.pem",
            "cot_tls_key": tmp_path / "srv" / "server.key",
            "cot_tls_ca": tmp_path / "ca" / "ca.pem",
            "cot_enrol_ca_key": tmp_path / "ca" / "ca.key",
            "https_port": https,
            "https_enrol_port": enrol,
        }
    )
    app = create_app(served, context=ctx)
    protocol = getattr(request, "param", "auto")
    server = build_server(app, served, log_level="warning", log_config=None, http=protocol)
    serving = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: server.started, timeout=30)
        assert set(server.ports) == {CLIENT_CERTIFICATE, ENROLMENT}
        yield Site(
            ctx,
            server,
            tmp_path,
            ca,
            f"http://127.0.0.1:{served.port}",
            app.state.tak.ports["tls"],
        )
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)


async def _registered(
    site: Site, operator: Actor, username: str, **person: str
) -> tuple[CertifiedKey, str]:
    found = await add_person(site.ctx, operator, username, **person)
    device = create_client_cert(site.ca, username, person_id=found.id)
    await identity.register_certificate(
        site.ctx, operator, found.id, fingerprint(device.certificate)
    )
    return device, found.id


async def _audit(ctx: ServiceContext, action: str) -> list[tuple[str, str, dict[str, object]]]:
    async with ctx.db.transaction(write=False) as tx:
        return [
            (r.entry.decision, r.entry.object_id, dict(r.entry.details))
            async for r in tx.audit.walk()
            if r.entry.action == action
        ]


def _basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _csr(key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device")])
    request = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return base64.b64encode(request.public_bytes(serialization.Encoding.DER))


def _position(uid: str, callsign: str) -> bytes:
    now = datetime.now(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (
        f'<event version="2.0" uid="{uid}" type="a-f-G-U-C" how="h-e"'
        f' time="{now.strftime(fmt)}" start="{now.strftime(fmt)}"'
        f' stale="{(now + timedelta(minutes=5)).strftime(fmt)}">'
        '<point lat="35.7" lon="139.3" hae="0" ce="10" le="10"/>'
        f'<detail><contact callsign="{callsign}" endpoint="*:-1:stcp"/></detail></event>'
    ).encode()


@pytest.mark.parametrize("site", ["auto", "h11"], indirect=True)
async def test_a_registered_certificate_is_its_person_on_8443(site: Site, operator: Actor) -> None:
    device, person_id = await _registered(site, operator, "tanaka.k")
    # The same device connected to CoT over TLS with the same certificate, as ATAK is.
    _reader, writer = await asyncio.open_connection(
        "127.0.0.1", site.cot_tls_port, ssl=site.context(device), server_hostname="127.0.0.1"
    )
    try:
        writer.write(_position("ANDROID-tanaka", "TANAKA"))
        await writer.drain()
        async with site.https(device) as https:
            me = await https.get("/api/v1/me")
            assert me.status_code == 200, me.text
            assert me.json()["id"] == person_id

            async def listed() -> list[dict[str, str]] | None:
                answer = await https.get(ENDPOINTS)
                assert answer.status_code == 200, answer.text
                return answer.json()["data"] or None

            [endpoint] = await wait_for(listed, timeout=30)
            assert (endpoint["uid"], endpoint["username"]) == ("ANDROID-tanaka", "tanaka.k")
            assert (await https.get("/Marti/api/device/profile/connection")).status_code == 204
    finally:
        writer.close()
    # No refusal was recorded for it.
    assert await _audit(site.ctx, "auth.certificate_refused") == []


async def test_without_a_certificate_8443_refuses_the_handshake(site: Site) -> None:
    async with site.https() as https:
        with pytest.raises(httpx.TransportError):
            await https.get(ENDPOINTS)
    # A certificate from another CA is refused there too.
    stranger = create_client_cert(create_ca(name="Elsewhere"), "tanaka.k")
    async with site.https(stranger) as https:
        with pytest.raises(httpx.TransportError):
            await https.get(ENDPOINTS)


async def test_unregistered_and_revoked_certificates_are_refused_and_audited(
    site: Site, operator: Actor
) -> None:
    await add_person(site.ctx, operator, "smith")
    unregistered = create_client_cert(site.ca, "smith")
    async with site.https(unregistered) as https:
        # Even with the person's own API token: on 8443 the certificate decides.
        login = await https.post(
            "/api/v1/auth/login", json={"username": "smith", "password": PASSWORD}
        )
        assert login.status_code == 200  # logging in takes no identity
        answer = await https.get(ENDPOINTS)
        assert answer.status_code == 401
        assert "not registered" in answer.json()["detail"]
    [(decision, object_id, details)] = await _audit(site.ctx, "auth.certificate_refused")
    assert (decision, object_id) == ("deny", fingerprint(unregistered.certificate))
    assert details["address"] == "127.0.0.1"

    device, _ = await _registered(site, operator, "jones")
    async with site.https(device) as https:
        assert (await https.get(ENDPOINTS)).status_code == 200
        await identity.revoke_certificate(site.ctx, operator, fingerprint(device.certificate))
        assert (await https.get(ENDPOINTS)).status_code == 401  # the same connection, next request
    refused = await _audit(site.ctx, "auth.certificate_refused")
    assert [r[1] for r in refused][-1] == fingerprint(device.certificate)


async def test_a_certificate_header_from_the_client_changes_nothing(
    site: Site, operator: Actor
) -> None:
    device, _ = await _registered(site, operator, "tanaka.k")
    pem = device.certificate.public_bytes(serialization.Encoding.PEM).decode()
    forged = {
        "X-SSL-Client-Cert": quote(pem),  # as nginx's $ssl_client_escaped_cert
        "X-Client-Cert": base64.b64encode(
            device.certificate.public_bytes(serialization.Encoding.DER)
        ).decode(),
        "X-SSL-Client-Verify": "SUCCESS",
    }
    async with httpx.AsyncClient(base_url=site.http_url, timeout=30) as plain:
        assert (await plain.get(ENDPOINTS, headers=forged)).status_code == 401
    async with site.enrol() as enrol:
        assert (await enrol.get(ENDPOINTS, headers=forged)).status_code == 401
    await add_person(site.ctx, operator, "smith")
    async with site.https(create_client_cert(site.ca, "smith")) as https:
        answer = await https.get("/api/v1/me", headers=forged)
        assert answer.status_code == 401


async def test_a_page_of_another_site_cannot_use_the_certificate_to_change_things(
    site: Site, operator: Actor
) -> None:
    device, _ = await _registered(site, operator, "tanaka.k")
    async with site.https(device) as https:
        evil = await https.post("/api/v1/auth/logout", headers={"Origin": "https://evil.test"})
        assert evil.status_code == 403
        # Reading is harmless (the page cannot read the answer), and so is our own origin.
        own = {"Origin": site.https_url}
        assert (await https.get("/api/v1/me", headers={"Origin": "https://evil.test"})).is_success
        assert (await https.post("/api/v1/auth/logout", headers=own)).status_code == 204
        assert (await https.post("/api/v1/auth/logout")).status_code == 204  # a TAK client
    [(decision, _, _)] = await _audit(site.ctx, "auth.certificate_refused")
    assert decision == "deny"


async def test_enrolment_on_8446_gives_a_certificate_that_works_on_8443(
    site: Site, operator: Actor
) -> None:
    person = await add_person(site.ctx, operator, "tanaka.k", nation="JPN")
    key = ec.generate_private_key(ec.SECP256R1())
    async with site.enrol() as enrol:
        config = await enrol.get("/Marti/api/tls/config", headers=_basic("tanaka.k"))
        assert config.status_code == 200 and "certificateConfig" in config.text
        signed = await enrol.post(
            "/Marti/api/tls/signClient/v2?clientUid=ANDROID-1&version=5.4",
            headers=_basic("tanaka.k"),
            content=_csr(key),
        )
        assert signed.status_code == 200, signed.text
        profile = await enrol.get(
            "/Marti/api/tls/profile/enrollment?clientUid=ANDROID-1", headers=_basic("tanaka.k")
        )
        assert profile.status_code == 204 and profile.content == b""
        assert (
            await enrol.get("/Marti/api/tls/profile/enrollment?clientUid=ANDROID-1")
        ).status_code == 401
        # 8446 asks for no certificate, so none identifies anyone there.
        assert (await enrol.get(ENDPOINTS)).status_code == 401
    certificate = x509.load_der_x509_certificate(base64.b64decode(signed.json()["signedCert"]))
    async with site.https(CertifiedKey(certificate, key)) as https:
        me = await https.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["id"] == person.id
        assert (await https.get(ENDPOINTS)).status_code == 200


async def test_sign_client_v1_answers_a_truststore_whose_certificate_works_on_8443(
    site: Site, operator: Actor
) -> None:
    person = await add_person(site.ctx, operator, "smith")
    key = ec.generate_private_key(ec.SECP256R1())
    async with site.enrol() as enrol:
        answer = await enrol.post(
            "/Marti/api/tls/signClient?clientUid=ANDROID-2",
            headers=_basic("smith"),
            content=_csr(key),
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/octet-stream"
        wrong = await enrol.post(
            "/Marti/api/tls/signClient", headers=_basic("smith", "nope"), content=_csr(key)
        )
        assert wrong.status_code == 401
    store = pkcs12.load_pkcs12(answer.content, b"atakatak")
    assert store.key is None and store.cert is None  # certificates only: the key stays home
    entries = {c.friendly_name: c.certificate for c in store.additional_certs}
    assert set(entries) == {b"signedCert", b"ca0"}
    assert entries[b"ca0"] == site.ca.certificate
    signed = entries[b"signedCert"]
    assert issued_by(signed, site.ca.certificate) and signed.public_key() == key.public_key()
    async with site.https(CertifiedKey(signed, key)) as https:
        me = await https.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["id"] == person.id


async def test_the_https_listeners_stay_closed_without_the_tls_files(
    ctx: ServiceContext, settings: Settings
) -> None:
    served = settings.model_copy(update={"port": free_port()})
    server = build_server(create_app(served, context=ctx), served, log_config=None)
    assert server.https == []


async def test_the_live_stream_on_8443_is_the_certificates_person(
    site: Site, operator: Actor
) -> None:
    device, _ = await _registered(site, operator, "tanaka.k")
    url = site.https_url.replace("https://", "wss://") + "/api/v1/stream"
    async with websockets.connect(url, ssl=site.context(device)) as ws:
        await ws.send(json.dumps({"op": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}
    # From another site's page the certificate counts for nothing (a browser would send it).
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(
            url, ssl=site.context(device), origin=websockets.Origin("https://evil.test")
        ) as ws:
            await ws.recv()
    unregistered = create_client_cert(site.ca, "nobody")
    with pytest.raises((websockets.InvalidStatus, websockets.ConnectionClosed)):
        async with websockets.connect(url, ssl=site.context(unregistered)) as ws:
            await ws.recv()


async def test_a_device_posts_to_a_net_with_its_certificate_alone(
    site: Site, operator: Actor
) -> None:
    device, _ = await _registered(site, operator, "tanaka.k")
    async with site.https(device) as https:
        made = await https.post(
            "/api/v1/nets", json={"name": "Harbor", "ceiling": "SECRET//REL TO USA, JPN"}
        )
        assert made.status_code == 201, made.text
        path = f"/api/v1/nets/{made.json()['id']}/messages"
        posted = await https.post(path, json={"text": "Convoy leaves at dawn"})  # fast_post
        assert posted.status_code == 201, posted.text
        assert posted.json()["message"]["author"] == "tanaka.k"
        evil = await https.post(path, json={"text": "x"}, headers={"Origin": "https://evil.test"})
        assert evil.status_code == 403


async def test_a_disabled_accounts_certificate_is_refused_and_audited(
    ctx: ServiceContext, operator: Actor
) -> None:
    person = await add_person(ctx, operator, "gone")
    device = create_client_cert(create_ca(), "gone", person_id=person.id)
    await identity.register_certificate(ctx, operator, person.id, fingerprint(device.certificate))
    actor = await auth.request_certificate_actor(ctx, fingerprint(device.certificate), "192.0.2.1")
    assert actor.person is not None and actor.person.id == person.id
    assert actor.via == "certificate"
    await identity.update_person(ctx, operator, person.id, identity.PersonChanges(active=False))
    with pytest.raises(Unauthenticated, match="disabled"):
        await auth.request_certificate_actor(ctx, fingerprint(device.certificate), "192.0.2.1")
    [(decision, object_id, details)] = await _audit(ctx, "auth.certificate_refused")
    assert (decision, object_id) == ("deny", fingerprint(device.certificate))
    assert details == {"address": "192.0.2.1", "via": "certificate"}


async def test_devices_share_a_data_package_on_8443_with_their_certificates_alone(
    site: Site, operator: Actor
) -> None:
    """ATAK's data-package flow as a device runs it against TAK Server's port: no token, no
    password, the certificate decides; a Japanese device never learns of a NOFORN package."""
    sender, _ = await _registered(site, operator, "smith.j")
    receiver, _ = await _registered(site, operator, "jones.r")
    japanese, _ = await _registered(site, operator, "sato.y", nation="JPN", clearance="GOKUHI")
    package = b"PK\x03\x04 a data package's bytes"
    digest = hashlib.sha256(package).hexdigest()
    async with site.https(sender) as https:
        assert (await https.get(f"/Marti/sync/missionquery?hash={digest}")).status_code == 404
        uploaded = await https.post(
            f"/Marti/sync/missionupload?hash={digest}&filename=plan.zip&creatorUid=ANDROID-smith"
            "&label=SECRET//NOFORN",
            files={"assetfile": ("plan.zip", package, "application/x-zip-compressed")},
        )
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.text.endswith(f"/Marti/sync/content?hash={digest}")
    async with site.https(receiver) as https:
        got = await https.get(f"/Marti/sync/content?hash={digest}")
        assert got.status_code == 200 and got.content == package
    async with site.https(japanese) as https:
        hidden = await https.get(f"/Marti/sync/content?hash={digest}")
        missing = await https.get(f"/Marti/sync/content?hash={'0' * 64}")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.content == missing.content.replace(b"0" * 64, digest.encode())
        found = await https.get("/Marti/sync/search?keywords=missionpackage")
        assert found.json()["resultCount"] == 0
