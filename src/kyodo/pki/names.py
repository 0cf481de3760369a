"""Certificate names and fingerprints: usernames, hosts, person URNs, SHA-256 (no I/O)."""

from __future__ import annotations

import ipaddress
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from kyodo.errors import InvalidInput

PERSON_URN_PREFIX = "urn:kyodo:person:"
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def check_username(username: str) -> str:
    """A username usable as a certificate CN and a file name; else `InvalidInput`."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            f"username {username!r} cannot name a certificate: use 1-64 of A-Z a-z 0-9 . _ @ -, "
            "starting with a letter or digit"
        )
    return username


def parse_host(host: str) -> x509.GeneralName:
    """A subjectAltName for an IP address or a DNS name; `InvalidInput` for anything else."""
    text = host.strip()
    try:
        return x509.IPAddress(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text.rstrip(".").lower()
    labels = name.split(".")
    if (
        not name
        or len(name) > 253
        or not all(_DNS_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()  # 10.0.0.999 is a broken address, not a host name
    ):
        raise InvalidInput(f"{host!r} is neither an IP address nor a DNS host name")
    return x509.DNSName(name)


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 over the DER encoding, lower-case hex without separators (64 characters)."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def normalize_fingerprint(text: str) -> str:
    """Accept `AB:CD:…`, spaces, upper case or a `sha256:` prefix; return the canonical form."""
    value = text.strip().lower().removeprefix("sha256:").removeprefix("sha256 fingerprint=")
    value = value.replace(":", "").replace(" ", "")
    if not _HEX64.fullmatch(value):
        raise InvalidInput("a SHA-256 fingerprint is 64 hexadecimal digits")
    return value


def person_id_of(certificate: x509.Certificate) -> str | None:
    """The Kyodo person id from a `urn:kyodo:person:<id>` URI SAN, if the certificate has one."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    for uri in san.value.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.startswith(PERSON_URN_PREFIX):
            return uri.removeprefix(PERSON_URN_PREFIX)
    return None
