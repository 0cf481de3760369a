"""The ActionStore contract (services/ports.py), on each back-end: actions with labelled field
values round-trip, `list` keeps only what the reader's clearance reads, transitions keep their
order, comments and concurrences update in place, one signature per nation and round."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from kyodo.domain.actions import (
    Action,
    ActionKind,
    Comment,
    CommentDecision,
    CommentType,
    ConcurAnswer,
    Concurrence,
    EscalationLevel,
    LabelledField,
    NonConcurStatus,
    Priority,
    Signature,
    Transition,
)
from kyodo.errors import Conflict, NotFound
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.store.contract import NOW, label, reader
from tests.support.factories import add_org


def action(ctx: ServiceContext, action_id: str, core: str = "SECRET//REL TO USA, JPN") -> Action:
    return Action(
        id=action_id,
        kind=ActionKind.FACILITY_ACCESS,
        owner_org="usfj",
        creator_id="p-1",
        label=label(ctx, core),
        state="DRAFT",
        priority=Priority.PRIORITY,
        created_at=NOW,
        updated_at=NOW,
        fields={
            "title": LabelledField("石垣 access", label(ctx, "UNCLASSIFIED")),
            "personnel": LabelledField(120, label(ctx, core)),
            "vehicles_weapon_systems": LabelledField(
                ["HIMARS", "NMESIS"], label(ctx, "SECRET//NOFORN")
            ),
            "jc_reference": LabelledField(None, label(ctx, core)),
            "local_consent_status": LabelledField(True, label(ctx, core)),
        },
        opr_org="jjoc",
        ocr_orgs=("jso",),
        action_officer_id="p-2",
        bilateral=True,
        mutual_consent=True,
    )


async def orgs(ctx: ServiceContext, operator: Actor) -> None:
    await add_org(ctx, operator, "usfj")
    await add_org(ctx, operator, "jjoc", nation="JPN")


async def test_an_action_and_its_fields_round_trip(ctx: ServiceContext, operator: Actor) -> None:
    await orgs(ctx, operator)
    made = action(ctx, "a-1")
    async with ctx.db.transaction() as tx:
        await tx.actions.add(made)
    async with ctx.db.transaction() as tx:
        assert await tx.actions.get("a-1") == made
        assert await tx.actions.get("a-1", lock=True) == made
        changed = replace(
            made,
            state="US_STAFFED",
            version=2,
            round=2,
            updated_at=NOW + timedelta(hours=1),
            fields={"title": LabelledField("new", label(ctx, "SECRET//NOFORN"))},
        )
        await tx.actions.update(changed)
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.actions.get("a-1") == changed


async def test_missing_and_duplicate(ctx: ServiceContext, operator: Actor) -> None:
    await orgs(ctx, operator)
    async with ctx.db.transaction() as tx:
        await tx.actions.add(action(ctx, "a-1"))
    with pytest.raises(Conflict):
        async with ctx.db.transaction() as tx:
            await tx.actions.add(action(ctx, "a-1"))
    async with ctx.db.transaction() as tx:
        with pytest.raises(NotFound):
            await tx.actions.get("a-2")
        with pytest.raises(NotFound):
            await tx.actions.update(action(ctx, "a-2"))


async def test_list_keeps_what_the_reader_reads(ctx: ServiceContext, operator: Actor) -> None:
    await orgs(ctx, operator)
    async with ctx.db.transaction() as tx:
        await tx.actions.add(action(ctx, "a-rel"))
        await tx.actions.add(action(ctx, "a-nf", "SECRET//NOFORN"))
        await tx.actions.add(action(ctx, "a-u", "UNCLASSIFIED"))
    async with ctx.db.transaction(write=False) as tx:
        every = [a.id for a in await tx.actions.list(None)]
        jp = [a.id for a in await tx.actions.list(reader(ctx, "JPN", "GOKUHI"))]
        low = [a.id for a in await tx.actions.list(reader(ctx, "USA", "UNCLASSIFIED"))]
    assert sorted(every) == ["a-nf", "a-rel", "a-u"]
    assert sorted(jp) == ["a-rel", "a-u"]
    assert low == ["a-u"]


async def test_history_comments_concurrences_signatures(
    ctx: ServiceContext, operator: Actor
) -> None:
    await orgs(ctx, operator)
    async with ctx.db.transaction() as tx:
        await tx.actions.add(action(ctx, "a-1"))
        for i, (a, b) in enumerate(
            (("DRAFT", "US_STAFFED"), ("US_STAFFED", "SUBMITTED_BILATERAL"))
        ):
            await tx.actions.add_transition(
                Transition("a-1", "p-1", NOW + timedelta(minutes=i), a, b, f"s{i}", "why")
            )
        comment = Comment(
            id="c-1",
            action_id="a-1",
            org_id="jso",
            author_id="p-3",
            type=CommentType.CRITICAL,
            location="§2",
            text="range closed",
            rationale="notice",
            label=label(ctx, "SECRET//REL TO USA, JPN"),
            created_at=NOW,
        )
        await tx.actions.add_comment(comment)
        nc = Concurrence(
            "a-1", "jso", ConcurAnswer.NON_CONCUR, "p-3", NOW, "c-1", NonConcurStatus.OPEN
        )
        await tx.actions.put_concurrence(nc)
        await tx.actions.add_signature(Signature("a-1", "USA", "p-1", "usfj", NOW, 1))
    async with ctx.db.transaction() as tx:
        assert [t.name for t in await tx.actions.transitions("a-1")] == ["s0", "s1"]
        assert await tx.actions.comments("a-1") == [comment]
        decided = replace(
            comment,
            decision=CommentDecision.REJECTED,
            decision_reason="no",
            decided_by="p-2",
            decided_at=NOW,
        )
        await tx.actions.update_comment(decided)
        escalated = replace(
            nc, status=NonConcurStatus.ESCALATED, level=EscalationLevel.BILATERAL_OPS
        )
        await tx.actions.put_concurrence(escalated)
        await tx.actions.add_signature(Signature("a-1", "USA", "p-1", "usfj", NOW, 2))
    async with ctx.db.transaction(write=False) as tx:
        assert await tx.actions.comments("a-1") == [decided]
        assert await tx.actions.concurrences("a-1") == [escalated]
        assert [(s.nation, s.round) for s in await tx.actions.signatures("a-1")] == [
            ("USA", 1),
            ("USA", 2),
        ]
    with pytest.raises(Conflict):  # one signature per nation and round
        async with ctx.db.transaction() as tx:
            await tx.actions.add_signature(Signature("a-1", "USA", "p-9", "usfj", NOW, 2))


async def test_coordination_of_many_actions_in_one_read(
    ctx: ServiceContext, operator: Actor
) -> None:
    await orgs(ctx, operator)
    async with ctx.db.transaction() as tx:
        for action_id in ("a-1", "a-2", "a-3"):
            await tx.actions.add(action(ctx, action_id))
        for action_id, org in (("a-1", "jso"), ("a-1", "j5"), ("a-3", "jso")):
            await tx.actions.put_concurrence(
                Concurrence(action_id, org, ConcurAnswer.CONCUR, "p", NOW)
            )
        await tx.actions.add_signature(Signature("a-2", "JPN", "p", "jjoc", NOW, 1))
    async with ctx.db.transaction(write=False) as tx:
        found = await tx.actions.concurrences_of(["a-1", "a-2", "a-3"])
        signed = await tx.actions.signatures_of(["a-1", "a-2"])
        assert await tx.actions.concurrences_of([]) == {}
    assert {k: [c.org_id for c in v] for k, v in found.items()} == {
        "a-1": ["j5", "jso"],
        "a-3": ["jso"],
    }
    assert {k: [s.nation for s in v] for k, v in signed.items()} == {"a-2": ["JPN"]}
