"""Certificates for CoT over TLS: a CA, server and client certificates, TAK data packages.

Everything here works on `cryptography` objects and bytes, except the few functions that read and
write files (`load_*`, `write_*`), which keep private keys at mode 0600 and never print them.
Validation failures raise `InvalidInput`, missing files `NotFound`, existing outputs `Conflict`.
"""

from __future__ import annotations

import html
import io
import ipaddress
import os
import re
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kyodo.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
KeyType = Literal["ec", "rsa"]

DEFAULT_TLS_PORT = 8089
PERSON_URN_PREFIX = "urn:kyodo:person:"
RSA_BITS = 3072
# Clocks on field devices drift; a certificate that starts a few minutes early still works there.
BACKDATE = timedelta(minutes=5)
# ATAK on older Android reads only the legacy PKCS#12 encryption (3DES, SHA-1 MAC); see
# docs/cot-tls.md. The password sits beside the file in server.pref anyway, so the package's
# protection is its handling, not this cipher.
P12_KDF_ROUNDS = 50_000

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class CertifiedKey:
    """A certificate and its private key (the key is left out of repr, so it never gets logged)."""

    certificate: x509.Certificate
    key: PrivateKey = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """The certificate's SHA-256 fingerprint, as registered to a person."""
        return fingerprint(self.certificate)


# --- names and fingerprints ------------------------------------------------------------------


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


# --- issuing -----------------------------------------------------------------------------------


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
    _require_ca(ca.certificate)
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


def _require_ca(certificate: x509.Certificate) -> None:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.value.ca:
        raise InvalidInput(f"{certificate.subject.rfc4514_string()} is not a CA certificate")


# --- PEM and files -----------------------------------------------------------------------------


def certificate_pem(certificate: x509.Certificate) -> bytes:
    """The certificate as PEM."""
    return certificate.public_bytes(serialization.Encoding.PEM)


def private_key_pem(key: PrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM: protect it with file permissions (`write_pair`)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no {what} at {path}") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {what} {path}: {exc.strerror}") from None


def load_certificate(path: Path) -> x509.Certificate:
    """The first certificate in a PEM (or DER) file."""
    data = _read(path, "certificate")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)[0]
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise InvalidInput(f"{path} holds no readable X.509 certificate") from None


