"""Issuing certificates: a CA, server and client certificates, and checking who issued one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, TypeAlias

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kyodo.errors import InvalidInput
from kyodo.pki.names import PERSON_URN_PREFIX, check_username, fingerprint, parse_host

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
KeyType = Literal["ec", "rsa"]

RSA_BITS = 3072
# Clocks on field devices drift; a certificate that starts a few minutes early still works there.
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class CertifiedKey:
    """A certificate and its private key (the key is left out of repr, so it never gets logged)."""

    certificate: x509.Certificate
    key: PrivateKey = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """The certificate's SHA-256 fingerprint, as registered to a person."""
        return fingerprint(self.certificate)


def _new_key(key_type: KeyType) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    raise InvalidInput(f"key type {key_type!r}: use 'ec' (P-256) or 'rsa' (3072 bits)")


def _check_days(days: int) -> None:
    if not 1 <= days <= 36500:
        raise InvalidInput(f"validity of {days} days: use 1 to 36500")


def _name(common_name: str, org: str | None = None, unit: str | None = None) -> x509.Name:
    # The conventional order, most general first: O, OU, then CN.
    attributes = []
    if org:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    try:
        return x509.Name(attributes)
    except ValueError as exc:  # e.g. a CN longer than 64 characters
        raise InvalidInput(f"certificate name: {exc}") from None


def create_ca(
    name: str = "Kyodo CA",
    *,
    org: str | None = None,
    days: int = 3650,
    key_type: KeyType = "ec",
    now: datetime | None = None,
) -> CertifiedKey:
    """A self-signed CA (CA:TRUE, path length 0, keyCertSign and cRLSign)."""
    _check_days(days)
    if not name.strip():
        raise InvalidInput("the CA needs a name")
    start = (now or datetime.now(UTC)) - BACKDATE
    key = _new_key(key_type)
    subject = _name(name.strip(), org)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + BACKDATE + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertifiedKey(certificate, key)


def _leaf(
    ca: CertifiedKey,
    subject: x509.Name,
    alt_names: Sequence[x509.GeneralName],
    usage: x509.ObjectIdentifier,
    days: int,
    key_type: KeyType,
    now: datetime | None,
) -> CertifiedKey:
    _check_days(days)
    require_ca(ca.certificate)
    start = (now or datetime.now(UTC)) - BACKDATE
    # A leaf never outlives its CA: verifiers would refuse it from that day on anyway.
    end = min(start + BACKDATE + timedelta(days=days), ca.certificate.not_valid_after_utc)
    if end <= start + BACKDATE:
        raise InvalidInput("the CA has expired; make a new CA")
    key = _new_key(key_type)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    return CertifiedKey(builder.sign(ca.key, hashes.SHA256()), key)


def create_server_cert(
    ca: CertifiedKey,
    hosts: Iterable[str],
    *,
    days: int = 825,
    key_type: KeyType = "ec",
    now: datetime | None = None,
) -> CertifiedKey:
    """A TLS server certificate (serverAuth) for the DNS names and IP addresses in `hosts`."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        name = parse_host(host)
        if name not in names:
            names.append(name)
    if not names:
        raise InvalidInput("a server certificate needs at least one host name or IP address")
    common_name = str(names[0].value)
    return _leaf(
        ca, _name(common_name), names, ExtendedKeyUsageOID.SERVER_AUTH, days, key_type, now
    )


def create_client_cert(
    ca: CertifiedKey,
    username: str,
    *,
    org: str | None = None,
    unit: str | None = None,
    person_id: str | None = None,
    days: int = 365,
    key_type: KeyType = "ec",
    now: datetime | None = None,
) -> CertifiedKey:
    """A TLS client certificate (clientAuth) for a person: CN = username, O/OU = organisation.

    With `person_id` it also carries the URI SAN `urn:kyodo:person:<id>`; the server still maps a
    connection to a person by the registered fingerprint, so the URN is a hint for humans and logs.
    """
    check_username(username)
    alt_names: list[x509.GeneralName] = []
    if person_id is not None:
        if not person_id or any(c.isspace() or not c.isprintable() for c in person_id):
            raise InvalidInput("a person id is printable text without spaces")
        alt_names.append(x509.UniformResourceIdentifier(PERSON_URN_PREFIX + person_id))
    subject = _name(username, org, unit)
    return _leaf(ca, subject, alt_names, ExtendedKeyUsageOID.CLIENT_AUTH, days, key_type, now)


def issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether `ca` signed `certificate` (names match and the signature verifies)."""
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def require_ca(certificate: x509.Certificate) -> None:
    """`InvalidInput` unless the certificate is a CA certificate."""
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.value.ca:
        raise InvalidInput(f"{certificate.subject.rfc4514_string()} is not a CA certificate")
