"""`kyodo.pki`: the chain verifies (in a real TLS handshake too), fingerprints, PKCS#12, zips."""

from __future__ import annotations

import hashlib
import io
import ipaddress
import socket
import ssl
import stat
import threading
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from defusedxml import ElementTree

from kyodo import pki
from kyodo.errors import Conflict, InvalidInput, NotFound

HOSTS = ["kyodo.example", "127.0.0.1"]


@dataclass(frozen=True)
class Chain:
    ca: pki.CertifiedKey
    server: pki.CertifiedKey
    client: pki.CertifiedKey


@pytest.fixture(scope="module")
def chain() -> Chain:
    ca = pki.create_ca("Kyodo Test CA", org="Kyodo")
    return Chain(
        ca=ca,
        server=pki.create_server_cert(ca, HOSTS),
        client=pki.create_client_cert(ca, "tanaka.k", org="JGSDF", unit="WAIR", person_id="p-42"),
    )


@pytest.fixture(scope="module")
def other_ca() -> pki.CertifiedKey:
    return pki.create_ca("Somebody Else's CA")


# --- the certificates ----------------------------------------------------------------------------


def test_the_ca_is_a_self_signed_ca_for_signing_certificates_only(chain: Chain) -> None:
    cert = chain.ca.certificate
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    assert pki.issued_by(cert, cert)
    assert cert.subject.rfc4514_string() == "CN=Kyodo Test CA,O=Kyodo"
    assert isinstance(chain.ca.key, ec.EllipticCurvePrivateKey)


def test_validity_is_configurable_and_starts_a_little_early() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    ca = pki.create_ca(days=30, now=now)
    assert ca.certificate.not_valid_before_utc == now - pki.BACKDATE
    assert ca.certificate.not_valid_after_utc == now + timedelta(days=30)


def test_the_server_certificate_names_every_host_and_is_for_servers(chain: Chain) -> None:
    cert = chain.server.certificate
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["kyodo.example"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert pki.issued_by(cert, chain.ca.certificate)


def test_the_client_certificate_names_the_person(chain: Chain) -> None:
    cert = chain.client.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "tanaka.k"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "JGSDF"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "WAIR"
    assert pki.person_id_of(cert) == "p-42"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert pki.issued_by(cert, chain.ca.certificate)


def test_a_client_certificate_without_person_id_has_no_urn(chain: Chain) -> None:
    plain = pki.create_client_cert(chain.ca, "smith.j")
    assert pki.person_id_of(plain.certificate) is None
    assert pki.person_id_of(chain.server.certificate) is None


def test_cryptography_verifies_both_leaves_against_the_ca(chain: Chain) -> None:
    policy = PolicyBuilder().store(Store([chain.ca.certificate]))
    for host in (x509.DNSName("kyodo.example"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))):
        built = policy.build_server_verifier(host).verify(chain.server.certificate, [])
        assert built[-1] == chain.ca.certificate
    verified = policy.build_client_verifier().verify(chain.client.certificate, [])
    assert verified.chain[-1] == chain.ca.certificate
    with pytest.raises(VerificationError):
        policy.build_server_verifier(x509.DNSName("evil.example")).verify(
            chain.server.certificate, []
        )


def test_a_certificate_from_another_ca_does_not_verify(
    chain: Chain, other_ca: pki.CertifiedKey
) -> None:
    stranger = pki.create_client_cert(other_ca, "tanaka.k")
    assert not pki.issued_by(stranger.certificate, chain.ca.certificate)
    policy = PolicyBuilder().store(Store([chain.ca.certificate]))
    with pytest.raises(VerificationError):
        policy.build_client_verifier().verify(stranger.certificate, [])


def test_rsa_keys_are_3072_bits_and_may_encipher(chain: Chain) -> None:
    client = pki.create_client_cert(chain.ca, "rsa.user", key_type="rsa")
    assert isinstance(client.key, rsa.RSAPrivateKey)
    assert client.key.key_size == 3072
    assert client.certificate.extensions.get_extension_for_class(
        x509.KeyUsage
    ).value.key_encipherment
    assert pki.issued_by(client.certificate, chain.ca.certificate)


def test_a_leaf_never_outlives_its_ca_and_an_expired_ca_issues_nothing() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    ca = pki.create_ca(days=10, now=now)
    client = pki.create_client_cert(ca, "tanaka.k", days=365, now=now)
    assert client.certificate.not_valid_after_utc == ca.certificate.not_valid_after_utc
    with pytest.raises(InvalidInput, match="expired"):
        pki.create_client_cert(ca, "tanaka.k", now=now + timedelta(days=11))


