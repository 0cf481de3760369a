"""The ASGI TLS extension: each request on Kyodo's HTTPS listeners carries its connection's TLS
facts (the client certificate above all) in `scope["extensions"]["tls"]`.

uvicorn builds no such entry, so the HTTPS listeners (`api.listeners`) wrap the app they call
for each connection in `with_tls`, which sets the entry from that connection's own `ssl_object`.
The identity therefore comes only from the TLS layer of Kyodo's listener: no header, proxy or
client can put a certificate there, and on the plain HTTP listener there is no entry at all."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from cryptography import x509

if TYPE_CHECKING:
    import asyncio

    from starlette.types import ASGIApp, Receive, Scope, Send

# The extension's `tls_version` numbers (the TLS record's version field).
_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def tls_extension(transport: asyncio.BaseTransport) -> dict[str, Any]:
    """The extension's entry for a TLS connection: `client_cert_chain` holds the verified
    client certificate (PEM) when the listener asked for one, else nothing."""
    ssl_object = transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    name = None
    if der:
        name = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    version = ssl_object.version() if ssl_object is not None else None
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": name,
        # The handshake of a listener that asks for a certificate fails unless it verifies.
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(version or ""),
        "cipher_suite": None,  # Python's ssl names the suite but does not give its number
    }


def client_certificate(scope: Scope) -> bytes | None:
    """The DER client certificate that this request's TLS connection presented to one of
    Kyodo's own listeners, or None (plain HTTP, or a listener that asks for none)."""
    extensions = scope.get("extensions") or {}
    tls = extensions.get("tls")
    if not isinstance(tls, dict):
        return None
    chain = tls.get("client_cert_chain") or []
    if not chain or not isinstance(chain[0], str):
        return None
    return ssl.PEM_cert_to_DER_cert(chain[0])


def with_tls(app: ASGIApp, tls: dict[str, Any]) -> ASGIApp:
    """`app` with `tls` as every request's TLS entry (for one connection)."""

    async def app_with_tls(scope: Scope, receive: Receive, send: Send) -> None:
        # A new dict: whatever the server put there stays, the TLS entry is always ours.
        scope["extensions"] = {**(scope.get("extensions") or {}), "tls": tls}
        await app(scope, receive, send)

    return app_with_tls
