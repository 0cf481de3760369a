"""Messages in nets: labelled, checked by the spillage guard, versioned, tombstoned, never lost."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from kyodo.audit.reconcile import text_sha256
from kyodo.bus.events import MessageChanged
from kyodo.domain.markdown import render_markdown
from kyodo.domain.nets import Message
from kyodo.errors import InvalidInput, NotFound
from kyodo.labels import join_all, label_to_dict, render_marking
from kyodo.policy import Action, Decision, Resource
from kyodo.policy import nets as net_rules
from kyodo.services.access import audit_entry, enforce, require
from kyodo.services.nets import _net_for, net_rule, net_view

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from datetime import datetime

    from kyodo.audit.chain import AuditEntry
    from kyodo.domain.nets import Member, MessageVersion, Net
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import UnitOfWork

MAX_TEXT = 20_000
log = structlog.get_logger(__name__)


def message_payload(ctx: ServiceContext, message: Message, author: str) -> dict[str, Any]:
    """A message as members see it: a tombstone carries no text."""
    return {
        "seq": message.seq,
        "rev": message.rev,
        "net_id": message.net_id,
        "author_id": message.author_id,
        "author": author,
        "label": label_to_dict(message.label, ctx.registry),
        "text": None if message.deleted else message.text,
        "html": None if message.deleted else message.html,
        "reply_to": message.reply_to,
        "version": message.version,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.deleted,
    }


async def payload_of(ctx: ServiceContext, message: Message) -> dict[str, Any]:
    """`message_payload` with the author's username looked up."""
    async with ctx.db.transaction(write=False) as tx:
        return message_payload(ctx, message, await _author(tx, message.author_id))


async def _author(tx: UnitOfWork, person_id: str) -> str:
    try:
        return (await tx.people.get(person_id)).username
    except NotFound:
        return person_id