def test_only_a_ca_may_issue(chain: Chain) -> None:
    with pytest.raises(InvalidInput, match="not a CA"):
        pki.create_client_cert(chain.server, "tanaka.k")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("kyodo.example", x509.DNSName("kyodo.example")),
        ("Kyodo.Example.", x509.DNSName("kyodo.example")),
        ("localhost", x509.DNSName("localhost")),
        ("192.0.2.7", x509.IPAddress(ipaddress.ip_address("192.0.2.7"))),
        ("2001:db8::1", x509.IPAddress(ipaddress.ip_address("2001:db8::1"))),
    ],
)
def test_hosts_become_dns_or_ip_names(host: str, expected: x509.GeneralName) -> None:
    assert pki.parse_host(host) == expected


@pytest.mark.parametrize(
    "host", ["", "bad host", "-lead.example", "a..b", "10.0.0.999", "x" * 64 + ".example", "h_st"]
)
def test_bad_hosts_are_refused(host: str) -> None:
    with pytest.raises(InvalidInput, match="neither an IP address nor a DNS host name"):
        pki.parse_host(host)


def test_a_server_certificate_needs_a_host(chain: Chain) -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        pki.create_server_cert(chain.ca, [])


@pytest.mark.parametrize(
    "username", ["", "../etc", "a/b", ".hidden", "with space", "名前", "x" * 65]
)
def test_usernames_that_cannot_name_files_are_refused(username: str) -> None:
    with pytest.raises(InvalidInput, match="cannot name a certificate"):
        pki.check_username(username)


@pytest.mark.parametrize("days", [0, -1, 36501])
def test_validity_out_of_range_is_refused(days: int) -> None:
    with pytest.raises(InvalidInput, match="validity"):
        pki.create_ca(days=days)


def test_the_key_never_appears_in_repr(chain: Chain) -> None:
    assert "key" not in repr(chain.client).replace("CertifiedKey", "")


# --- fingerprints --------------------------------------------------------------------------------


def test_the_fingerprint_is_sha256_of_the_der_in_lower_case_hex(chain: Chain) -> None:
    der = chain.client.certificate.public_bytes(serialization.Encoding.DER)
    assert chain.client.fingerprint == hashlib.sha256(der).hexdigest()
    assert len(chain.client.fingerprint) == 64


def test_the_fingerprint_is_stable_across_pem_round_trips(chain: Chain, tmp_path: Path) -> None:
    cert_path, key_path = pki.write_pair(chain.client, tmp_path, "tanaka.k")
    assert pki.fingerprint(pki.load_certificate(cert_path)) == chain.client.fingerprint
    assert pki.load_pair(cert_path, key_path).fingerprint == chain.client.fingerprint
    assert chain.client.fingerprint != chain.server.fingerprint


def test_fingerprints_in_other_notations_normalise(chain: Chain) -> None:
    canonical = chain.client.fingerprint
    colons = ":".join(canonical[i : i + 2] for i in range(0, 64, 2)).upper()
    for text in (canonical, colons, f"sha256:{canonical}", f"SHA256 Fingerprint={colons}"):
        assert pki.normalize_fingerprint(text) == canonical
    for bad in ("", canonical[:-1], canonical + "0", "g" * 64):
        with pytest.raises(InvalidInput):
            pki.normalize_fingerprint(bad)


# --- files ---------------------------------------------------------------------------------------


def test_keys_are_written_0600_and_certificates_0644(chain: Chain, tmp_path: Path) -> None:
    cert_path, key_path = pki.write_pair(chain.ca, tmp_path / "new" / "ca", "ca")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert_path.stat().st_mode) == 0o644
    assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in key_path.parent.iterdir()) == ["ca.key", "ca.pem"]
    assert pki.load_ca(key_path.parent).fingerprint == chain.ca.fingerprint


