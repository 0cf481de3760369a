"""Nets, members and messages over HTTP; the records export; search."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, StreamingResponse

from kyodo.api.deps import Context, CurrentActor
from kyodo.api.labels_in import optional_label, to_label
from kyodo.api.message_json import authored_json, message_json
from kyodo.api.params import iso_time
from kyodo.api.schemas import (
    LabelOut,
    MemberIn,
    MemberOut,
    MessageDowngrade,
    MessageEdit,
    MessageIn,
    MessageOut,
    MessagePage,
    NetIn,
    NetOut,
    NetPatch,
    PostedOut,
    ReadMarkerIn,
    ReadMarkerOut,
    ReceiptOut,
    VersionOut,
)
from kyodo.domain.nets import NetRole
from kyodo.labels import join_all
from kyodo.services import messages, nets
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

router = APIRouter(tags=["nets"])
# Sequence numbers are 32-bit integers in PostgreSQL: larger ones cannot exist, so they are 422.
MAX_SEQ = 2**31 - 1
After = Annotated[int | None, Query(ge=0, le=MAX_SEQ)]
Seq = Annotated[int, Path(ge=1, le=MAX_SEQ)]


@router.get("/nets", response_model=list[NetOut])
async def list_nets(actor: CurrentActor, ctx: Context) -> list[NetOut]:
    """The nets you are a member of."""
    return [NetOut.of(n, ctx.registry) for n in await nets.list_my_nets(ctx, actor)]


@router.post("/nets", response_model=NetOut, status_code=201)
async def create_net(body: NetIn, actor: CurrentActor, ctx: Context) -> NetOut:
    """Create a net (you must be able to read its ceiling); you become its owner."""
    net = await nets.create_net(
        ctx,
        actor,
        name=body.name,
        purpose=body.purpose,
        org_id=body.org_id,
        ceiling=to_label(ctx, body.ceiling),
        entry=optional_label(ctx, body.entry),
        default_label=optional_label(ctx, body.default_label),
        retention_days=body.retention_days,
        label=optional_label(ctx, body.label),
    )
    return NetOut.of(net, ctx.registry)


@router.get("/nets/{net_id}", response_model=NetOut)
async def get_net(net_id: str, actor: CurrentActor, ctx: Context) -> NetOut:
    """A net you belong to (404 otherwise)."""
    return NetOut.of(await nets.get_net(ctx, actor, net_id), ctx.registry)


@router.patch("/nets/{net_id}", response_model=NetOut)
async def update_net(net_id: str, body: NetPatch, actor: CurrentActor, ctx: Context) -> NetOut:
    """Owners and admins: lower the ceiling only if no message is above it; raise the entry
    label only if every member still qualifies (409 otherwise)."""
    net = await nets.update_net(
        ctx,
        actor,
        net_id,
        ceiling=optional_label(ctx, body.ceiling),
        entry=optional_label(ctx, body.entry),
        default_label=optional_label(ctx, body.default_label),
        purpose=body.purpose,
        retention_days=body.retention_days,
        label=optional_label(ctx, body.label),
    )
    return NetOut.of(net, ctx.registry)


@router.get("/nets/{net_id}/members", response_model=list[MemberOut])
async def list_members(net_id: str, actor: CurrentActor, ctx: Context) -> list[MemberOut]:
    """The members of a net you belong to."""
    return [
        MemberOut(
            net_id=m.net_id,
            person_id=m.person_id,
            role=m.role.value,
            added_at=m.added_at.isoformat(),
        )
        for m in await nets.list_members(ctx, actor, net_id)
    ]


@router.post("/nets/{net_id}/members", response_model=MemberOut, status_code=201)
async def add_member(net_id: str, body: MemberIn, actor: CurrentActor, ctx: Context) -> MemberOut:
    """Add a member: refused (403, with the failing property) unless they can read the entry
    label — for owners and admins alike."""
    member = await nets.add_member(ctx, actor, net_id, body.person_id, NetRole(body.role))
    return MemberOut(
        net_id=member.net_id,
        person_id=member.person_id,
        role=member.role.value,
        added_at=member.added_at.isoformat(),
    )


@router.delete("/nets/{net_id}/members/{person_id}", status_code=204)
async def remove_member(net_id: str, person_id: str, actor: CurrentActor, ctx: Context) -> None:
    """Remove a member (owners, admins) or leave (yourself)."""
    await nets.remove_member(ctx, actor, net_id, person_id)


@router.get("/nets/{net_id}/read", response_model=ReadMarkerOut)
async def get_read_marker(net_id: str, actor: CurrentActor, ctx: Context) -> ReadMarkerOut:
    """The seq of the last message you have seen in a net of yours (0: none yet)."""
    marker = await nets.read_marker(ctx, actor, net_id)
    return ReadMarkerOut(net_id=net_id, last_read=marker)


@router.put("/nets/{net_id}/read", response_model=ReadMarkerOut)
async def mark_read(
    net_id: str, body: ReadMarkerIn, actor: CurrentActor, ctx: Context
) -> ReadMarkerOut:
    """Move your read marker forward (never back): unread counts follow you to any device."""
    marker = await nets.mark_read(ctx, actor, net_id, body.seq)
    return ReadMarkerOut(net_id=net_id, last_read=marker)


@router.get("/nets/{net_id}/messages", response_model=MessagePage)
async def list_messages(
    net_id: str,
    actor: CurrentActor,
    ctx: Context,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> MessagePage:
    """Messages you may read, oldest first, after seq `after`; `banner` is the highest label."""
    found = await messages.list_messages(ctx, actor, net_id, after=after, limit=limit)
    items = [MessageOut.model_validate(authored_json(ctx.registry, m)) for m in found]
    labels = [m.message.label for m in found]
    banner = LabelOut.of(ctx.registry.fit(join_all(*labels)), ctx.registry) if labels else None
    return MessagePage(items=items, banner=banner)


@router.post("/nets/{net_id}/messages", response_model=PostedOut, status_code=201)
async def post_message(
    net_id: str, body: MessageIn, actor: CurrentActor, ctx: Context
) -> JSONResponse:
    """Post a message. 422 with the guard's findings when the text looks more sensitive than
    its label; with the may_override role, resend with `override_justification`.

    Requests are served by `kyodo.api.fast_post` before they reach this route (same checks,
    same answers); the route gives the API its documentation and schema."""
    return await posted_response(ctx, actor, net_id, body)


async def posted_response(
    ctx: ServiceContext, actor: Actor, net_id: str, body: MessageIn
) -> JSONResponse:
    """Post `body` in the net as `actor`: 201 with the stored message and any overridden
    findings (errors are raised as KyodoError)."""
    posted = await messages.post_message(
        ctx,
        actor,
        net_id,
        body.text,
        label=optional_label(ctx, body.label),
        reply_to=body.reply_to,
        override_justification=body.override_justification,
    )
    # The payload is already PostedOut's JSON form (tests/api/test_post_payload.py keeps them
    # the same): returned as is, not validated and dumped again through pydantic or
    # response_model (the hottest route: every chat message).
    payload = message_json(ctx.registry, posted.message, posted.author)
    return JSONResponse(
        {"message": payload, "guard_findings": list(posted.guard_findings)}, status_code=201
    )


@router.get("/messages/{seq}", response_model=MessageOut)
async def get_message(seq: Seq, actor: CurrentActor, ctx: Context) -> MessageOut:
    """One message you may read (a tombstone carries no text)."""
    found = await messages.get_message(ctx, actor, seq)
    return MessageOut.model_validate(authored_json(ctx.registry, found))


@router.put("/messages/{seq}", response_model=MessageOut)
async def edit_message(
    seq: Seq, body: MessageEdit, actor: CurrentActor, ctx: Context
) -> MessageOut:
    """Edit your message: a new version; every earlier one is kept."""
    edited = await messages.edit_message(
        ctx,
        actor,
        seq,
        body.text,
        label=optional_label(ctx, body.label),
        override_justification=body.override_justification,
    )
    return MessageOut.model_validate(message_json(ctx.registry, edited, actor.name))


@router.post("/messages/{seq}/downgrade", response_model=MessageOut)
async def downgrade_message(
    seq: Seq, body: MessageDowngrade, actor: CurrentActor, ctx: Context
) -> MessageOut:
    """Lower a message's label (role `may_downgrade`, reading both labels, with a written
    justification; audited). Earlier versions keep their labels."""
    lowered = await messages.downgrade_message(
        ctx, actor, seq, to_label(ctx, body.label), body.justification
    )
    return MessageOut.model_validate(
        authored_json(ctx.registry, await messages.authored(ctx, lowered))
    )


@router.delete("/messages/{seq}", status_code=204)
async def delete_message(seq: Seq, actor: CurrentActor, ctx: Context) -> None:
    """Delete (a tombstone: hidden from members, kept for the record)."""
    await messages.delete_message(ctx, actor, seq)


@router.get("/messages/{seq}/versions", response_model=list[VersionOut])
async def message_versions(seq: Seq, actor: CurrentActor, ctx: Context) -> list[VersionOut]:
    """Every version of a message (its author, records officers)."""
    return [
        VersionOut(
            version=v.version,
            text=v.text,
            label=LabelOut.of(v.label, ctx.registry),
            editor_id=v.editor_id,
            at=v.at.isoformat(),
        )
        for v in await messages.message_versions(ctx, actor, seq)
    ]


@router.get("/messages/{seq}/receipts", response_model=list[ReceiptOut])
async def message_receipts(seq: Seq, actor: CurrentActor, ctx: Context) -> list[ReceiptOut]:
    """Who TAK clients report as delivered and as having read a message: for one who may read
    it, and only people whose records they may read."""
    return [
        ReceiptOut(person_id=p.id, username=p.username, kind=r.kind, at=r.at.isoformat())
        for r, p in await messages.message_receipts(ctx, actor, seq)
    ]


@router.get("/search", response_model=list[MessageOut])
async def search(
    actor: CurrentActor,
    ctx: Context,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    net_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[MessageOut]:
    """Full-text search over your nets; only messages you may read."""
    found = await messages.search_messages(ctx, actor, q, net_id=net_id, limit=limit)
    return [MessageOut.model_validate(authored_json(ctx.registry, m)) for m in found]


@router.get("/nets/{net_id}/export")
async def export_net(
    net_id: str,
    actor: CurrentActor,
    ctx: Context,
    since: Annotated[str | None, Query(max_length=40)] = None,
) -> StreamingResponse:
    """Records export (records officers), JSON lines: a banner line with the highest label
    exported, every message with every version, label, tombstone and audit references."""
    moment = iso_time(since)
    lines = messages.export_net(ctx, actor, net_id, since=moment)
    first = await anext(lines)  # authorisation errors surface here, before streaming starts

    async def body() -> AsyncIterator[bytes]:
        yield (json.dumps(first, ensure_ascii=False) + "\n").encode()
        async for line in lines:
            yield (json.dumps(line, ensure_ascii=False) + "\n").encode()

    return StreamingResponse(body(), media_type="application/x-ndjson")
