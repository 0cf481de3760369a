"""The group-committed write of position reports: each checked against the stored track.

`tracks.report_track` decides and queues; a batch of reports is written here in one
transaction, each checked, in order, against the track as stored and as the reports before it
left it (`policy.may_update_track`), and the allowed ones are published after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import structlog

from kyodo.domain.tracks import Feed
from kyodo.labels import render_marking
from kyodo.policy.tracks import TrackFacts, may_update_track
from kyodo.services.access import refusal_entry

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Sequence

    from kyodo.audit.chain import AuditEntry
    from kyodo.bus.events import TrackChanged
    from kyodo.domain.tracks import Track
    from kyodo.labels import Label
    from kyodo.policy import Container, Decision
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import UnitOfWork

log = structlog.get_logger("kyodo.services.tracks")  # the name its messages always had


@dataclass(frozen=True, slots=True)
class Report:
    """One position report on its way to the store."""

    track: Track
    facts: TrackFacts  # the track's label and feed as reported, and who reports it
    actor: Actor
    first_sighting: AuditEntry  # appended only if the uid is new
    published: bool  # already on the bus: a refusal is audited with the write
    changed: TrackChanged  # what the bus gets once the write has committed (unless published)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the write made of one report."""

    created: bool = False
    refused: Decision | None = None  # may_update_track's refusal
    stored_label: Label | None = None  # the label of the track it would have updated


async def write_reports(ctx: ServiceContext, batch: Sequence[Report]) -> list[Outcome]:
    """One transaction: each report checked, in order, against the track as stored (and as
    the reports before it in the batch left it), then the allowed ones written."""
    uids = list(dict.fromkeys(r.track.uid for r in batch))
    outcomes: list[Outcome] = []
    allowed: list[Report] = []
    async with ctx.db.transaction() as tx:
        stored = await tx.tracks.stored(uids)
        known = set(stored)
        # A deleted track's first allowed report brings it back: audited like a first sighting.
        deleted = {uid: row.deleted_at for uid, row in stored.items() if row.deleted_at}
        revived: list[AuditEntry] = []
        current: dict[str, TrackFacts] = {}
        for uid, row in stored.items():
            current[uid] = TrackFacts(
                row.label, await _container(ctx, tx, row.feed_id), row.originator
            )
        refusals: list[AuditEntry] = []
        for item in batch:
            uid = item.track.uid
            before = current.get(uid)
            if before is None:  # a first sighting: the reporter becomes the originator
                current[uid] = item.facts
                outcomes.append(Outcome(created=True))
                allowed.append(item)
                continue
            gone = deleted.get(uid)
            made = item.track.updated_at
            if gone is not None and made is not None and made <= gone:
                # Made before the delete (written behind, or waiting, when the delete committed):
                # the delete is newer, so the track stays deleted.
                outcomes.append(Outcome())
                continue
            decision = may_update_track(item.actor.subject, before, item.facts)
            if not decision.allowed:
                outcomes.append(Outcome(refused=decision, stored_label=before.label))
                if item.published:  # nobody waits for it: audit the refusal with the write
                    refusals.append(
                        refusal_entry(
                            ctx,
                            item.actor,
                            decision,
                            audit_action="track.update",
                            object_type="track",
                            object_id=uid,
                            label=before.label,
                            feed=item.facts.feed.name,
                            reported=render_marking(item.facts.label, ctx.registry),
                        )
                    )
                continue
            current[uid] = TrackFacts(item.facts.label, before.feed, before.originator)
            outcomes.append(Outcome())
            allowed.append(item)
            if uid in deleted:
                del deleted[uid]
                revived.append(item.first_sighting)
        created = await tx.tracks.upsert_many(
            [r.track for r in allowed], ctx.track_history_limit, known
        )
        firsts = [r.first_sighting for r, new in zip(allowed, created, strict=True) if new]
        if firsts or revived or refusals:
            await tx.audit.append_many([*firsts, *revived, *refusals])
        for item in allowed:
            if not item.published:
                tx.publish(item.changed)
        tx.after_commit(partial(_remember_owners, ctx, batch, outcomes, allowed, current))
    return outcomes


def _remember_owners(
    ctx: ServiceContext,
    batch: Sequence[Report],
    outcomes: Sequence[Outcome],
    allowed: Sequence[Report],
    current: dict[str, TrackFacts],
) -> None:
    owners = ctx.track_owners
    for item, outcome in zip(batch, outcomes, strict=True):
        if outcome.refused is not None:
            owners.forget(item.track.uid)
    for uid in {r.track.uid for r in allowed}:
        owners.stored(uid, current[uid])


async def _container(ctx: ServiceContext, tx: UnitOfWork, feed_id: str) -> Container:
    cached = ctx.reads.feeds.get(feed_id)
    if isinstance(cached, Feed):
        return cached.container()
    return (await tx.feeds.get(feed_id)).container()


def log_failed_write(stored: asyncio.Future[Outcome]) -> None:
    """Log what became of a report published before its write (nobody waits for it)."""
    if stored.cancelled():
        return
    error = stored.exception()
    if error is not None:
        log.error("a position report could not be stored", error=str(error))
    elif stored.result().refused is not None:
        log.warning("a published position report was refused when written")
