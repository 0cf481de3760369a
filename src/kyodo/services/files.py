"""Files and data packages: labelled uploads, reads only within the label, audited.

One record per (content hash, label): the same bytes uploaded at another label are a second
record, found only by readers of that label; uploading bytes already held at the same label
answers the record held (its name and keywords unchanged). A file someone may not read is,
to them, a file that does not exist: content, metadata, search and existence alike.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from kyodo.domain.files import TOOLS, StoredFile, valid_hash
from kyodo.errors import InvalidInput, NotFound, PermissionDenied
from kyodo.labels import join_all
from kyodo.policy import Action, Decision, Resource
from kyodo.services import tracks
from kyodo.services.access import audit_entry, enforce

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

MAX_NAME = 255
MAX_KEYWORDS = 50
MAX_KEYWORD = 100
DEFAULT_MIME = "application/octet-stream"
MAX_SHARED = 16  # hashes one announcement is looked up by (ATAK names one, in two places)


def _missing(sha256: str) -> NotFound:
    # The same words whether the file is absent or hidden from the reader.
    return NotFound(f"no file with hash {sha256}")


def _name(name: str) -> str:
    # A client's path ("C:\\x\\pkg.zip", "dir/pkg.zip") keeps only its last part.
    cleaned = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not 1 <= len(cleaned) <= MAX_NAME or not cleaned.isprintable():
        raise InvalidInput(f"a file name has 1-{MAX_NAME} printable characters")
    return cleaned


def _keywords(keywords: Iterable[str]) -> tuple[str, ...]:
    kept = tuple(dict.fromkeys(k.strip() for k in keywords if k.strip()))
    if len(kept) > MAX_KEYWORDS or any(len(k) > MAX_KEYWORD for k in kept):
        raise InvalidInput(f"at most {MAX_KEYWORDS} keywords of at most {MAX_KEYWORD} characters")
    return kept


async def upload_label(ctx: ServiceContext, feed_name: str, label: Label | None) -> Label:
    """The label an upload gets: the one asked for, else what an unlabelled event of a TAK
    client gets (the CoT feed's default label), else unclassified."""
    if label is not None:
        return label
    try:
        return (await tracks.find_feed(ctx, feed_name)).default_label
    except NotFound:
        return ctx.unclassified()


async def upload(
    ctx: ServiceContext,
    actor: Actor,
    content: bytes,
    *,
    name: str,
    label: Label,
    max_bytes: int,
    mime_type: str = DEFAULT_MIME,
    keywords: Iterable[str] = (),
    creator_uid: str = "",
    expected_hash: str | None = None,
) -> tuple[StoredFile, bool]:
    """Store a file at `label` (the uploader must be allowed to write at it: read it, and,
    if it is above what the uploader may write, refused and audited). Answers the record
    and whether it is new; bytes already held at this label answer the record held."""
    if len(content) > max_bytes:
        raise InvalidInput(f"the file is larger than {max_bytes} bytes")
    if not content:
        raise InvalidInput("the file is empty")
    sha256 = hashlib.sha256(content).hexdigest()
    if expected_hash is not None and expected_hash.lower() != sha256:
        raise InvalidInput("the content's SHA-256 is not the hash the request names")
    if len(creator_uid) > 200:
        raise InvalidInput("a creator uid has at most 200 characters")
    mime = (mime_type or DEFAULT_MIME).strip()[:200] or DEFAULT_MIME
    record = StoredFile(
        id=0,
        sha256=sha256,
        name=_name(name),
        mime_type=mime,
        size=len(content),
        keywords=_keywords(keywords),
        creator_uid=creator_uid,
        submitter_id=actor.subject.id,
        submitter=actor.person.username if actor.person is not None else actor.name,
        submitted_at=ctx.clock(),
        tool="public",
        label=label,
    )
    await enforce(
        ctx,
        actor,
        ctx.decisions.decide(actor.subject, Action.WRITE, Resource(label)),
        audit_action="file.upload",
        object_type="file",
        object_id=sha256,
        label=label,
        message="upload refused: you may not write at this label",
    )
    async with ctx.db.transaction() as tx:
        held = [f for f in await tx.files.by_hash(sha256, actor.subject) if f.label == label]
        if held:
            return held[0], False
        stored = await tx.files.add(record, content)
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "file.upload",
                "file",
                str(stored.id),
                label,
                sha256=sha256,
                name=stored.name,
                size=stored.size,
            )
        )
    return stored, True


async def _readable(ctx: ServiceContext, actor: Actor, sha256: str) -> list[StoredFile]:
    if not valid_hash(sha256):
        raise InvalidInput("a file hash is a SHA-256: 64 hexadecimal digits")
    async with ctx.db.transaction(write=False) as tx:
        return list(await tx.files.by_hash(sha256.lower(), actor.subject))


async def find(ctx: ServiceContext, actor: Actor, sha256: str) -> StoredFile:
    """The record of this hash the actor may read (the first kept, if several), or NotFound,
    also when it is held only at labels the actor may not read."""
    readable = await _readable(ctx, actor, sha256)
    if not readable:
        await _refuse_hidden(ctx, actor, sha256.lower(), "file.read")
        raise _missing(sha256)
    return readable[0]


