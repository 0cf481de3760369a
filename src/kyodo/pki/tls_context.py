"""The server-side TLS contexts of Kyodo's listeners (CoT on 8089, HTTPS on 8443 and 8446)."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def server_context(
    cert: Path, key: Path, ca: Path, *, client_certificate: bool, alpn: tuple[str, ...] = ()
) -> ssl.SSLContext:
    """A TLS 1.2+ server context with Kyodo's server certificate. With `client_certificate`
    every client must present a certificate issued by `ca`, or the handshake fails (who it
    is, is then the registration's to say); without, none is asked for."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca))
    context.load_cert_chain(str(cert), str(key))
    context.verify_mode = ssl.CERT_REQUIRED if client_certificate else ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context
