"""Writing messages: post, edit, delete (a tombstone) and downgrade, each checked and audited."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kyodo.audit.reconcile import text_sha256
from kyodo.bus.events import MessageChanged
from kyodo.domain.markdown import render_markdown
from kyodo.domain.nets import Message
from kyodo.errors import InvalidInput, NotFound
from kyodo.labels import join_all, label_to_dict, render_marking
from kyodo.policy import Action, Decision, Resource
from kyodo.policy import nets as net_rules
from kyodo.services.access import audit_entry, enforce, require
from kyodo.services.messages.reads import author_name, member_message_for, message_for
from kyodo.services.nets.access import net_for, net_rule, net_view
from kyodo.services.spillage import guard_message

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kyodo.audit.chain import AuditEntry
    from kyodo.domain.nets import Net
    from kyodo.labels import Label
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import UnitOfWork

MAX_TEXT = 20_000
MAX_REF = 200  # the longest GeoChat messageId kept (ATAK's are UUIDs)
KYODO_REF = "kyodo-"  # the messageId form of messages posted in Kyodo (`receipts.chat_ref`)


def _check_text(text: str) -> str:
    if not text.strip():
        raise InvalidInput("a message needs text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"a message is at most {MAX_TEXT} characters")
    if "\x00" in text:
        raise InvalidInput("a message cannot contain NUL characters")
    return text


async def stamp_rev(tx: UnitOfWork, entry: AuditEntry, seq: int) -> int:
    """Append the audit record and use its seq as the message's rev (one global order)."""
    record = await tx.audit.append(entry)
    await tx.messages.set_rev(seq, record.seq)
    return record.seq


@dataclass(frozen=True, slots=True)
class Posted:
    """A stored message, its author's username, and what the guard found (overridden
    findings, if any)."""

    message: Message
    author: str
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
    received: object = None,
    chat_ref: str | None = None,
) -> Posted:
    """Post to a net: the author reads the label, the ceiling dominates it, the guard agrees (or
    an allowed override is justified and audited); stored and audited, then published (with
    `origin`, the connection it came from, so that transport is not sent it back, and
    `received`, what that transport parsed, for it to pass on as sent; `chat_ref`, the id the
    sender's client gave it, by which its receipts name it)."""
    net, member = await net_for(ctx, actor, net_id, cached=True)
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
    findings = await guard_message(ctx, actor, net, text, label, override_justification)
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
            author = await author_name(tx, actor.subject.id)
    entry = audit_entry(ctx, actor, "message.post", "message", "", label, **details)

    if chat_ref is not None and (chat_ref.startswith(KYODO_REF) or len(chat_ref) > MAX_REF):
        # Kyodo's own form names Kyodo's messages only; an overlong id names nothing.
        chat_ref = None

    async def write(batch: Sequence[_NewPost]) -> list[Message]:
        return await _write_posts(ctx, batch)

    stored = await ctx.group_commit.submit(
        "message.post", write, _NewPost(draft, entry, author, origin, received, chat_ref)
    )
    return Posted(stored, author, findings)


@dataclass(frozen=True, slots=True)
class _NewPost:
    draft: Message
    entry: AuditEntry  # object_id filled in once the message has its seq
    author: str
    origin: str | None = None
    received: object = None
    chat_ref: str | None = None


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
            if post.chat_ref is not None:
                await tx.receipts.add_ref(post.chat_ref, message.seq)
            tx.publish(
                MessageChanged(
                    "posted", message, post.author, origin=post.origin, received=post.received
                )
            )
    return stored


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


async def _write_version(
    ctx: ServiceContext,
    actor: Actor,
    before: Message,
    after: Message,
    entry: AuditEntry,
) -> Message:
    """Store `after` as the message's new current version (every earlier one is kept) with its
    audit record, whose seq is its rev, and publish the change once committed."""
    async with ctx.db.transaction() as tx:
        await tx.messages.edit(after, actor.subject.id)
        rev = await stamp_rev(tx, entry, before.seq)
        after = replace(after, rev=rev)
        author = await author_name(tx, before.author_id)
        tx.publish(MessageChanged("edited", after, author, previous=before.label))
        await _roll_up_replies(ctx, tx, actor, after)
    return after


