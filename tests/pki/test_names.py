"""`kyodo.pki.names`: hosts, usernames and fingerprints."""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from kyodo.errors import InvalidInput
from kyodo.pki import files, names

from tests.pki.chain import Chain


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
    assert names.parse_host(host) == expected


@pytest.mark.parametrize(
    "host", ["", "bad host", "-lead.example", "a..b", "10.0.0.999", "x" * 64 + ".example", "h_st"]
)
def test_bad_hosts_are_refused(host: str) -> None:
    with pytest.raises(InvalidInput, match="neither an IP address nor a DNS host name"):
        names.parse_host(host)


@pytest.mark.parametrize(
    "username", ["", "../etc", "a/b", ".hidden", "with space", "名前", "x" * 65]
)
def test_usernames_that_cannot_name_files_are_refused(username: str) -> None:
    with pytest.raises(InvalidInput, match="cannot name a certificate"):
        names.check_username(username)


# --- fingerprints --------------------------------------------------------------------------------


def test_the_fingerprint_is_sha256_of_the_der_in_lower_case_hex(chain: Chain) -> None:
    der = chain.client.certificate.public_bytes(serialization.Encoding.DER)
    assert chain.client.fingerprint == hashlib.sha256(der).hexdigest()
    assert len(chain.client.fingerprint) == 64


def test_the_fingerprint_is_stable_across_pem_round_trips(chain: Chain, tmp_path: Path) -> None:
    cert_path, key_path = files.write_pair(chain.client, tmp_path, "tanaka.k")
    assert names.fingerprint(files.load_certificate(cert_path)) == chain.client.fingerprint
    assert files.load_pair(cert_path, key_path).fingerprint == chain.client.fingerprint
    assert chain.client.fingerprint != chain.server.fingerprint


def test_fingerprints_in_other_notations_normalise(chain: Chain) -> None:
    canonical = chain.client.fingerprint
    colons = ":".join(canonical[i : i + 2] for i in range(0, 64, 2)).upper()
    for text in (canonical, colons, f"sha256:{canonical}", f"SHA256 Fingerprint={colons}"):
        assert names.normalize_fingerprint(text) == canonical
    for bad in ("", canonical[:-1], canonical + "0", "g" * 64):
        with pytest.raises(InvalidInput):
            names.normalize_fingerprint(bad)
