"""TAK Server's Enterprise Sync as ATAK calls it (files and data packages), labels enforced."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest

from kyodo.api.app import create_app
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings

from tests.support.factories import add_person, bearer

PACKAGE = b"PK\x03\x04" + bytes(range(256)) * 8  # a zip's magic, then every byte value
SHA = hashlib.sha256(PACKAGE).hexdigest()


@pytest.fixture
async def http(ctx: ServiceContext, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    limited = settings.model_copy(update={"max_body_bytes": 1024, "file_max_bytes": 8192})
    app = create_app(limited, context=ctx)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://kyodo.test:8443") as c:
        yield c


@pytest.fixture
async def people(
    ctx: ServiceContext, operator: Actor, http: httpx.AsyncClient
) -> dict[str, dict[str, str]]:
    await add_person(ctx, operator, "smith", clearance="TOP SECRET")
    await add_person(ctx, operator, "sato", nation="JPN", clearance="KIMITSU")
    return {"smith": await bearer(http, "smith"), "sato": await bearer(http, "sato")}


def _asset(data: bytes = PACKAGE, name: str = "pkg") -> dict[str, tuple[str, bytes, str]]:
    return {"assetfile": (name, data, "application/x-zip-compressed")}


async def _audit(ctx: ServiceContext, action: str) -> list[tuple[str, str]]:
    async with ctx.db.transaction(write=False) as tx:
        return [
            (r.entry.decision, r.entry.actor)
            async for r in tx.audit.walk()
            if r.entry.action == action
        ]


async def test_a_data_package_as_atak_shares_it(
    ctx: ServiceContext, http: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    smith = people["smith"]
    query = f"/Marti/sync/missionquery?hash={SHA}"
    assert (await http.get(query, headers=smith)).status_code == 404
    up = await http.post(
        f"/Marti/sync/missionupload?hash={SHA}&filename=Harbor%20plan&creatorUid=ANDROID-1",
        files=_asset(),
        headers=smith,
    )
    assert up.status_code == 200, up.text
    url = f"https://kyodo.test:8443/Marti/sync/content?hash={SHA}"
    assert up.text == url  # TAK Server's answer: the download URL, as text
    found = await http.get(query, headers=smith)
    assert (found.status_code, found.text) == (200, url)
    got = await http.get(url, headers=smith)
    assert got.status_code == 200 and got.content == PACKAGE
    assert got.headers["content-type"] == "application/x-zip-compressed"
    assert 'filename="Harbor%20plan"' in got.headers["content-disposition"]
    assert got.headers["cache-control"] == "no-store"
    head = await http.head(url, headers=smith)
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(PACKAGE)))
    listed = (await http.get("/Marti/sync/search?keywords=missionpackage", headers=smith)).json()
    assert listed["resultCount"] == 1
    (item,) = listed["results"]
    assert set(item) == {
        "UID", "Name", "Hash", "PrimaryKey", "SubmissionDateTime", "SubmissionUser",
        "CreatorUid", "Keywords", "MIMEType", "Size", "EXPIRATION", "Tool",
    }  # fmt: skip
    assert (item["Hash"], item["Name"], item["CreatorUid"], item["Size"]) == (
        SHA,
        "Harbor plan",
        "ANDROID-1",
        str(len(PACKAGE)),
    )
    assert (item["SubmissionUser"], item["Tool"], item["Keywords"]) == (
        "smith",
        "public",
        ["missionpackage"],
    )
    assert item["SubmissionDateTime"].endswith("Z")
    assert await _audit(ctx, "file.upload") == [("allow", "smith")]
    assert await _audit(ctx, "file.read") == [("allow", "smith")]


async def test_sync_upload_raw_and_multipart_search_and_tool(
    http: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    smith = people["smith"]
    raw = await http.post(
        "/Marti/sync/upload?name=photo.jpg&keywords=photo,harbor&creatorUid=ANDROID-1",
        content=b"\xff\xd8\xff photo",
        headers=smith | {"Content-Type": "image/jpeg"},
    )
    assert raw.status_code == 200, raw.text
    assert (raw.json()["Name"], raw.json()["MIMEType"]) == ("photo.jpg", "image/jpeg")
    assert raw.json()["Keywords"] == ["photo", "harbor"]
    assert raw.json()["CreatorUid"] == "ANDROID-1"
    itak = await http.post(
        "/Marti/sync/upload?name=i.txt&CreatorUid=IOS-1", content=b"from iTAK", headers=smith
    )
    assert itak.json()["CreatorUid"] == "IOS-1"
    multi = await http.post(
        "/Marti/sync/upload?keywords=doc", files=_asset(b"a document", "notes.txt"), headers=smith
    )
    assert multi.status_code == 200, multi.text
    assert multi.json()["Name"] == "notes.txt"
    photo_hash = raw.json()["Hash"]
    tool = f"/Marti/api/sync/metadata/{photo_hash}/tool"
    assert (await http.put(tool, content=b"private", headers=smith)).status_code == 200
    private = (await http.get("/Marti/sync/search?tool=private", headers=smith)).json()
    assert [r["Hash"] for r in private["results"]] == [photo_hash]
    public = (await http.get("/Marti/sync/search?tool=public", headers=smith)).json()
    assert [r["Name"] for r in public["results"]] == ["i.txt", "notes.txt"]
    assert (await http.get("/Marti/sync/search?keywords=harbor", headers=smith)).json()[
        "resultCount"
    ] == 1


async def test_a_noforn_file_does_not_exist_for_a_japanese_reader(
    ctx: ServiceContext, http: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    smith, sato = people["smith"], people["sato"]
    up = await http.post(
        "/Marti/sync/missionupload?filename=secret.zip&label=SECRET//NOFORN",
        files=_asset(),
        headers=smith,
    )
    assert up.status_code == 200, up.text
    missing_hash = hashlib.sha256(b"nothing").hexdigest()
    for wanted in (SHA, missing_hash):
        answers = [
            await http.get(f"/Marti/sync/content?hash={wanted}", headers=sato),
            await http.get(f"/Marti/sync/missionquery?hash={wanted}", headers=sato),
            await http.put(
                f"/Marti/api/sync/metadata/{wanted}/tool", content=b"private", headers=sato
            ),
        ]
        assert [a.status_code for a in answers] == [404, 404, 404]
        # A hidden file is answered in the very words a missing one is.
        assert answers[0].json()["detail"] == f"no file with hash {wanted}"
    assert (await http.get("/Marti/sync/search", headers=sato)).json() == {
        "resultCount": 0,
        "results": [],
    }
    assert (await http.get(f"/Marti/sync/search?hash={SHA}", headers=sato)).json()[
        "resultCount"
    ] == 0
    assert (await http.get(f"/Marti/sync/content?hash={SHA}", headers=smith)).content == PACKAGE
    # Her asks for the hidden file are audited as refusals (for missing ones, nothing to audit).
    assert (await _audit(ctx, "file.read")).count(("deny", "sato")) == 2
    assert await _audit(ctx, "file.tool") == [("deny", "sato")]
    # Sato may not upload at a label above what she may read: refused and audited.
    refused = await http.post(
        "/Marti/sync/upload?name=x&label=SECRET//NOFORN", content=b"x", headers=sato
    )
    assert refused.status_code == 403
    assert ("deny", "sato") in await _audit(ctx, "file.upload")


async def test_the_same_content_at_two_labels_is_two_records(
    http: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    smith, sato = people["smith"], people["sato"]
    low = await http.post("/Marti/sync/upload?name=open.zip", content=PACKAGE, headers=smith)
    high = await http.post(
        "/Marti/sync/upload?name=closed.zip&label=SECRET//NOFORN", content=PACKAGE, headers=smith
    )
    again = await http.post("/Marti/sync/upload?name=renamed.zip", content=PACKAGE, headers=smith)
    assert low.json()["PrimaryKey"] != high.json()["PrimaryKey"]
    # Bytes already held at the same label: the record held, unchanged.
    assert again.json() == low.json()
    names = {
        r["Name"] for r in (await http.get("/Marti/sync/search", headers=smith)).json()["results"]
    }
    assert names == {"open.zip", "closed.zip"}
    theirs = (await http.get("/Marti/sync/search", headers=sato)).json()["results"]
    assert [r["Name"] for r in theirs] == ["open.zip"]
    got = await http.get(f"/Marti/sync/content?hash={SHA}", headers=sato)
    assert got.status_code == 200 and 'filename="open.zip"' in got.headers["content-disposition"]


async def test_an_unlabelled_upload_gets_the_label_of_tak_traffic(
    ctx: ServiceContext, http: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    await http.post("/Marti/sync/upload?name=a.zip", content=PACKAGE, headers=people["smith"])
    async with ctx.db.transaction(write=False) as tx:
        (record,) = await tx.files.held(SHA)
    assert record.label == ctx.unclassified()  # the CoT feed's default (settings: UNCLASSIFIED)


async def test_bad_input_is_answered_with_a_reason(
    http: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    smith = people["smith"]
    cases = [
        (await http.get("/Marti/sync/content?hash=nothex", headers=smith), 422, "SHA-256"),
        (await http.get("/Marti/sync/content", headers=smith), 422, "hash"),
        (
            await http.post("/Marti/sync/missionupload?filename=a", content=b"x", headers=smith),
            422,
            "multipart",
        ),
        (
            await http.post(
                "/Marti/sync/missionupload?filename=a",
                files={"other": ("a", b"x", "text/plain")},
                headers=smith,
            ),
            422,
            "assetfile",
        ),
        (
            await http.post(
                f"/Marti/sync/missionupload?filename=a&hash={'0' * 64}",
                files=_asset(),
                headers=smith,
            ),
            422,
            "SHA-256",
        ),
        (await http.post("/Marti/sync/upload?name=a", content=b"", headers=smith), 422, "empty"),
        (
            await http.post(
                "/Marti/sync/upload?name=a&label=NOT A LABEL", content=b"x", headers=smith
            ),
            422,
            "",
        ),
    ]
    for answer, status, words in cases:
        assert answer.status_code == status, answer.text
        assert words in answer.json()["detail"]
    await http.post("/Marti/sync/upload?name=a", content=b"x", headers=smith)
    bad_tool = await http.put(
        f"/Marti/api/sync/metadata/{hashlib.sha256(b'x').hexdigest()}/tool",
        content=b"secret",
        headers=smith,
    )
    assert bad_tool.status_code == 422 and "public" in bad_tool.json()["detail"]
    assert (await http.get("/Marti/sync/search")).status_code == 401


async def test_uploads_may_be_as_large_as_the_file_limit_and_no_larger(
    http: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    smith = people["smith"]
    # Above the app's body limit (1 KiB here), within the file limit (8 KiB): taken.
    fits = await http.post("/Marti/sync/upload?name=big", content=b"a" * 6000, headers=smith)
    assert fits.status_code == 200, fits.text
    over = await http.post("/Marti/sync/upload?name=big", content=b"b" * 9000, headers=smith)
    assert over.status_code == 422 and "8192 bytes" in over.json()["detail"]
    far_over = await http.post("/Marti/sync/upload?name=big", content=b"c" * 200_000, headers=smith)
    assert far_over.status_code == 413
    # Every other route keeps the app's limit.
    other = await http.post("/api/v1/auth/tokens", content=b"{" + b" " * 2000 + b"}", headers=smith)
    assert other.status_code == 413
