"""TAK Server's Marti API as TAK clients call it: version, connected clients, enrolment,
the (empty) device profiles."""

from __future__ import annotations

import base64
import binascii
import html
from datetime import UTC
from typing import TYPE_CHECKING, Annotated, Any

from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from kyodo import __version__
from kyodo.api.deps import Context, CurrentActor, client_address, current_actor
from kyodo.errors import Conflict, Unauthenticated
from kyodo.pki.issuing import name_entries
from kyodo.pki.packages import signed_client_p12
from kyodo.services import auth, identity, tak_clients

if TYPE_CHECKING:
    from cryptography import x509

    from kyodo.pki.issuing import CertifiedKey

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


def enrolment_ca(request: Request) -> CertifiedKey | None:
    """The CA that signs enrolled certificates (loaded by the app from the settings), or None."""
    ca: CertifiedKey | None = getattr(request.app.state, "enrolment_ca", None)
    return ca


@router.get("/tls/config", response_class=Response)
async def tls_config(request: Request) -> Response:
    """The subject entries a TAK client puts in its certificate request (the CA's O and OU),
    as TAK Server's certificateConfig XML; 409 when this server does not enrol."""
    ca = enrolment_ca(request)
    if ca is None:
        raise Conflict(_NOT_SET_UP)
    entries = "".join(
        f'<nameEntry name="{html.escape(name)}" value="{html.escape(value)}"/>'
        for name, value in name_entries(ca.certificate)
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<ns2:certificateConfig xmlns="http://bbn.com/marti/xml/config" '
        'xmlns:ns2="com.bbn.marti.config">'
        f"<nameEntries>{entries}</nameEntries></ns2:certificateConfig>"
    )
    return Response(body, media_type="application/xml")


_NOT_SET_UP = "certificate enrolment is not set up on this server (cot_tls_ca and cot_enrol_ca_key)"


def _basic(authorization: str | None) -> tuple[str, str]:
    """Username and password from an HTTP Basic header (never logged)."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise Unauthenticated("enrolment needs your Kyodo username and password (HTTP Basic)")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("the Basic credentials are not base64 of username:password") from None
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise Unauthenticated("the Basic credentials are not base64 of username:password")
    return username, password


def _b64(certificate: x509.Certificate) -> str:
    """A certificate as TAK Server sends it: base64 DER, i.e. PEM without its armour."""
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")


async def _enrol(
    request: Request, ctx: Context, client_uid: str, authorization: str | None
) -> identity.Enrolled:
    """The password checked (throttled, audited as a login), then the request's key certified
    and registered to that person: what both signClient versions do before they answer."""
    ca = enrolment_ca(request)
    username, password = _basic(authorization)
    actor = await auth.login_stream(
        ctx, username, password, client_address(request), via="marti-enrol"
    )
    if ca is None:  # after the login, so the server says nothing to a guesser
        raise Conflict(_NOT_SET_UP)
    return await identity.enrol_certificate(
        ctx,
        actor,
        await request.body(),
        ca,
        client_uid=client_uid,
        days=request.app.state.settings.cot_enrol_days,
    )


ClientUid = Annotated[str, Query(alias="clientUid", max_length=200)]


@router.post("/tls/signClient/v2", response_class=JSONResponse)
async def sign_client_v2(
    request: Request,
    ctx: Context,
    client_uid: ClientUid = "",
    version: Annotated[str, Query(max_length=200)] = "",
    authorization: Annotated[str | None, Header()] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Enrol a TAK device: HTTP Basic with your Kyodo username and password (throttled and
    audited as a login), the body a PKCS#10 request (PEM or base64 DER). Answers the signed
    certificate (`signedCert`) and the CA to trust (`ca0`), base64 DER, as JSON (or TAK
    Server's `<enrollment>` XML if asked for XML); the certificate is registered to you."""
    enrolled = await _enrol(request, ctx, client_uid, authorization)
    signed, trusted = _b64(enrolled.certificate), _b64(enrolled.ca)
    if accept is not None and "xml" in accept and "json" not in accept:
        return Response(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f"<enrollment><signedCert>{signed}</signedCert><ca>{trusted}</ca></enrollment>",
            media_type="application/xml",
        )
    return JSONResponse({"signedCert": signed, "ca0": trusted})


@router.post(
    "/tls/signClient",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def sign_client_v1(
    request: Request,
    ctx: Context,
    client_uid: ClientUid = "",
    version: Annotated[str, Query(max_length=200)] = "",
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Enrol a TAK device as older clients do (TAK Server's first signClient): the same
    password check and request as v2, answered as a PKCS#12 file (password `atakatak`, as TAK
    Server's) holding the signed certificate (`signedCert`) and the CA (`ca0`). The device's
    private key never leaves it: the file carries certificates only."""
    enrolled = await _enrol(request, ctx, client_uid, authorization)
    return Response(
        signed_client_p12(enrolled.certificate, [enrolled.ca]),
        media_type="application/octet-stream",
    )


@router.get("/tls/profile/enrollment", status_code=204, response_class=Response)
async def enrolment_profile(
    request: Request,
    ctx: Context,
    client_uid: ClientUid = "",
    authorization: Annotated[str | None, Header()] = None,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Response:
    """The device profile a TAK client fetches right after enrolling (HTTP Basic, as for
    enrolment, or any way of logging in). Kyodo keeps no device profiles, so the answer is
    TAK Server's for an empty one: 204, no content."""
    if authorization is not None and authorization.lower().startswith("basic "):
        username, password = _basic(authorization)
        await auth.login_stream(
            ctx, username, password, client_address(request), via="marti-profile"
        )
    else:
        await current_actor(request, ctx, authorization, x_csrf_token)
    return Response(status_code=204)


@router.get("/device/profile/connection", status_code=204, response_class=Response)
async def connection_profile(
    actor: CurrentActor,
    client_uid: ClientUid = "",
    sync_secago: Annotated[int, Query(alias="syncSecago")] = -1,
) -> Response:
    """The profile a TAK client fetches each time it connects (on 8443, with its certificate):
    empty, as for enrolment — 204."""
    return Response(status_code=204)
