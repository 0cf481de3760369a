"""TAK Server's Enterprise Sync as ATAK, WinTAK and iTAK call it: files and data packages."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.datastructures import UploadFile

from kyodo.api.deps import Context, CurrentActor
from kyodo.errors import InvalidInput
from kyodo.labels import parse_marking
from kyodo.services import files

if TYPE_CHECKING:
    from kyodo.domain.files import StoredFile
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

router = APIRouter(prefix="/Marti", tags=["tak"])
# The parts a TAK client (assetfile) or a browser (resource) names the file in.
FILE_PARTS = ("assetfile", "resource")
MISSION_PACKAGE = "missionpackage"  # TAK's keyword for data packages
# The routes that take a file: the app's body limit is the file limit there.
UPLOAD_PATHS = frozenset({"/Marti/sync/upload", "/Marti/sync/missionupload"})
NO_STORE = {"Cache-Control": "no-store"}
Text = Annotated[str | None, Query(max_length=1000)]
# ATAK and WinTAK send creatorUid; iTAK CreatorUid.
CreatorUid = Annotated[str, Query(alias="creatorUid", max_length=200)]
ItakCreatorUid = Annotated[str, Query(alias="CreatorUid", max_length=200)]


def base_url(request: Request) -> str:
    """What a client reaches this server at: the request's own base URL."""
    return str(request.base_url).rstrip("/")


def content_url(request: Request, sha256: str) -> str:
    """Where a file is downloaded from (what TAK Server answers an upload with)."""
    return f"{base_url(request)}/Marti/sync/content?hash={sha256}"


def result(record: StoredFile) -> dict[str, Any]:
    """A file as TAK Server's search lists it (its Metadata field names)."""
    return {
        "UID": record.sha256,
        "Name": record.name,
        "Hash": record.sha256,
        "PrimaryKey": str(record.id),
        "SubmissionDateTime": record.submitted_at.astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "SubmissionUser": record.submitter,
        "CreatorUid": record.creator_uid,
        "Keywords": list(record.keywords),
        "MIMEType": record.mime_type,
        "Size": str(record.size),
        "EXPIRATION": "-1",
        "Tool": record.tool,
    }


async def _label(ctx: ServiceContext, request: Request, marking: str | None) -> Any:
    label = None if marking is None else parse_marking(marking, ctx.registry)
    return await files.upload_label(ctx, request.app.state.settings.cot_feed, label)


async def _body(request: Request) -> tuple[bytes, str | None, str | None]:
    """The file's bytes, its part's file name and MIME type: the multipart part TAK clients
    send (`assetfile`), else the raw body."""
    kind = request.headers.get("content-type", "")
    if "multipart/form-data" not in kind:
        return await request.body(), None, kind or None
    limit = request.app.state.settings.file_max_bytes
    # Closed on the way out: the parts are spooled to temporary files.
    async with request.form(max_files=1, max_fields=20, max_part_size=limit) as form:
        for part in FILE_PARTS:
            found = form.get(part)
            if isinstance(found, UploadFile):
                return await found.read(), found.filename, found.content_type
    raise InvalidInput("the multipart upload has no file part named assetfile")


async def _store(
    ctx: ServiceContext,
    actor: Actor,
    request: Request,
    *,
    name: str | None,
    keywords: list[str],
    creator_uid: str,
    marking: str | None,
    mime_type: str | None = None,
    expected_hash: str | None = None,
) -> StoredFile:
    data, part_name, part_type = await _body(request)
    record, _ = await files.upload(
        ctx,
        actor,
        data,
        name=name or part_name or "upload",
        label=await _label(ctx, request, marking),
        max_bytes=request.app.state.settings.file_max_bytes,
        mime_type=mime_type or part_type or files.DEFAULT_MIME,
        keywords=keywords,
        creator_uid=creator_uid,
        expected_hash=expected_hash,
    )
    return record


def _keywords(*given: str | None) -> list[str]:
    return [k for text in given if text for k in text.split(",")]