def _check_text(text: str) -> str:
    if not text.strip():
        raise InvalidInput("a message needs text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"a message is at most {MAX_TEXT} characters")
    if "\x00" in text:
        raise InvalidInput("a message cannot contain NUL characters")
    return text


async def _stamp(tx: UnitOfWork, entry: AuditEntry, seq: int) -> int:
    """Append the audit record and use its seq as the message's rev (one global order)."""
    record = await tx.audit.append(entry)
    await tx.messages.set_rev(seq, record.seq)
    return record.seq


@dataclass(frozen=True, slots=True)
class Posted:
    """A stored message and what the guard found (overridden findings, if any)."""

    message: Message
    guard_findings: tuple[dict[str, Any], ...] = ()


async def post_message(
    ctx: ServiceContext,
    actor: Actor,
    net_id: str,
    text: str,
    *,
    label: Label | None = None,
    reply_to: int | None = None,
    override_justification: str | None = None,
    origin: str | None = None,
) -> Posted:
    """Post to a net: the author reads the label, the ceiling dominates it, the guard agrees (or
    an allowed override is justified and audited); stored and audited, then published (with
    `origin`, the connection it came from, so that transport is not sent it back)."""
    net, member = await _net_for(ctx, actor, net_id, cached=True)
    await net_rule(
        ctx, actor, net_rules.may_post(actor.subject, net_view(net, member)), net, "message.post"
    )
    text = _check_text(text)
    label = label or net.default_label
    if reply_to is not None:
        original = await _replied(ctx, actor, net, reply_to)
        # A reply quotes what it answers: it carries at least the join of both labels.
        label = ctx.registry.fit(join_all(label, original.label))
    await require(
        ctx,
        actor,
        Action.WRITE,
        Resource(label, container=net.container()),
        audit_action="message.post",
        object_type="net",
        object_id=net_id,
    )
    findings = await _guard(ctx, actor, net, text, label, override_justification)
    now = ctx.clock()
    draft = Message(
        seq=0,
        net_id=net_id,
        author_id=actor.subject.id,
        label=label,
        text=text,
        html=render_markdown(text),
        created_at=now,
        reply_to=reply_to,
    )
    # The record carries the message's label, which may be below the net's: it names the net by
    # id only (a reader of the record may not be one who may read the net's name).
    details: dict[str, Any] = {"net_id": net_id, "text_sha256": text_sha256(text)}
    if findings:
        details["guard_override"] = {
            "justification": override_justification,
            "findings": list(findings),
        }
    if actor.person is not None:
        author = actor.person.username
    else:
        async with ctx.db.transaction(write=False) as tx:
            author = await _author(tx, actor.subject.id)
    entry = audit_entry(ctx, actor, "message.post", "message", "", label, **details)

    async def write(batch: Sequence[_NewPost]) -> list[Message]:
        return await _write_posts(ctx, batch)

    stored = await ctx.group_commit.submit(
        "message.post", write, _NewPost(draft, entry, author, origin)
    )
    return Posted(stored, findings)


@dataclass(frozen=True, slots=True)
class _NewPost:
    draft: Message
    entry: AuditEntry  # object_id filled in once the message has its seq
    author: str
    origin: str | None = None


async def _write_posts(ctx: ServiceContext, batch: Sequence[_NewPost]) -> list[Message]:
    """Store posts in one transaction (each with its own audit record, whose seq is its rev),
    then publish them in that order."""
    async with ctx.db.transaction() as tx:
        # New labels first: every write stores its labels before it locks the audit chain.
        await tx.messages.store_labels([post.draft.label for post in batch])
        # The audit records about to be appended (the chain stays locked until commit) give
        # the messages their revs as they are inserted.
        first = await tx.audit.next_seq()
        drafts = [replace(post.draft, rev=first + i) for i, post in enumerate(batch)]
        stored = await tx.messages.add_many(drafts)
        entries = [
            replace(post.entry, object_id=str(m.seq)) for post, m in zip(batch, stored, strict=True)
        ]
        records = await tx.audit.append_many(entries)
        if [r.seq for r in records] != [m.rev for m in stored]:
            raise RuntimeError("the audit chain moved while it was locked")  # cannot happen
        for post, message in zip(batch, stored, strict=True):
            tx.publish(
                MessageChanged(
                    message.net_id,
                    message.seq,
                    message.rev,
                    "posted",
                    message.label,
                    message_payload(ctx, message, post.author),
                    origin=post.origin,
                )
            )
    return stored


async def _guard(
    ctx: ServiceContext, actor: Actor, net: Net, text: str, label: Label, justification: str | None
) -> tuple[dict[str, Any], ...]:
    """Run the spillage guard; raise GuardRefused unless clean or validly overridden."""
    from kyodo.services.spillage import guard_message

    return await guard_message(ctx, actor, net, text, label, justification)


async def _replied(ctx: ServiceContext, actor: Actor, net: Net, reply_to: int) -> Message:
    """The message a reply answers: in the same net and readable, or one answer for every
    other case (absent, elsewhere, unreadable), so a reply cannot probe for messages."""
    absent = f"no message {reply_to} to reply to in this net"
    async with ctx.db.transaction(write=False) as tx:
        try:
            original = await tx.messages.get(reply_to)
        except NotFound:
            raise InvalidInput(absent) from None
    decision = ctx.decisions.decide(actor.subject, Action.READ, Resource(original.label))
    if original.net_id != net.id:
        decision = Decision(False, ("the message is in another net",), ("net",))
    try:
        await enforce(
            ctx,
            actor,
            decision,
            audit_action="message.reply",
            object_type="message",
            object_id=str(reply_to),
            label=original.label,
            hide=True,
        )
    except NotFound:
        raise InvalidInput(absent) from None
    return original


async def _message_for(
    ctx: ServiceContext, actor: Actor, seq: int
) -> tuple[Message, Net, Member | None]:
    """A message the actor may read, its net and the actor's membership; the answer for a
    message in a net the actor may not see, or above what they read, is the answer for a
    message that does not exist."""
    absent = f"no message {seq}"
    async with ctx.db.transaction(write=False) as tx:
        try:
            message = await tx.messages.get(seq)
        except NotFound:
            raise NotFound(absent) from None
    try:
        net, member = await _net_for(ctx, actor, message.net_id)
    except NotFound:
        raise NotFound(absent) from None
    await require(
        ctx,
        actor,
        Action.READ,
        Resource(message.label),
        audit_action="message.read",
        object_type="message",
        object_id=str(seq),
        hide=True,
        not_found=absent,
    )
    return message, net, member


async def get_message(ctx: ServiceContext, actor: Actor, seq: int) -> dict[str, Any]:
    """One message the actor may read, as members see it (members only, like the net's list)."""
    message, net, member = await _message_for(ctx, actor, seq)
    await net_rule(
        ctx,
        actor,
        net_rules.may_read_messages(actor.subject, net_view(net, member)),
        net,
        "message.read",
        object_type="message",
        object_id=str(seq),
        label=message.label,
        hide=True,
        not_found=f"no message {seq}",
    )
    return await payload_of(ctx, message)


async def edit_message(
    ctx: ServiceContext,
    actor: Actor,
    seq: int,
    text: str,
    *,
    label: Label | None = None,
    override_justification: str | None = None,
) -> Message:
    """The author edits: a new version (every earlier one is kept), checked like a new post."""
    message, net, member = await _message_for(ctx, actor, seq)
    await net_rule(
        ctx,
        actor,
        net_rules.may_edit(actor.subject, net_view(net, member), message.author_id),
        net,
        "message.edit",
        object_type="message",
        object_id=str(seq),
        label=message.label,
    )
    if message.deleted:
        raise InvalidInput("a deleted message cannot be edited")
    text = _check_text(text)
    new_label = label or message.label
    if message.reply_to is not None:
        # An edit keeps the roll-up: never less than the join with what it replies to.
        async with ctx.db.transaction(write=False) as tx:
            original = await tx.messages.get(message.reply_to)
        new_label = ctx.registry.fit(join_all(new_label, original.label))
    await net_rule(
        ctx,
        actor,
        net_rules.may_relabel_by_edit(message.label, new_label),
        net,
        "message.edit",
        object_type="message",
        object_id=str(seq),
        label=message.label,
    )
    await require(
        ctx,
        actor,
        Action.WRITE,
        Resource(new_label, container=net.container()),
        audit_action="message.edit",
        object_type="message",
        object_id=str(seq),
    )
    findings = await _guard(ctx, actor, net, text, new_label, override_justification)
    edited = replace(
        message,
        text=text,
        html=render_markdown(text),
        label=new_label,
        version=message.version + 1,
        edited_at=ctx.clock(),
    )
    async with ctx.db.transaction() as tx:
        await tx.messages.edit(edited, actor.subject.id)
        details: dict[str, Any] = {"version": edited.version, "text_sha256": text_sha256(text)}
        if message.label != new_label:
            details["label_change"] = [
                render_marking(message.label, ctx.registry),
                render_marking(new_label, ctx.registry),
            ]
        if findings:
            details["guard_override"] = {
                "justification": override_justification,
                "findings": list(findings),
            }
        rev = await _stamp(
            tx,
            audit_entry(ctx, actor, "message.edit", "message", str(seq), new_label, **details),
            seq,
        )
        edited = replace(edited, rev=rev)
        author = await _author(tx, message.author_id)
        tx.publish(
            MessageChanged(
                net.id,
                seq,
                rev,
                "edited",
                new_label,
                message_payload(ctx, edited, author),
                previous=message.label,
            )
        )
    return edited


async def delete_message(ctx: ServiceContext, actor: Actor, seq: int) -> Message:
    """A tombstone: members no longer see the text; records officers still do. Audited."""
    message, net, member = await _message_for(ctx, actor, seq)
    await net_rule(
        ctx,
        actor,
        net_rules.may_delete(actor.subject, net_view(net, member), message.author_id),
        net,
        "message.delete",
        object_type="message",
        object_id=str(seq),
        label=message.label,
    )
    if message.deleted:
        return message
    now = ctx.clock()
    async with ctx.db.transaction() as tx:
        await tx.messages.tombstone(seq, actor.subject.id, now)
        rev = await _stamp(
            tx, audit_entry(ctx, actor, "message.delete", "message", str(seq), message.label), seq
        )
        author = await _author(tx, message.author_id)
        deleted = replace(message, deleted_at=now, deleted_by=actor.subject.id, rev=rev)
        tx.publish(
            MessageChanged(
                net.id, seq, rev, "deleted", message.label, message_payload(ctx, deleted, author)
            )
        )
    return deleted


async def downgrade_message(
    ctx: ServiceContext, actor: Actor, seq: int, label: Label, justification: str
) -> Message:
    """Lower a message's label: its own action (role `may_downgrade`, reading both labels, a
    written justification), audited with both labels. The text is kept as a new version; the
    earlier versions keep their labels and stay hidden from those who may not read them."""
    message, net, _ = await _message_for(ctx, actor, seq)
    if message.deleted:
        raise InvalidInput("a deleted message cannot be downgraded")
    await net_rule(
        ctx,
        actor,
        net_rules.may_downgrade(actor.subject, message.label, label, justification),
        net,
        "message.downgrade",
        object_type="message",
        object_id=str(seq),
        label=message.label,
    )
    await require(
        ctx,
        actor,
        Action.WRITE,
        Resource(label, container=net.container()),
        audit_action="message.downgrade",
        object_type="message",
        object_id=str(seq),
    )
    # The guard reads the text again against the lower label; the justification stands for
    # an override only for those who hold `may_override`.
    findings = await _guard(ctx, actor, net, message.text, label, justification)
    lowered = replace(message, label=label, version=message.version + 1, edited_at=ctx.clock())
    async with ctx.db.transaction() as tx:
        await tx.messages.edit(lowered, actor.subject.id)
        details: dict[str, Any] = {
            "version": lowered.version,
            "label_change": [
                render_marking(message.label, ctx.registry),
                render_marking(label, ctx.registry),
            ],
            "justification": justification.strip(),
            "new_label": label_to_dict(label, ctx.registry),  # what `verify --deep` checks
            "text_sha256": text_sha256(message.text),
        }
        if findings:
            details["guard_override"] = {"justification": justification, "findings": list(findings)}
        # The record carries the higher label: what it describes was that secret.
        rev = await _stamp(
            tx,
            audit_entry(
                ctx, actor, "message.downgrade", "message", str(seq), message.label, **details
            ),
            seq,
        )
        lowered = replace(lowered, rev=rev)
        author = await _author(tx, message.author_id)
        tx.publish(
            MessageChanged(
                net.id,
                seq,
                rev,
                "edited",
                label,
                message_payload(ctx, lowered, author),
                previous=message.label,
            )
        )
    return lowered


async def list_messages(
    ctx: ServiceContext, actor: Actor, net_id: str, *, after: int | None = None, limit: int = 100
) -> Sequence[dict[str, Any]]:
    """The net's messages the actor may read, oldest first, after seq `after`."""
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500")
    net, member = await _net_for(ctx, actor, net_id)
    decision = net_rules.may_read_messages(actor.subject, net_view(net, member))
    await net_rule(ctx, actor, decision, net, "net.read", hide=True)
    async with ctx.db.transaction(write=False) as tx:
        found = await tx.messages.list([net_id], actor.subject, after, limit)
        return [message_payload(ctx, m, await _author(tx, m.author_id)) for m in found]


async def changes_since(
    ctx: ServiceContext, actor: Actor, net_ids: Sequence[str], after_rev: int, limit: int = 1000
) -> Sequence[dict[str, Any]]:
    """What changed in these nets after `after_rev` that the actor may read (stream replay)."""
    async with ctx.db.transaction(write=False) as tx:
        found = await tx.messages.changes(net_ids, actor.subject, after_rev, limit)
        return [message_payload(ctx, m, await _author(tx, m.author_id)) for m in found]


async def message_versions(ctx: ServiceContext, actor: Actor, seq: int) -> Sequence[MessageVersion]:
    """Every version of a message: its author and records officers."""
    message, net, _ = await _message_for(ctx, actor, seq)
    await net_rule(
        ctx,
        actor,
        net_rules.may_read_versions(actor.subject, message.author_id),
        net,
        "message.versions",
        object_type="message",
        object_id=str(seq),
        label=message.label,
    )
    async with ctx.db.transaction(write=False) as tx:
        return [
            v
            for v in await tx.messages.versions(seq)
            if ctx.decisions.can_read(actor.subject, v.label)
        ]


async def search_messages(
    ctx: ServiceContext, actor: Actor, query: str, *, net_id: str | None = None, limit: int = 50
) -> Sequence[dict[str, Any]]:
    """Search the actor's nets; only messages the actor may read are returned."""
    query = query.strip()
    if not query or len(query) > 200:
        raise InvalidInput("a search needs 1-200 characters")
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200")
    if net_id is not None:
        await _net_for(ctx, actor, net_id)  # audited, and the answer of a missing net
    async with ctx.db.transaction(write=False) as tx:
        mine = [n.id for n in await tx.nets.list_for(actor.subject.id)]
        if net_id is not None and net_id not in mine:
            mine = []
        elif net_id is not None:
            mine = [net_id]
        if not mine:
            return []
        found = await tx.messages.search(mine, actor.subject, query, limit)
        return [message_payload(ctx, m, await _author(tx, m.author_id)) for m in found]


async def export_net(
    ctx: ServiceContext, actor: Actor, net_id: str, *, since: datetime | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Records export (records officers): a banner line, then every message with every
    version, label and tombstone, and the audit records that refer to it."""
    net, member = await _net_for(ctx, actor, net_id)
    await net_rule(
        ctx,
        actor,
        net_rules.may_keep_records(actor.subject, net_view(net, member)),
        net,
        "net.export",
    )
    async with ctx.db.transaction(write=False) as tx:
        found = [
            m
            for m in await tx.messages.list([net_id], actor.subject, None, 1_000_000)
            if since is None or m.created_at >= since
        ]
        lines: list[dict[str, Any]] = []
        labels = [net.entry]
        for message in found:
            # Every version passes the reader's own decision, as in `message_versions`.
            versions = [
                v
                for v in await tx.messages.versions(message.seq)
                if ctx.decisions.can_read(actor.subject, v.label)
            ]
            labels += [message.label, *(v.label for v in versions)]
            audit_refs = [r.seq for r in await tx.audit.list(_query_for(message.seq), None, 200)]
            lines.append(
                {
                    "type": "message",
                    "seq": message.seq,
                    "net": net.name,
                    "author_id": message.author_id,
                    "author": await _author(tx, message.author_id),
                    "label": label_to_dict(message.label, ctx.registry),
                    "created_at": message.created_at.isoformat(),
                    "reply_to": message.reply_to,
                    "deleted_at": message.deleted_at.isoformat() if message.deleted_at else None,
                    "deleted_by": message.deleted_by,
                    "purged": message.purged,
                    "versions": [
                        {
                            "version": v.version,
                            "text": v.text,
                            "editor_id": v.editor_id,
                            "at": v.at.isoformat(),
                            "label": label_to_dict(v.label, ctx.registry),
                        }
                        for v in versions
                    ],
                    "audit_refs": audit_refs,
                }
            )
    banner = render_marking(ctx.registry.fit(join_all(*labels)), ctx.registry)
    async with ctx.db.transaction() as tx:
        record = await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "net.export",
                "net",
                net_id,
                net.ceiling,
                messages=len(lines),
                banner=banner,
            )
        )
    yield {
        "type": "banner",
        "marking": banner,
        "net": net.name,
        "net_id": net.id,
        "messages": len(lines),
        "export_audit_seq": record.seq,
    }
    for line in lines:
        yield line
    yield {"type": "banner", "marking": banner}


def _query_for(seq: int) -> Any:
    from kyodo.services.ports import AuditQuery

    return AuditQuery(object_type="message", object_id=str(seq))


async def purge_expired(ctx: ServiceContext, actor: Actor, net_id: str) -> int:
    """Records officers purge the text of messages older than the net's retention (audited);
    nobody else can, and nothing younger than the retention period is ever purged."""
    net, member = await _net_for(ctx, actor, net_id)
    await net_rule(
        ctx,
        actor,
        net_rules.may_keep_records(actor.subject, net_view(net, member)),
        net,
        "net.purge",
    )
    cutoff = ctx.clock() - timedelta(days=net.retention_days)
    async with ctx.db.transaction(bulk=True) as tx:  # any number of messages
        # Only what the officer may read: purging unseen records would be a blind deletion.
        expired = [
            m
            for m in await tx.messages.expired(net_id, cutoff)
            if ctx.decisions.can_read(actor.subject, m.label)
        ]
        for message in expired:
            await tx.messages.purge(message.seq)
            await _stamp(
                tx,
                audit_entry(
                    ctx,
                    actor,
                    "message.purge",
                    "message",
                    str(message.seq),
                    message.label,
                    retention_days=net.retention_days,
                ),
                message.seq,
            )
    return len(expired)