def load_private_key(path: Path) -> PrivateKey:
    """An unencrypted EC or RSA private key from a PEM file."""
    data = _read(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        # The exception text could quote the file; say only what went wrong.
        raise InvalidInput(f"{path} holds no readable unencrypted private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise InvalidInput(f"{path}: only EC and RSA keys are supported")
    return key


def load_pair(certificate_path: Path, key_path: Path) -> CertifiedKey:
    """A certificate and its key from PEM files; `InvalidInput` if they do not belong together."""
    certificate = load_certificate(certificate_path)
    key = load_private_key(key_path)
    if key.public_key() != certificate.public_key():
        raise InvalidInput(f"{key_path} is not the key of {certificate_path}")
    return CertifiedKey(certificate, key)


def load_ca(directory: Path) -> CertifiedKey:
    """The CA written by `write_pair(ca, directory, "ca")`."""
    ca = load_pair(directory / "ca.pem", directory / "ca.key")
    _require_ca(ca.certificate)
    return ca


def pair_paths(directory: Path, stem: str) -> tuple[Path, Path]:
    """Where `write_pair` puts a certificate and its key: `<stem>.pem`, `<stem>.key`."""
    return directory / f"{stem}.pem", directory / f"{stem}.key"


def write_file(path: Path, data: bytes, *, mode: int, force: bool = False) -> None:
    """Write atomically with `mode` from the start; refuse to replace a file unless `force`."""
    if not force and path.exists():
        raise Conflict(f"{path} already exists")
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    # mkstemp creates the file 0600, so a key is never readable by others, not even briefly.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(mode)
        if force:
            tmp.replace(path)
        else:
            try:
                os.link(tmp, path)  # fails if the file appeared meanwhile: never clobber
            except FileExistsError:
                raise Conflict(f"{path} already exists") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_pair(
    pair: CertifiedKey, directory: Path, stem: str, *, force: bool = False
) -> tuple[Path, Path]:
    """Write `<stem>.pem` (0644) and `<stem>.key` (0600); nothing is written if either exists."""
    cert_path, key_path = pair_paths(directory, stem)
    if not force:
        for path in (cert_path, key_path):
            if path.exists():
                raise Conflict(f"{path} already exists")
    write_file(key_path, private_key_pem(pair.key), mode=0o600, force=force)
    write_file(cert_path, certificate_pem(pair.certificate), mode=0o644, force=force)
    return cert_path, key_path


# --- TAK data package --------------------------------------------------------------------------


def _p12_encryption(password: str, legacy: bool) -> serialization.KeySerializationEncryption:
    if not password:
        raise InvalidInput("a PKCS#12 file needs a password")
    secret = password.encode()
    if not legacy:
        return serialization.BestAvailableEncryption(secret)
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(P12_KDF_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303 - the PKCS#12 MAC old Android keystores read
        .build(secret)
    )


def client_p12(
    client: CertifiedKey, ca: x509.Certificate, password: str, *, legacy: bool = True
) -> bytes:
    """PKCS#12 with the client's key and certificate and the CA, under `password`."""
    name = client.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    friendly = str(name[0].value).encode() if name else b"client"
    return pkcs12.serialize_key_and_certificates(
        friendly, client.key, client.certificate, [ca], _p12_encryption(password, legacy)
    )


def truststore_p12(ca: x509.Certificate, password: str, *, legacy: bool = True) -> bytes:
    """PKCS#12 holding only the CA certificate: what a TAK client trusts the server by."""
    return pkcs12.serialize_key_and_certificates(
        b"kyodo-ca", None, None, [ca], _p12_encryption(password, legacy)
    )


def connect_string(host: str, port: int = DEFAULT_TLS_PORT) -> str:
    """The ATAK stream address, `HOST:PORT:ssl` (IPv6 addresses cannot be written in it)."""
    if isinstance(parse_host(host), x509.IPAddress) and ":" in host:
        raise InvalidInput(f"{host!r}: TAK connect strings cannot hold IPv6 addresses; use a name")
    if not 1 <= port <= 65535:
        raise InvalidInput(f"port {port} is not between 1 and 65535")
    return f"{host.strip()}:{port}:ssl"


def _entry(key: str, value: str | int | bool) -> str:
    kind = {bool: "Boolean", int: "Integer", str: "String"}[type(value)]
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f'    <entry key="{key}" class="class java.lang.{kind}">{html.escape(text)}</entry>\n'


def server_pref(
    *,
    description: str,
    connect: str,
    truststore: str,
    client_cert: str,
    password: str,
) -> str:
    """ATAK/WinTAK preference XML: one TLS stream, with the certificate files and their passwords.

    ATAK copies imported `.p12` files into its `cert/` folder, so the paths are `cert/<file>`.
    The stream's own `caLocation0`… keys bind the certificates to this server; the app-wide keys
    are what older clients read.
    """
    certs = {
        "caLocation": f"cert/{truststore}",
        "caPassword": password,
        "certificateLocation": f"cert/{client_cert}",
        "clientPassword": password,
    }
    stream = [
        _entry("count", 1),
        _entry("description0", description),
        _entry("enabled0", True),
        _entry("connectString0", connect),
        *(_entry(f"{key}0", value) for key, value in certs.items()),
    ]
    app = [
        _entry("displayServerConnectionWidget", True),
        *(_entry(key, value) for key, value in certs.items()),
    ]
    return (
        "<?xml version='1.0' encoding='ASCII' standalone='yes'?>\n"
        "<preferences>\n"
        '  <preference version="1" name="cot_streams">\n' + "".join(stream) + "  </preference>\n"
        '  <preference version="1" name="com.atakmap.app_preferences">\n'
        + "".join(app)
        + "  </preference>\n"
        "</preferences>\n"
    )


def manifest_xml(*, uid: str, name: str, entries: Sequence[str]) -> str:
    """`MANIFEST/manifest.xml` of a mission package: import on receipt, then delete the zip."""
    contents = "".join(
        f'    <Content ignore="false" zipEntry="{html.escape(entry)}"/>\n' for entry in entries
    )
    return (
        '<MissionPackageManifest version="2">\n'
        "  <Configuration>\n"
        f'    <Parameter name="uid" value="{html.escape(uid)}"/>\n'
        f'    <Parameter name="name" value="{html.escape(name)}"/>\n'
        '    <Parameter name="onReceiveImport" value="true"/>\n'
        '    <Parameter name="onReceiveDelete" value="true"/>\n'
        "  </Configuration>\n"
        "  <Contents>\n" + contents + "  </Contents>\n"
        "</MissionPackageManifest>\n"
    )


def data_package(
    client: CertifiedKey,
    ca: x509.Certificate,
    *,
    username: str,
    server_host: str,
    password: str,
    port: int = DEFAULT_TLS_PORT,
    description: str | None = None,
    legacy_p12: bool = True,
) -> bytes:
    """A TAK data package (zip) that enrols one device: its certificate, the CA and the server.

    The package uid is derived from user, host and port, so a re-issued package replaces the
    earlier connection on the device instead of adding a second one.
    """
    check_username(username)
    connect = connect_string(server_host, port)
    client_name = f"{username}.p12"
    entries = ["certs/server.pref", "certs/truststore.p12", f"certs/{client_name}"]
    uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"kyodo:tak:{username}@{connect}"))
    pref = server_pref(
        description=description or f"Kyodo {server_host.strip()}",
        connect=connect,
        truststore="truststore.p12",
        client_cert=client_name,
        password=password,
    )
    buffer = io.BytesIO()
    manifest = manifest_xml(
        uid=uid, name=f"Kyodo {username}@{server_host.strip()}", entries=entries
    )
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # The pref file declares ASCII: anything else goes in as character references.
        archive.writestr("MANIFEST/manifest.xml", manifest.encode("ascii", "xmlcharrefreplace"))
        archive.writestr("certs/server.pref", pref.encode("ascii", "xmlcharrefreplace"))
        archive.writestr("certs/truststore.p12", truststore_p12(ca, password, legacy=legacy_p12))
        archive.writestr(
            f"certs/{client_name}", client_p12(client, ca, password, legacy=legacy_p12)
        )
    return buffer.getvalue()