@router.post("/sync/upload")
async def upload(
    request: Request,
    actor: CurrentActor,
    ctx: Context,
    name: Text = None,
    keywords: Text = None,
    keyword: Text = None,
    creator_uid: CreatorUid = "",
    itak_creator_uid: ItakCreatorUid = "",
    label: Annotated[str | None, Query(max_length=500)] = None,
) -> JSONResponse:
    """Upload a file (raw body, or multipart with the part `assetfile`), labelled `label` (a
    marking) or else as your TAK client's events are; you must be allowed to write at that
    label. Answers the file's metadata as TAK Server does."""
    record = await _store(
        ctx,
        actor,
        request,
        name=name,
        keywords=_keywords(keywords, keyword),
        creator_uid=creator_uid or itak_creator_uid,
        marking=label,
    )
    return JSONResponse(result(record), headers=NO_STORE)


@router.post("/sync/missionupload", response_class=PlainTextResponse)
async def mission_upload(
    request: Request,
    actor: CurrentActor,
    ctx: Context,
    filename: Annotated[str, Query(max_length=1000)],
    hash: Annotated[str | None, Query(max_length=64)] = None,
    creator_uid: CreatorUid = "",
    itak_creator_uid: ItakCreatorUid = "",
    mimetype: Annotated[str | None, Query(max_length=200)] = None,
    keyword: Text = None,
    label: Annotated[str | None, Query(max_length=500)] = None,
) -> PlainTextResponse:
    """Upload a data package as ATAK shares one (multipart, part `assetfile`); answers, as
    text, the URL to download it from."""
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise InvalidInput("a data package upload is multipart/form-data, part 'assetfile'")
    record = await _store(
        ctx,
        actor,
        request,
        name=filename,
        keywords=_keywords(keyword) or [MISSION_PACKAGE],
        creator_uid=creator_uid or itak_creator_uid,
        marking=label,
        mime_type=mimetype or "application/x-zip-compressed",
        expected_hash=hash,
    )
    return PlainTextResponse(content_url(request, record.sha256), headers=NO_STORE)


@router.get("/sync/missionquery", response_class=PlainTextResponse)
async def mission_query(
    request: Request,
    actor: CurrentActor,
    ctx: Context,
    hash: Annotated[str, Query(max_length=64)],
) -> PlainTextResponse:
    """Whether a data package is here for you: its download URL, or 404 (also when it is held
    at a label you may not read)."""
    record = await files.find(ctx, actor, hash)
    return PlainTextResponse(content_url(request, record.sha256), headers=NO_STORE)


@router.get("/sync/content", response_class=Response)
@router.head("/sync/content", response_class=Response, include_in_schema=False)
async def content(
    request: Request,
    actor: CurrentActor,
    ctx: Context,
    hash: Annotated[str | None, Query(max_length=64)] = None,
    uid: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Download a file by its hash (or uid, which is its hash here), with its name."""
    wanted = hash or uid
    if not wanted:
        raise InvalidInput("name the file: ?hash=<sha256>")
    if request.method == "HEAD":  # whether it is here: the bytes are not read (nor audited)
        record, data = await files.find(ctx, actor, wanted), b""
    else:
        record, data = await files.content(ctx, actor, wanted)
    disposition = (
        f"inline; filename=\"{quote(record.name)}\"; filename*=UTF-8''{quote(record.name)}"
    )
    return Response(
        data,
        media_type=record.mime_type,
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(record.size),  # also for HEAD, which carries no bytes
            **NO_STORE,
        },
    )


@router.get("/sync/search")
async def search(
    actor: CurrentActor,
    ctx: Context,
    keywords: Text = None,
    keyword: Text = None,
    tool: Annotated[str | None, Query(max_length=20)] = None,
    name: Text = None,
    hash: Annotated[str | None, Query(max_length=64)] = None,
    uid: Annotated[str | None, Query(max_length=64)] = None,
) -> JSONResponse:
    """The files you may read that match (keywords, tool, name, hash), as TAK Server lists
    them: `{resultCount, results}`."""
    found = await files.search(
        ctx,
        actor,
        keyword=keywords or keyword,
        tool=tool,
        name=name,
        sha256=hash or uid,
    )
    listed = [result(f) for f in found]
    return JSONResponse({"resultCount": len(listed), "results": listed}, headers=NO_STORE)


@router.put("/api/sync/metadata/{hash}/tool", response_class=Response)
async def set_tool(
    hash: str,
    request: Request,
    actor: CurrentActor,
    ctx: Context,
) -> Response:
    """Mark a file `public` or `private` (the body is the word, as text)."""
    try:
        tool = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the body is the word public or private") from None
    await files.set_tool(ctx, actor, hash, tool)
    return Response(status_code=200, headers=NO_STORE)
