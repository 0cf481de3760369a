"""TAK data packages: PKCS#12 files, the ATAK server preference, and the enrolment zip."""

from __future__ import annotations

import html
import io
import uuid
import zipfile
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from kyodo.errors import InvalidInput
from kyodo.pki.names import check_username, parse_host

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kyodo.pki.issuing import CertifiedKey

DEFAULT_TLS_PORT = 8089
# ATAK on older Android reads only the legacy PKCS#12 encryption (3DES, SHA-1 MAC); see
# docs/cot-tls.md. The password sits beside the file in server.pref anyway, so the package's
# protection is its handling, not this cipher.
P12_KDF_ROUNDS = 50_000


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


# The password of the PKCS#12 that TAK Server's signClient (v1) answers, which TAK clients
# open with it: the file holds only certificates, so it protects nothing secret.
SIGN_CLIENT_PASSWORD = "atakatak"  # noqa: S105


def signed_client_p12(signed: x509.Certificate, chain: Sequence[x509.Certificate]) -> bytes:
    """TAK Server's signClient (v1) answer: the signed certificate (alias `signedCert`) and
    its CA chain (`ca0`, `ca1`…) as trusted-certificate entries, no key (the client keeps its
    own), under SIGN_CLIENT_PASSWORD with the legacy encryption old Android keystores read."""
    entries = [pkcs12.PKCS12Certificate(signed, b"signedCert")] + [
        pkcs12.PKCS12Certificate(ca, f"ca{i}".encode()) for i, ca in enumerate(chain)
    ]
    return pkcs12.serialize_java_truststore(
        entries, _p12_encryption(SIGN_CLIENT_PASSWORD, legacy=True)
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
