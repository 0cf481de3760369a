"""Records officers' duties: the records export of a net, and purging text past retention."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kyodo.labels import join_all, label_to_dict, render_marking
from kyodo.policy import nets as net_rules
from kyodo.services.access import audit_entry
from kyodo.services.messages.reads import author_names
from kyodo.services.messages.writes import stamp_rev
from kyodo.services.nets.access import net_for, net_rule, net_view
from kyodo.services.ports import AuditQuery

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from datetime import datetime

    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext


async def export_net(
    ctx: ServiceContext, actor: Actor, net_id: str, *, since: datetime | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Records export (records officers): a banner line, then every message with every
    version, label and tombstone, and the audit records that refer to it."""
    net, member = await net_for(ctx, actor, net_id)
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
        authors = await author_names(tx, (m.author_id for m in found))
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
                    "author": authors[message.author_id],
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


def _query_for(seq: int) -> AuditQuery:
    return AuditQuery(object_type="message", object_id=str(seq))


async def purge_expired(ctx: ServiceContext, actor: Actor, net_id: str) -> int:
    """Records officers purge the text of messages older than the net's retention (audited);
    nobody else can, and nothing younger than the retention period is ever purged."""
    net, member = await net_for(ctx, actor, net_id)
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
            await stamp_rev(
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