async def _refuse_hidden(ctx: ServiceContext, actor: Actor, sha256: str, action: str) -> None:
    """Audit an ask for a file held only at labels the actor may not read, then answer it
    exactly as a missing file (NotFound); nothing for a file that is not held at all."""
    async with ctx.db.transaction(write=False) as tx:
        held = await tx.files.held(sha256)
    if not held:
        return
    await enforce(
        ctx,
        actor,
        ctx.decisions.decide(actor.subject, Action.READ, Resource(held[0].label)),
        audit_action=action,
        object_type="file",
        object_id=sha256,
        # Only readers of every record it is about see the refusal in full.
        label=ctx.registry.fit(join_all(*(f.label for f in held))),
        hide=True,
        not_found=_missing(sha256).message,
    )


async def content(ctx: ServiceContext, actor: Actor, sha256: str) -> tuple[StoredFile, bytes]:
    """A file's record and bytes, for a reader of its label; the download is audited."""
    record = await find(ctx, actor, sha256)
    async with ctx.db.transaction() as tx:
        data = await tx.files.content(record.id)
        await tx.audit.append(
            audit_entry(
                ctx, actor, "file.read", "file", str(record.id), record.label, sha256=record.sha256
            )
        )
    return record, data


async def search(
    ctx: ServiceContext,
    actor: Actor,
    *,
    keyword: str | None = None,
    tool: str | None = None,
    name: str | None = None,
    sha256: str | None = None,
    limit: int = 1000,
) -> Sequence[StoredFile]:
    """The files the actor may read, matching every filter given."""
    if tool is not None and tool not in TOOLS:
        raise InvalidInput(f"tool is one of {', '.join(TOOLS)}")
    if sha256 is not None:
        found = await _readable(ctx, actor, sha256)
        return [
            f
            for f in found
            if (tool is None or f.tool == tool)
            and (keyword is None or keyword.lower() in (k.lower() for k in f.keywords))
            and (name is None or f.name.lower() == name.lower())
        ][:limit]
    async with ctx.db.transaction(write=False) as tx:
        return await tx.files.search(
            actor.subject, keyword=keyword, tool=tool, name=name, limit=limit
        )


async def set_tool(ctx: ServiceContext, actor: Actor, sha256: str, tool: str) -> int:
    """Mark every record of this hash the actor may read `public` or `private` (TAK's tool:
    whether clients list it); audited. Answers how many records changed."""
    tool = tool.strip().lower()
    if tool not in TOOLS:
        raise InvalidInput(f"tool is one of {', '.join(TOOLS)}")
    readable = await _readable(ctx, actor, sha256)
    if not readable:
        await _refuse_hidden(ctx, actor, sha256.lower(), "file.tool")
        raise _missing(sha256)
    async with ctx.db.transaction() as tx:
        for record in readable:
            await tx.files.set_tool(record.id, tool)
            await tx.audit.append(
                audit_entry(
                    ctx, actor, "file.tool", "file", str(record.id), record.label, tool=tool
                )
            )
    return len(readable)


async def share_label(
    ctx: ServiceContext, actor: Actor, hashes: Iterable[str], announced: Label
) -> Label | None:
    """The label a file-share announcement (`b-f-t-r`) naming these hashes travels at: its
    own label joined with that of every record of them the sender may read; None when
    Kyodo holds none of them for the sender. A sender who names only files held at labels
    they may not read is refused (audited): they may not announce what they may not read."""
    named = sorted({h.lower() for h in hashes if valid_hash(h.lower())})
    if not named:
        return None
    if len(named) > MAX_SHARED:
        raise InvalidInput(f"a file share names at most {MAX_SHARED} files")
    readable: list[StoredFile] = []
    held_elsewhere = False
    async with ctx.db.transaction(write=False) as tx:
        for sha256 in named:
            mine = await tx.files.by_hash(sha256, actor.subject)
            readable += mine
            if not mine:
                held_elsewhere = held_elsewhere or bool(await tx.files.held(sha256))
    if readable:
        return ctx.registry.fit(join_all(announced, *(f.label for f in readable)))
    if held_elsewhere:
        reason = "the announcement names a file you may not read"
        await enforce(
            ctx,
            actor,
            Decision(False, (reason,), ("file",)),
            audit_action="file.share",
            object_type="file",
            object_id=named[0],
            # Only readers of what the refusal is about see its record in full.
            label=ctx.registry.fit(join_all(announced, *await _held_labels(ctx, named))),
            message="file share refused",
            answer=(reason,),
        )
        raise PermissionDenied("file share refused", (reason,))  # not reached: enforce raises
    return None


async def _held_labels(ctx: ServiceContext, hashes: Sequence[str]) -> list[Label]:
    async with ctx.db.transaction(write=False) as tx:
        return [f.label for h in hashes for f in await tx.files.held(h)]
