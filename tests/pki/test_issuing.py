"""`kyodo.pki.issuing`: the chain verifies, in a real TLS handshake too; only a CA issues."""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from kyodo.errors import InvalidInput
from kyodo.pki import files, issuing, names

from tests.pki.chain import Chain

# --- the certificates ----------------------------------------------------------------------------


def test_the_ca_is_a_self_signed_ca_for_signing_certificates_only(chain: Chain) -> None:
    cert = chain.ca.certificate
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    assert issuing.issued_by(cert, cert)
    assert cert.subject.rfc4514_string() == "CN=Kyodo Test CA,O=Kyodo"
    assert isinstance(chain.ca.key, ec.EllipticCurvePrivateKey)


def test_validity_is_configurable_and_starts_a_little_early() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    ca = issuing.create_ca(days=30, now=now)
    assert ca.certificate.not_valid_before_utc == now - issuing.BACKDATE
    assert ca.certificate.not_valid_after_utc == now + timedelta(days=30)


def test_the_server_certificate_names_every_host_and_is_for_servers(chain: Chain) -> None:
    cert = chain.server.certificate
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["kyodo.example"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert issuing.issued_by(cert, chain.ca.certificate)


def test_the_client_certificate_names_the_person(chain: Chain) -> None:
    cert = chain.client.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "tanaka.k"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "JGSDF"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "WAIR"
    assert names.person_id_of(cert) == "p-42"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert issuing.issued_by(cert, chain.ca.certificate)


def test_a_client_certificate_without_person_id_has_no_urn(chain: Chain) -> None:
    plain = issuing.create_client_cert(chain.ca, "smith.j")
    assert names.person_id_of(plain.certificate) is None
    assert names.person_id_of(chain.server.certificate) is None


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
    chain: Chain, other_ca: issuing.CertifiedKey
) -> None:
    stranger = issuing.create_client_cert(other_ca, "tanaka.k")
    assert not issuing.issued_by(stranger.certificate, chain.ca.certificate)
    policy = PolicyBuilder().store(Store([chain.ca.certificate]))
    with pytest.raises(VerificationError):
        policy.build_client_verifier().verify(stranger.certificate, [])


def test_rsa_keys_are_3072_bits_and_may_encipher(chain: Chain) -> None:
    client = issuing.create_client_cert(chain.ca, "rsa.user", key_type="rsa")
    assert isinstance(client.key, rsa.RSAPrivateKey)
    assert client.key.key_size == 3072
    assert client.certificate.extensions.get_extension_for_class(
        x509.KeyUsage
    ).value.key_encipherment
    assert issuing.issued_by(client.certificate, chain.ca.certificate)


def test_a_leaf_never_outlives_its_ca_and_an_expired_ca_issues_nothing() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    ca = issuing.create_ca(days=10, now=now)
    client = issuing.create_client_cert(ca, "tanaka.k", days=365, now=now)
    assert client.certificate.not_valid_after_utc == ca.certificate.not_valid_after_utc
    with pytest.raises(InvalidInput, match="expired"):
        issuing.create_client_cert(ca, "tanaka.k", now=now + timedelta(days=11))


def test_only_a_ca_may_issue(chain: Chain) -> None:
    with pytest.raises(InvalidInput, match="not a CA"):
        issuing.create_client_cert(chain.server, "tanaka.k")


def test_a_server_certificate_needs_a_host(chain: Chain) -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        issuing.create_server_cert(chain.ca, [])


@pytest.mark.parametrize("days", [0, -1, 36501])
def test_validity_out_of_range_is_refused(days: int) -> None:
    with pytest.raises(InvalidInput, match="validity"):
        issuing.create_ca(days=days)


def test_the_key_never_appears_in_repr(chain: Chain) -> None:
    assert "key" not in repr(chain.client).replace("CertifiedKey", "")


# --- TLS end to end ------------------------------------------------------------------------------


def _files(tmp_path: Path, chain: Chain, client: issuing.CertifiedKey) -> dict[str, Path]:
    ca_pem, _ = files.write_pair(chain.ca, tmp_path / "ca", "ca")
    server_pem, server_key = files.write_pair(chain.server, tmp_path / "server", "server")
    client_pem, client_key = files.write_pair(client, tmp_path / "client", "client")
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
    chain: Chain, other_ca: issuing.CertifiedKey, tmp_path: Path
) -> None:
    stranger = issuing.create_client_cert(other_ca, "tanaka.k")
    server_saw, client_saw = _handshake(_files(tmp_path, chain, stranger), "kyodo.example")
    assert isinstance(server_saw, ssl.SSLCertVerificationError)
    assert "unable to get local issuer certificate" in str(server_saw)
    assert isinstance(client_saw, OSError)  # an alert or a reset, by timing: both OSErrors


def test_a_name_not_in_the_server_certificate_is_refused(chain: Chain, tmp_path: Path) -> None:
    _, client_saw = _handshake(_files(tmp_path, chain, chain.client), "localhost")
    assert isinstance(client_saw, ssl.SSLCertVerificationError)
