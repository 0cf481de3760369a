"""Certificate enrolment as ATAK does it: tls/config, then signClient/v2 with a password."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from kyodo.api.app import create_app
from kyodo.pki.files import write_pair
from kyodo.pki.issuing import CertifiedKey, create_ca, create_server_cert, issued_by
from kyodo.pki.names import fingerprint
from kyodo.services import auth, identity
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings
from kyodo.takserver.server import TakServer

from tests.support.factories import PASSWORD, add_person
from tests.support.live import free_port
from tests.support.wait import wait_for

SIGN = "/Marti/api/tls/signClient/v2?clientUid=ANDROID-0123&version=4.10.0"


def _basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _csr(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, cn: str = "whoever"
) -> x509.CertificateSigningRequest:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())


def _event(uid: str, kind: str, contact: str) -> bytes:
    now = datetime.now(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (
        f'<event version="2.0" uid="{uid}" type="{kind}" how="h-e"'
        f' time="{now.strftime(fmt)}" start="{now.strftime(fmt)}"'
        f' stale="{(now + timedelta(minutes=5)).strftime(fmt)}">'
        f'<point lat="35.7" lon="139.3" hae="0" ce="10" le="10"/><detail>{contact}</detail></event>'
    ).encode()


def _der_b64(csr: x509.CertificateSigningRequest) -> bytes:
    """What ATAK sends: bare base64 DER."""
    return base64.b64encode(csr.public_bytes(serialization.Encoding.DER))


def _cert(b64: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(b64))


@pytest.fixture
def ca(tmp_path: Path) -> CertifiedKey:
    authority = create_ca(name="Kyodo Test CA", org="USFJ-JJS Kyodo")
    write_pair(authority, tmp_path / "ca", "ca")
    return authority


@pytest.fixture
def enrol_settings(settings: Settings, tmp_path: Path, ca: CertifiedKey) -> Settings:
    return settings.model_copy(
        update={
            "cot_tls_ca": tmp_path / "ca" / "ca.pem",
            "cot_enrol_ca_key": tmp_path / "ca" / "ca.key",
        }
    )


@pytest.fixture
async def http(ctx: ServiceContext, enrol_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(enrol_settings, context=ctx)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://kyodo.test") as client:
        yield client


async def _audit(ctx: ServiceContext, action: str) -> list[tuple[str, str, dict[str, object]]]:
    async with ctx.db.transaction(write=False) as tx:
        return [
            (r.entry.decision, r.entry.actor, dict(r.entry.details))
            async for r in tx.audit.walk()
            if r.entry.action == action
        ]


async def test_tls_config_names_the_cas_entries(http: httpx.AsyncClient) -> None:
    answer = await http.get("/Marti/api/tls/config")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert '<nameEntry name="O" value="USFJ-JJS Kyodo"/>' in answer.text
    assert "certificateConfig" in answer.text


async def test_a_person_enrols_and_the_certificate_acts_as_them_until_revoked(
    ctx: ServiceContext, operator: Actor, http: httpx.AsyncClient, ca: CertifiedKey
) -> None:
    person = await add_person(ctx, operator, "tanaka.k", nation="JPN", clearance="KIMITSU")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    answer = await http.post(SIGN, headers=_basic("tanaka.k"), content=_der_b64(_csr(key, "admin")))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"signedCert", "ca0"}
    signed, trusted = _cert(body["signedCert"]), _cert(body["ca0"])
    assert trusted == ca.certificate
    assert issued_by(signed, ca.certificate)
    assert signed.public_key() == key.public_key()
    # The CN is Kyodo's, not what the request asked for.
    assert signed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "tanaka.k"
    actor = await auth.certificate_actor(ctx, fingerprint(signed))
    assert actor is not None and actor.person is not None and actor.person.id == person.id
    [(decision, who, details)] = await _audit(ctx, "certificate.enrol")
    assert (decision, who) == ("allow", "tanaka.k")
    assert details["fingerprint"] == fingerprint(signed)
    assert details["client_uid"] == "ANDROID-0123"
    logins = await _audit(ctx, "auth.login")
    assert logins[-1][2]["via"] == "marti-enrol"
    assert PASSWORD not in str(logins)
    # Revocable by the existing path.
    await identity.revoke_certificate(ctx, operator, fingerprint(signed))
    assert await auth.certificate_actor(ctx, fingerprint(signed)) is None


async def test_pem_requests_with_ec_keys_and_xml_answers(
    ctx: ServiceContext, operator: Actor, http: httpx.AsyncClient, ca: CertifiedKey
) -> None:
    await add_person(ctx, operator, "smith")
    csr = _csr(ec.generate_private_key(ec.SECP256R1()))
    answer = await http.post(
        SIGN,
        headers=_basic("smith") | {"Accept": "application/xml"},
        content=csr.public_bytes(serialization.Encoding.PEM),
    )
    assert answer.status_code == 200, answer.text
    assert answer.text.startswith("<?xml") and "<signedCert>" in answer.text
    signed = answer.text.split("<signedCert>")[1].split("</signedCert>")[0]
    assert issued_by(_cert(signed), ca.certificate)


async def test_wrong_password_is_401_and_audited(
    ctx: ServiceContext, operator: Actor, http: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "smith")
    csr = _der_b64(_csr(ec.generate_private_key(ec.SECP256R1())))
    answer = await http.post(SIGN, headers=_basic("smith", "not the password"), content=csr)
    assert answer.status_code == 401
    failed = await _audit(ctx, "auth.login_failed")
    assert failed and failed[-1][:2] == ("deny", "smith")
    assert "not the password" not in str(failed)
    assert await _audit(ctx, "certificate.enrol") == []
    assert (await http.post(SIGN, content=csr)).status_code == 401  # no credentials at all


async def test_a_disabled_account_cannot_enrol(
    ctx: ServiceContext, operator: Actor, http: httpx.AsyncClient
) -> None:
    person = await add_person(ctx, operator, "gone")
    await identity.update_person(ctx, operator, person.id, identity.PersonChanges(active=False))
    csr = _der_b64(_csr(ec.generate_private_key(ec.SECP256R1())))
    assert (await http.post(SIGN, headers=_basic("gone"), content=csr)).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"not a request",
        b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----",
    ],
)
async def test_bad_requests_are_refused(
    ctx: ServiceContext, operator: Actor, http: httpx.AsyncClient, body: bytes
) -> None:
    await add_person(ctx, operator, "smith")
    answer = await http.post(SIGN, headers=_basic("smith"), content=body)
    assert answer.status_code == 422
    assert "certificate request" in answer.json()["detail"]


async def test_weak_keys_and_forged_requests_are_refused_and_audited(
    ctx: ServiceContext, operator: Actor, http: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "smith")
    weak = _csr(rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505
    answer = await http.post(SIGN, headers=_basic("smith"), content=_der_b64(weak))
    assert answer.status_code == 422
    assert "1024 bits" in answer.json()["detail"]
    # A request whose signature does not verify: another key's signature over the same body.
    good = _csr(ec.generate_private_key(ec.SECP256R1()))
    der = bytearray(good.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x55  # inside the signature
    forged = await http.post(SIGN, headers=_basic("smith"), content=base64.b64encode(bytes(der)))
    assert forged.status_code == 422
    assert forged.json()["detail"] == "the certificate request's signature does not verify"
    denied = [d for d in await _audit(ctx, "certificate.enrol") if d[0] == "deny"]
    assert len(denied) == 2


async def test_without_a_ca_key_enrolment_is_409(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "smith")
    assert (await client.get("/Marti/api/tls/config")).status_code == 409
    csr = _der_b64(_csr(ec.generate_private_key(ec.SECP256R1())))
    answer = await client.post(SIGN, headers=_basic("smith"), content=csr)
    assert answer.status_code == 409
    assert "cot_enrol_ca_key" in answer.json()["detail"]


async def test_an_enrolled_certificate_connects_to_cot_over_tls_as_the_person(
    ctx: ServiceContext,
    operator: Actor,
    http: httpx.AsyncClient,
    ca: CertifiedKey,
    enrol_settings: Settings,
    tmp_path: Path,
) -> None:
    await add_person(ctx, operator, "tanaka.k", nation="JPN", clearance="KIMITSU")
    key = ec.generate_private_key(ec.SECP256R1())
    answer = await http.post(SIGN, headers=_basic("tanaka.k"), content=_der_b64(_csr(key)))
    assert answer.status_code == 200, answer.text
    folder = tmp_path / "device"
    write_pair(CertifiedKey(_cert(answer.json()["signedCert"]), key), folder, "client")
    write_pair(create_server_cert(ca, ["127.0.0.1"]), tmp_path / "srv", "server")
    tak = TakServer(
        ctx,
        enrol_settings.model_copy(
            update={
                "cot_port": 0,
                "cot_tls_port": free_port(),
                "cot_tls_cert": tmp_path / "srv" / "server.pem",
                "cot_tls_key": tmp_path / "srv" / "server.key",
            }
        ),
    )
    await tak.start()
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "ca" / "ca.pem"))
        context.load_cert_chain(str(folder / "client.pem"), str(folder / "client.key"))
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", tak.ports["tls"], ssl=context, server_hostname="127.0.0.1"
        )
        # A marker first, then its own report (with a contact endpoint, as ATAK sends it).
        writer.write(_event("marker-1", "a-h-G", '<contact callsign="HOSTILE 1"/>'))
        writer.write(
            _event("ANDROID-0123", "a-f-G-U-C", '<contact callsign="TANAKA" endpoint="*:-1:stcp"/>')
        )
        await writer.drain()
        clients = await wait_for(
            lambda: [c for c in tak.connected_clients() if c.uid == "ANDROID-0123"]
        )
        assert len(tak.connected_clients()) == 1
        assert clients[0].person is not None and clients[0].person.username == "tanaka.k"
        assert clients[0].callsign == "TANAKA"
        writer.close()
        del reader
    finally:
        await tak.stop()