def test_existing_files_are_kept_unless_forced(chain: Chain, tmp_path: Path) -> None:
    pki.write_pair(chain.client, tmp_path, "user")
    before = (tmp_path / "user.key").read_bytes()
    with pytest.raises(Conflict, match="already exists"):
        pki.write_pair(chain.server, tmp_path, "user")
    assert (tmp_path / "user.key").read_bytes() == before
    (tmp_path / "user.key").chmod(0o644)  # someone loosened it: a forced rewrite restores 0600
    pki.write_pair(chain.server, tmp_path, "user", force=True)
    assert pki.load_pair(tmp_path / "user.pem", tmp_path / "user.key").fingerprint == (
        chain.server.fingerprint
    )
    assert stat.S_IMODE((tmp_path / "user.key").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["user.key", "user.pem"]


def test_loading_reports_what_is_missing_or_wrong(chain: Chain, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no certificate at"):
        pki.load_ca(tmp_path)
    pki.write_pair(chain.server, tmp_path, "ca")
    with pytest.raises(InvalidInput, match="not a CA"):
        pki.load_ca(tmp_path)
    pki.write_file(
        tmp_path / "ca.key", pki.private_key_pem(chain.client.key), mode=0o600, force=True
    )
    with pytest.raises(InvalidInput, match="is not the key of"):
        pki.load_ca(tmp_path)
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(InvalidInput, match=r"no readable X\.509 certificate"):
        pki.load_certificate(tmp_path / "junk.pem")
    with pytest.raises(InvalidInput, match="no readable unencrypted private key"):
        pki.load_private_key(tmp_path / "junk.pem")


def test_a_der_certificate_loads_too(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "c.der"
    path.write_bytes(chain.client.certificate.public_bytes(serialization.Encoding.DER))
    assert pki.fingerprint(pki.load_certificate(path)) == chain.client.fingerprint


# --- TLS end to end ------------------------------------------------------------------------------


def _files(tmp_path: Path, chain: Chain, client: pki.CertifiedKey) -> dict[str, Path]:
    ca_pem, _ = pki.write_pair(chain.ca, tmp_path / "ca", "ca")
    server_pem, server_key = pki.write_pair(chain.server, tmp_path / "server", "server")
    client_pem, client_key = pki.write_pair(client, tmp_path / "client", "client")
    return {
        "ca": ca_pem,
        "server_pem": server_pem,
        "server_key": server_key,
        "client_pem": client_pem,
        "client_key": client_key,
    }


def _handshake(files: dict[str, Path], server_hostname: str) -> tuple[object, object]:
    """Serve once on loopback with client certificates required; return (server, client) results.

    Each result is the peer certificate's DER on success or the exception raised.
    """
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(files["server_pem"], files["server_key"])
    server_ctx.load_verify_locations(cafile=files["ca"])
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    client_ctx = ssl.create_default_context(cafile=files["ca"])
    client_ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    client_ctx.load_cert_chain(files["client_pem"], files["client_key"])

    results: dict[str, object] = {}
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            conn.settimeout(10)
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                results["server"] = tls.getpeercert(binary_form=True)
                tls.sendall(b"ok")
        except (OSError, ssl.SSLError) as exc:
            results["server"] = exc

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client_ctx.wrap_socket(raw, server_hostname=server_hostname) as tls,
        ):
            peer = tls.getpeercert(binary_form=True)
            # TLS 1.3 reports a refused client certificate only on the first read.
            results["client"] = peer if tls.recv(2) == b"ok" else ConnectionError("closed")
    except (OSError, ssl.SSLError) as exc:
        results["client"] = exc
    finally:
        thread.join(15)
        listener.close()
    return results["server"], results["client"]


@pytest.mark.parametrize("server_hostname", ["kyodo.example", "127.0.0.1"])
def test_a_tls_handshake_authenticates_both_ends(
    chain: Chain, tmp_path: Path, server_hostname: str
) -> None:
    server_saw, client_saw = _handshake(_files(tmp_path, chain, chain.client), server_hostname)
    assert isinstance(server_saw, bytes) and isinstance(client_saw, bytes)
    # What the listener will look up to find the person is exactly the fingerprint printed.
    assert hashlib.sha256(server_saw).hexdigest() == chain.client.fingerprint
    assert hashlib.sha256(client_saw).hexdigest() == chain.server.fingerprint


def test_a_client_certificate_from_another_ca_is_refused_in_the_handshake(
    chain: Chain, other_ca: pki.CertifiedKey, tmp_path: Path
) -> None:
    stranger = pki.create_client_cert(other_ca, "tanaka.k")
    server_saw, client_saw = _handshake(_files(tmp_path, chain, stranger), "kyodo.example")
    assert isinstance(server_saw, ssl.SSLCertVerificationError)
    assert "unable to get local issuer certificate" in str(server_saw)
    assert isinstance(client_saw, OSError)  # an alert or a reset, by timing: both OSErrors


def test_a_name_not_in_the_server_certificate_is_refused(chain: Chain, tmp_path: Path) -> None:
    _, client_saw = _handshake(_files(tmp_path, chain, chain.client), "localhost")
    assert isinstance(client_saw, ssl.SSLCertVerificationError)


# --- PKCS#12 and the data package ----------------------------------------------------------------


@pytest.mark.parametrize("legacy", [True, False])
def test_the_client_p12_opens_with_its_password_only(chain: Chain, legacy: bool) -> None:
    data = pki.client_p12(chain.client, chain.ca.certificate, "s3cret", legacy=legacy)
    key, cert, extra = pkcs12.load_key_and_certificates(data, b"s3cret")
    assert cert == chain.client.certificate
    assert key is not None and key.public_key() == chain.client.key.public_key()
    assert extra == [chain.ca.certificate]
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(data, b"wrong")


def test_the_truststore_holds_the_ca_and_no_key(chain: Chain) -> None:
    data = pki.truststore_p12(chain.ca.certificate, "s3cret")
    assert pkcs12.load_key_and_certificates(data, b"s3cret") == (
        None,
        None,
        [chain.ca.certificate],
    )


def test_an_empty_password_is_refused(chain: Chain) -> None:
    with pytest.raises(InvalidInput, match="password"):
        pki.truststore_p12(chain.ca.certificate, "")


def _package(chain: Chain, **kw: object) -> zipfile.ZipFile:
    args: dict[str, object] = {
        "username": "tanaka.k",
        "server_host": "kyodo.example",
        "password": "s3cret",
    }
    args.update(kw)
    data = pki.data_package(chain.client, chain.ca.certificate, **args)  # type: ignore[arg-type]
    return zipfile.ZipFile(io.BytesIO(data))


def _entries(xml: bytes, preference: str) -> dict[str, str]:
    root = ElementTree.fromstring(xml)
    node = root.find(f"preference[@name='{preference}']")
    assert node is not None
    return {str(e.get("key")): e.text or "" for e in node.findall("entry")}


def test_the_package_holds_the_expected_entries(chain: Chain) -> None:
    with _package(chain) as package:
        assert sorted(package.namelist()) == [
            "MANIFEST/manifest.xml",
            "certs/server.pref",
            "certs/tanaka.k.p12",
            "certs/truststore.p12",
        ]
        manifest = ElementTree.fromstring(package.read("MANIFEST/manifest.xml"))
    assert manifest.tag == "MissionPackageManifest" and manifest.get("version") == "2"
    listed = [c.get("zipEntry") for c in manifest.iter("Content")]
    assert listed == ["certs/server.pref", "certs/truststore.p12", "certs/tanaka.k.p12"]
    params = {p.get("name"): p.get("value") for p in manifest.iter("Parameter")}
    assert params["onReceiveImport"] == "true"
    assert params["name"] == "Kyodo tanaka.k@kyodo.example"


def test_the_pref_points_at_host_port_ssl_and_the_certificates(chain: Chain) -> None:
    with _package(chain, port=18089) as package:
        pref = package.read("certs/server.pref")
        client = package.read("certs/tanaka.k.p12")
        trust = package.read("certs/truststore.p12")
    assert pref.startswith(b"<?xml version='1.0' encoding='ASCII' standalone='yes'?>")
    streams = _entries(pref, "cot_streams")
    assert streams["count"] == "1"
    assert streams["enabled0"] == "true"
    assert streams["connectString0"] == "kyodo.example:18089:ssl"
    app = _entries(pref, "com.atakmap.app_preferences")
    for entries, suffix in ((streams, "0"), (app, "")):
        assert entries[f"caLocation{suffix}"] == "cert/truststore.p12"
        assert entries[f"certificateLocation{suffix}"] == "cert/tanaka.k.p12"
        password = entries[f"clientPassword{suffix}"].encode()
        assert pkcs12.load_key_and_certificates(client, password)[1] == chain.client.certificate
        ca_password = entries[f"caPassword{suffix}"].encode()
        assert pkcs12.load_key_and_certificates(trust, ca_password)[2] == [chain.ca.certificate]


def test_text_outside_ascii_is_escaped_not_mangled(chain: Chain) -> None:
    with _package(chain, description="共同 <HQ> & co", password="pä55") as package:
        pref = package.read("certs/server.pref")
        client = package.read("certs/tanaka.k.p12")
    assert pref.isascii()
    streams = _entries(pref, "cot_streams")
    assert streams["description0"] == "共同 <HQ> & co"
    assert streams["clientPassword0"] == "pä55"
    assert pkcs12.load_key_and_certificates(client, "pä55".encode())[1] is not None


def test_a_reissued_package_keeps_its_uid_so_the_device_replaces_it(chain: Chain) -> None:
    def uid(**kw: object) -> str | None:
        with _package(chain, **kw) as package:
            root = ElementTree.fromstring(package.read("MANIFEST/manifest.xml"))
        return {p.get("name"): p.get("value") for p in root.iter("Parameter")}["uid"]

    assert uid() == uid(password="other")
    assert uid() != uid(server_host="other.example")


def test_the_package_refuses_what_a_connect_string_cannot_hold(chain: Chain) -> None:
    with pytest.raises(InvalidInput, match="IPv6"):
        _package(chain, server_host="::1")
    with pytest.raises(InvalidInput, match="port"):
        _package(chain, port=70000)
    with pytest.raises(InvalidInput, match="neither"):
        _package(chain, server_host="bad host")
