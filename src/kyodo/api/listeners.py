"""The HTTP server of `kyodo serve`: uvicorn on the HTTP port, and TAK Server's two HTTPS ports
beside it in the same process and app — 8443, where a client certificate says who is calling,
and 8446, without one, where TAK clients enrol with a password."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kyodo.api.logs import log_config
from kyodo.api.tls_scope import tls_extension, with_tls
from kyodo.pki.tls_context import server_context

if TYPE_CHECKING:
    import socket
    import ssl
    from collections.abc import Sequence

    from fastapi import FastAPI
    from starlette.types import ASGIApp

    from kyodo.settings import Settings

log = structlog.get_logger("kyodo.https")
SHUTDOWN_GRACE_SECONDS = 3
CLIENT_CERTIFICATE = "https"  # the listener where a client certificate is required
ENROLMENT = "enrol"  # the listener without client certificates


@dataclass(frozen=True, slots=True)
class HttpsListener:
    """One HTTPS port and its TLS context."""

    name: str
    port: int
    context: ssl.SSLContext


def https_listeners(settings: Settings) -> list[HttpsListener]:
    """The HTTPS listeners the settings ask for: both TAK Server ports, with the CoT TLS
    listener's certificate and CA, whenever its three files are set (a port of 0 is off)."""
    cert, key, ca = settings.cot_tls_cert, settings.cot_tls_key, settings.cot_tls_ca
    if cert is None or key is None or ca is None:
        return []
    alpn = ("http/1.1",)
    wanted = [
        (CLIENT_CERTIFICATE, settings.https_port, True),
        (ENROLMENT, settings.https_enrol_port, False),
    ]
    return [
        HttpsListener(
            name, port, server_context(cert, key, ca, client_certificate=required, alpn=alpn)
        )
        for name, port, required in wanted
        if port
    ]


class TlsScopeMixin:
    """Added before a uvicorn HTTP protocol: its requests (and WebSocket upgrades) carry the
    connection's TLS entry."""

    app: ASGIApp
    ws_protocol_class: type[asyncio.Protocol] | None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        app = self.app = with_tls(self.app, tls_extension(transport))
        upgrade = self.ws_protocol_class
        if upgrade is not None:

            def websocket(**kwargs: Any) -> asyncio.Protocol:
                protocol = upgrade(**kwargs)
                protocol.app = app  # type: ignore[attr-defined]
                return protocol

            # uvicorn only calls it, with keyword arguments, to make the upgraded protocol.
            self.ws_protocol_class = websocket  # type: ignore[assignment]


class TlsH11Protocol(TlsScopeMixin, H11Protocol):
    """uvicorn's h11 protocol with the TLS entry."""


class TlsHttpToolsProtocol(TlsScopeMixin, HttpToolsProtocol):
    """uvicorn's httptools protocol (its "auto" choice, installed with uvicorn[standard]) with
    the TLS entry."""


class KyodoServer(uvicorn.Server):
    """uvicorn's server, which also opens the HTTPS listeners once the app has started; they
    share its connections, so they are drained and closed with the rest."""

    def __init__(self, config: uvicorn.Config, https: Sequence[HttpsListener] = ()) -> None:
        super().__init__(config)
        self.https = list(https)
        self.ports: dict[str, int] = {}  # listener name → port, once open

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.started = False  # until these are open too: `started` means every port is
        config = self.config
        protocol = (
            TlsH11Protocol
            if issubclass(config.http_protocol_class, H11Protocol)
            else TlsHttpToolsProtocol
        )

        def create() -> asyncio.Protocol:
            made: asyncio.Protocol = protocol(
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )
            return made

        loop = asyncio.get_running_loop()
        for listener in self.https:
            try:
                server = await loop.create_server(
                    create,
                    host=config.host,
                    port=listener.port,
                    ssl=listener.context,
                    backlog=config.backlog,
                )
            except OSError as exc:
                # The HTTP port stays up; the operator sees why this one is not there.
                log.error(
                    "https listener not started",
                    listener=listener.name,
                    port=listener.port,
                    reason=exc.strerror,
                    hint="free the port or set KYODO_HTTPS_PORT / KYODO_HTTPS_ENROL_PORT",
                )
                continue
            self.servers.append(server)
            self.ports[listener.name] = server.sockets[0].getsockname()[1]
        if self.ports:
            log.info("https listening", host=config.host, **self.ports)
        self.started = True


def build_server(app: FastAPI, settings: Settings, **overrides: Any) -> KyodoServer:
    """The server `kyodo serve` runs: the app on the HTTP port and the HTTPS listeners."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "proxy_headers": False,
        "server_header": False,
        "ws_per_message_deflate": settings.ws_deflate,
        "ws_max_size": settings.max_body_bytes,
        "log_config": log_config(),
        # A backstop: on SIGTERM open connections are closed and their handlers end at once;
        # anything still running after this is cancelled rather than waited for.
        "timeout_graceful_shutdown": SHUTDOWN_GRACE_SECONDS,
    }
    return KyodoServer(uvicorn.Config(app, **(options | overrides)), https_listeners(settings))
