"""Issuing certificates: a CA, server and client certificates, and checking who issued one."""

from __future__ import annotations

import base64
import binascii
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
PublicKey: TypeAlias = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
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
    key = _new_key(key_type)
    certificate = _certificate(ca, subject, alt_names, usage, days, key.public_key(), now)
    return CertifiedKey(certificate, key)


def _certificate(
    ca: CertifiedKey,
    subject: x509.Name,
    alt_names: Sequence[x509.GeneralName],
    usage: x509.ObjectIdentifier,
    days: int,
    public_key: PublicKey,
    now: datetime | None,
) -> x509.Certificate:
    _check_days(days)
    require_ca(ca.certificate)
    start = (now or datetime.now(UTC)) - BACKDATE
    # A leaf never outlives its CA: verifiers would refuse it from that day on anyway.
    end = min(start + BACKDATE + timedelta(days=days), ca.certificate.not_valid_after_utc)
    if end <= start + BACKDATE:
        raise InvalidInput("the CA has expired; make a new CA")
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    return builder.sign(ca.key, hashes.SHA256())


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


# What a CSR's key may be: RSA of at least this many bits (ATAK asks with RSA 2048), or EC on
# one of these curves.
MIN_RSA_BITS = 2048
EC_CURVES = ("secp256r1", "secp384r1", "secp521r1")
MAX_CSR_BYTES = 16384


def load_csr(data: bytes) -> x509.CertificateSigningRequest:
    """A PKCS#10 request sent as PEM, or as bare base64 DER (what ATAK sends); `InvalidInput`
    if it is neither, or its signature does not verify (the sender does not hold the key)."""
    if len(data) > MAX_CSR_BYTES:
        raise InvalidInput(f"the certificate request is over {MAX_CSR_BYTES} bytes")
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            csr = x509.load_pem_x509_csr(text)
        else:
            csr = x509.load_der_x509_csr(base64.b64decode(b"".join(text.split()), validate=True))
    except (ValueError, binascii.Error):
        raise InvalidInput(
            "the body is not a PKCS#10 certificate request (PEM or base64 DER)"
        ) from None
    if not csr.is_signature_valid:
        raise InvalidInput("the certificate request's signature does not verify")
    return csr


def csr_public_key(csr: x509.CertificateSigningRequest) -> PublicKey:
    """The request's key if it is one Kyodo issues for; `InvalidInput` naming what is wrong."""
    key = csr.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise InvalidInput(f"an RSA key of {key.key_size} bits: use {MIN_RSA_BITS} or more")
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in EC_CURVES:
            raise InvalidInput(f"an EC key on {key.curve.name}: use P-256, P-384 or P-521")
        return key
    raise InvalidInput("the request's key is neither RSA nor EC")


def sign_client_csr(
    ca: CertifiedKey,
    csr: x509.CertificateSigningRequest,
    username: str,
    *,
    person_id: str,
    days: int = 365,
    now: datetime | None = None,
) -> x509.Certificate:
    """A client certificate (clientAuth) for the request's key, named by Kyodo, not by the
    request: CN = username, O/OU as the CA's, URI SAN `urn:kyodo:person:<id>`. Whatever
    subject or extensions the request asks for are ignored."""
    check_username(username)
    public_key = csr_public_key(csr)
    org = _first(ca.certificate.subject, NameOID.ORGANIZATION_NAME)
    unit = _first(ca.certificate.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
    alt_names = [x509.UniformResourceIdentifier(PERSON_URN_PREFIX + person_id)]
    return _certificate(
        ca,
        _name(username, org, unit),
        alt_names,
        ExtendedKeyUsageOID.CLIENT_AUTH,
        days,
        public_key,
        now,
    )


def _first(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def name_entries(ca: x509.Certificate) -> list[tuple[str, str]]:
    """The subject entries a client should put in its request (TAK's tls/config): the CA's O
    and OU, as (short name, value)."""
    entries: list[tuple[str, str]] = []
    for short, oid in (("O", NameOID.ORGANIZATION_NAME), ("OU", NameOID.ORGANIZATIONAL_UNIT_NAME)):
        value = _first(ca.subject, oid)
        if value:
            entries.append((short, value))
    return entries
