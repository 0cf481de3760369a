"""TAK Server's Marti API as TAK clients call it: version, connected clients, enrolment."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from kyodo import __version__
from kyodo.api.deps import Context, CurrentActor
from kyodo.services import tak_clients

router = APIRouter(prefix="/Marti/api", tags=["tak"])

API_VERSION = "3"  # the Marti API version TAK Server 4.x/5.x reports
NODE_ID = "kyodo"


def _envelope(kind: str, data: Any) -> dict[str, Any]:
    """TAK Server's JSON envelope: {version, type, data, nodeId}."""
    return {"version": API_VERSION, "type": kind, "data": data, "nodeId": NODE_ID}


def client_source(request: Request) -> tak_clients.ClientSource:
    """The TAK server's connections (wired in by the app; none when it does not run)."""
    source: tak_clients.ClientSource = getattr(
        request.app.state, "tak_clients", tak_clients.NoClients()
    )
    return source


@router.get("/version", response_class=PlainTextResponse)
async def version() -> str:
    """The server's name and version, as plain text (what ATAK shows as the server version)."""
    return f"Kyodo {__version__}"


@router.get("/version/config")
async def version_config(request: Request) -> dict[str, Any]:
    """The server's version, API version and host name, in TAK Server's JSON envelope."""
    return _envelope(
        "ServerConfig",
        {
            "version": __version__,
            "type": "Kyodo",
            "api": API_VERSION,
            "hostname": request.url.hostname or "",
        },
    )


@router.get("/clientEndPoints")
async def client_end_points(request: Request, actor: CurrentActor, ctx: Context) -> dict[str, Any]:
    """The connected TAK clients whose own position report (and person) you may read."""
    shown = tak_clients.client_endpoints(ctx, actor, client_source(request))
    return _envelope(
        "com.bbn.marti.remote.ClientEndpoint",
        [
            {
                "callsign": c.callsign,
                "uid": c.uid,
                "username": c.username,
                "lastEventTime": c.last_event_time.astimezone(UTC)
                .isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
                "lastStatus": "Connected",
            }
            for c in shown
        ],
    )
