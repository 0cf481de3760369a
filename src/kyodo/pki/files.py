"""Certificates and keys as PEM files: keys written 0600 and atomically, never clobbered."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kyodo.errors import Conflict, InvalidInput, NotFound
from kyodo.pki.issuing import CertifiedKey, PrivateKey, require_ca


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
    require_ca(ca.certificate)
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