async def _roll_up_replies(
    ctx: ServiceContext, tx: UnitOfWork, actor: Actor, parent: Message
) -> None:
    """A reply carries at least its parent's label, also once the parent's label is raised:
    each reply below it (and theirs, down the thread) gets a new version at the join, with the
    same text, audited as `message.rollup` — in the same transaction as the raise."""
    pending = [parent]
    while pending:
        above = pending.pop()
        for reply in await tx.messages.replies(above.seq):
            if reply.label.dominates(above.label):
                continue  # and so do its own replies: nothing below needs raising
            raised = replace(
                reply,
                label=ctx.registry.fit(join_all(reply.label, above.label)),
                version=reply.version + 1,
                edited_at=ctx.clock(),
            )
            await tx.messages.edit(raised, actor.subject.id)
            details: dict[str, Any] = {
                "version": raised.version,
                "label_change": [
                    render_marking(reply.label, ctx.registry),
                    render_marking(raised.label, ctx.registry),
                ],
                "reply_to": above.seq,
                "text_sha256": text_sha256(reply.text),
            }
            entry = audit_entry(
                ctx, actor, "message.rollup", "message", str(reply.seq), raised.label, **details
            )
            raised = replace(raised, rev=await stamp_rev(tx, entry, reply.seq))
            author = await author_name(tx, reply.author_id)
            tx.publish(MessageChanged("edited", raised, author, previous=reply.label))
            pending.append(raised)


async def _may_relabel(
    ctx: ServiceContext,
    actor: Actor,
    net: Net,
    message: Message,
    new_label: Label,
    rule: Decision,
    action: str,
) -> None:
    """A new version's two checks (audited as `action`): the net's rule for the change of
    label, then the policy's WRITE of the new label into the net."""
    seq = str(message.seq)
    await net_rule(
        ctx,
        actor,
        rule,
        net,
        action,
        object_type="message",
        object_id=seq,
        label=message.label,
    )
    await require(
        ctx,
        actor,
        Action.WRITE,
        Resource(new_label, container=net.container()),
        audit_action=action,
        object_type="message",
        object_id=seq,
    )


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
    message, net, member = await message_for(ctx, actor, seq)
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
    await _may_relabel(
        ctx,
        actor,
        net,
        message,
        new_label,
        net_rules.may_relabel_by_edit(message.label, new_label),
        "message.edit",
    )
    findings = await guard_message(ctx, actor, net, text, new_label, override_justification)
    edited = replace(
        message,
        text=text,
        html=render_markdown(text),
        label=new_label,
        version=message.version + 1,
        edited_at=ctx.clock(),
    )
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
    entry = audit_entry(ctx, actor, "message.edit", "message", str(seq), new_label, **details)
    return await _write_version(ctx, actor, message, edited, entry)


async def delete_message(ctx: ServiceContext, actor: Actor, seq: int) -> Message:
    """A tombstone: members no longer see the text; records officers still do. Audited."""
    message, net, member = await message_for(ctx, actor, seq)
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
        rev = await stamp_rev(
            tx, audit_entry(ctx, actor, "message.delete", "message", str(seq), message.label), seq
        )
        author = await author_name(tx, message.author_id)
        deleted = replace(message, deleted_at=now, deleted_by=actor.subject.id, rev=rev)
        tx.publish(MessageChanged("deleted", deleted, author))
    return deleted


async def downgrade_message(
    ctx: ServiceContext, actor: Actor, seq: int, label: Label, justification: str
) -> Message:
    """Lower a message's label: its own action (role `may_downgrade`, reading both labels, a
    written justification), audited with both labels. The text is kept as a new version; the
    earlier versions keep their labels and stay hidden from those who may not read them."""
    # Members only: an overseer who may see the net but not read its messages must not
    # relabel what they have not read.
    message, net, _ = await member_message_for(ctx, actor, seq, "message.downgrade")
    if message.deleted:
        raise InvalidInput("a deleted message cannot be downgraded")
    await _may_relabel(
        ctx,
        actor,
        net,
        message,
        label,
        net_rules.may_downgrade(actor.subject, message.label, label, justification),
        "message.downgrade",
    )
    # The guard reads the text again against the lower label; the justification stands for
    # an override only for those who hold `may_override`.
    findings = await guard_message(ctx, actor, net, message.text, label, justification)
    lowered = replace(message, label=label, version=message.version + 1, edited_at=ctx.clock())
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
    entry = audit_entry(
        ctx, actor, "message.downgrade", "message", str(seq), message.label, **details
    )
    return await _write_version(ctx, actor, message, lowered, entry)
