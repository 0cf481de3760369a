"""Coordination actions through the services: a tasker staffed across both nations, a
non-concurrence that stops it, both nations' signatures, hidden actions and withheld fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from kyodo.domain.actions import ActionKind, CommentDecision, CommentType, ConcurAnswer
from kyodo.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from kyodo.labels import parse_marking
from kyodo.services import actions
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_org, add_person

REL = "SECRET//REL TO USA, JPN"


@dataclass
class World:
    us: Actor  # USFJ action officer (owner)
    us_boss: Actor  # USFJ approver
    jp: Actor  # JJOC staff (OPR)
    jp_ocr: Actor  # a JSDF coordinating office
    us_ocr: Actor  # a US coordinating office
    outsider: Actor  # cleared, of no party org
    us_lno: Actor  # a US liaison officer in JJOC


async def world(ctx: ServiceContext, operator: Actor) -> World:
    await add_org(ctx, operator, "usfj", nation="USA")
    await add_org(ctx, operator, "jjoc", nation="JPN")
    await add_org(ctx, operator, "j5", nation="USA")
    await add_org(ctx, operator, "jso", nation="JPN")
    await add_org(ctx, operator, "other", nation="USA")
    people = {
        "us": ("usfj", "USA", "TOP SECRET"),
        "us_boss": ("usfj", "USA", "TOP SECRET"),
        "jp": ("jjoc", "JPN", "GOKUHI"),
        "jp_ocr": ("jso", "JPN", "GOKUHI"),
        "us_ocr": ("j5", "USA", "SECRET"),
        "outsider": ("other", "USA", "TOP SECRET"),
        "us_lno": ("jjoc", "USA", "SECRET"),
    }
    made = {}
    for name, (org, nation, clearance) in people.items():
        person = await add_person(
            ctx, operator, name.replace("_", "."), nation=nation, clearance=clearance, org_id=org
        )
        made[name] = person_actor(person, "session")
    return World(**made)


def label(ctx: ServiceContext, marking: str = REL):  # type: ignore[no-untyped-def]
    return parse_marking(marking, ctx.registry)


async def tasker(
    ctx: ServiceContext, w: World, *, bilateral: bool = True, noforn: bool = True
) -> str:
    fields: dict[str, tuple[object, object]] = {
        "title": ("Ishigaki exercise support plan", None),
        "subject": ("Ishigaki", None),
        "suspense": ("2026-12-20T09:00:00Z", None),
    }
    if noforn:
        fields["response"] = ("US-only assessment", label(ctx, "SECRET//NOFORN"))
    made = await actions.create_action(
        ctx,
        w.us,
        actions.NewAction(
            kind=ActionKind.TASKER,
            label=label(ctx),
            owner_org="usfj",
            opr_org="jjoc",
            ocr_orgs=("jso", "j5"),
            bilateral=bilateral,
            fields=fields,  # type: ignore[arg-type]
        ),
    )
    return made.id


async def walk(ctx: ServiceContext, w: World, action_id: str, *steps: tuple[Actor, str]) -> None:
    for actor, step in steps:
        await actions.transition(ctx, actor, action_id, step)


async def test_a_bilateral_tasker_needs_both_nations_and_no_open_non_concur(
    ctx: ServiceContext, operator: Actor
) -> None:
    w = await world(ctx, operator)
    action_id = await tasker(ctx, w, noforn=False)
    await walk(
        ctx,
        w,
        action_id,
        (w.us, "issue"),
        (w.jp, "acknowledge"),
        (w.jp, "start_work"),
        (w.jp, "coordinate"),
    )
    comment = await actions.add_comment(
        ctx,
        w.jp_ocr,
        action_id,
        type=CommentType.CRITICAL,
        location="para 3",
        text="the range is closed that week",
        rationale="local notice",
    )
    await actions.concur(ctx, w.jp_ocr, action_id, ConcurAnswer.NON_CONCUR, comment.id)
    with pytest.raises(PermissionDenied, match="non-concurrence of jso is open"):
        await actions.transition(ctx, w.jp, action_id, "ready_for_signature")
    # The OPR decides the comment; the office concurs after all: resolved.
    await actions.decide_comment(ctx, w.jp, action_id, comment.id, CommentDecision.ACCEPTED)
    await actions.concur(ctx, w.jp_ocr, action_id, ConcurAnswer.CONCUR_WITH_COMMENT)
    await actions.transition(ctx, w.jp, action_id, "ready_for_signature")
    with pytest.raises(PermissionDenied, match=r"approver of (JPN|USA) has not signed"):
        await actions.transition(ctx, w.jp, action_id, "submit")
    # Nobody signs for the other nation, nor outside their chain.
    with pytest.raises(NotFound):  # not a party: the action does not exist for them
        await actions.sign(ctx, w.outsider, action_id)
    with pytest.raises(PermissionDenied, match="not in a USA chain"):
        await actions.sign(ctx, w.us_lno, action_id)  # a US officer sitting in JJOC
    with pytest.raises(PermissionDenied, match="not in a USA chain"):
        await actions.sign(ctx, w.us_ocr, action_id)  # an OCR coordinates, never approves
    await actions.sign(ctx, w.us_boss, action_id)
    with pytest.raises(Conflict):
        await actions.sign(ctx, w.us, action_id)  # USA has signed this round
    with pytest.raises(PermissionDenied, match="approver of JPN has not signed"):
        await actions.transition(ctx, w.us, action_id, "submit")
    with pytest.raises(PermissionDenied, match="lower"):
        await actions.edit_fields(
            ctx, w.us, action_id, {"subject": ("x", label(ctx, "UNCLASSIFIED"))}
        )
    await actions.sign(ctx, w.jp, action_id)
    await actions.transition(ctx, w.jp, action_id, "submit")
    detail = await actions.get_action(ctx, w.us, action_id)
    assert detail.seen.state == "SUBMITTED"
    assert [t.name for t in detail.transitions][-1] == "submit"
    # Returned: a new round; the old signatures no longer count.
    await walk(
        ctx,
        w,
        action_id,
        (w.us, "return"),
        (w.jp, "rework"),
        (w.jp, "coordinate"),
        (w.jp, "ready_for_signature"),
    )
    with pytest.raises(PermissionDenied, match="has not signed"):
        await actions.transition(ctx, w.jp, action_id, "submit")


async def test_parties_steps_and_states(ctx: ServiceContext, operator: Actor) -> None:
    w = await world(ctx, operator)
    action_id = await tasker(ctx, w, bilateral=False)
    with pytest.raises(PermissionDenied, match="taken by the action's owner"):
        await actions.transition(ctx, w.jp, action_id, "issue")
    with pytest.raises(Conflict, match="no step"):
        await actions.transition(ctx, w.us, action_id, "close")
    # A non-bilateral tasker needs no signature; nobody signs one.
    with pytest.raises(Conflict):
        await actions.sign(ctx, w.us, action_id)
    # A non-concurrence needs a critical comment of the office.
    await actions.transition(ctx, w.us, action_id, "issue")
    with pytest.raises(PermissionDenied, match="critical comment"):
        await actions.concur(ctx, w.jp_ocr, action_id, ConcurAnswer.NON_CONCUR)
    with pytest.raises(PermissionDenied, match="not a coordinating office"):
        await actions.concur(ctx, w.jp, action_id, ConcurAnswer.CONCUR)


async def test_hidden_action_answers_like_a_missing_one_and_fields_are_withheld(
    ctx: ServiceContext, operator: Actor
) -> None:
    w = await world(ctx, operator)
    action_id = await tasker(ctx, w)
    for who in (w.outsider,):
        with pytest.raises(NotFound) as hidden:
            await actions.get_action(ctx, who, action_id)
        with pytest.raises(NotFound) as missing:
            await actions.get_action(ctx, who, "no-such-action")
        assert str(hidden.value).replace(action_id, "X") == str(missing.value).replace(
            "no-such-action", "X"
        )
    seen = (await actions.get_action(ctx, w.jp, action_id)).seen
    assert seen.fields["response"].withheld and seen.fields["response"].value is None
    assert seen.fields["subject"].value == "Ishigaki"
    assert seen.banner == label(ctx)  # the join of what JPN may see
    us_seen = (await actions.get_action(ctx, w.us, action_id)).seen
    assert us_seen.banner == label(ctx, "SECRET//NOFORN")
    page = await actions.list_actions(ctx, w.jp, actions.ActionQuery(text="US-only"))
    assert page.total == 0
    page = await actions.list_actions(ctx, w.us, actions.ActionQuery(text="US-only"))
    assert page.total == 1
    assert (await actions.list_actions(ctx, w.outsider, actions.ActionQuery())).total == 0
    # The JPN approver reads all but the NOFORN response: nobody signs blind.
    with pytest.raises(PermissionDenied, match="withheld"):
        await actions.sign(ctx, w.jp, action_id)
    # Nobody overwrites a field blind.
    with pytest.raises(PermissionDenied, match="withheld"):
        await actions.edit_fields(ctx, w.jp, action_id, {"response": ("mine", label(ctx))})


async def test_creation_is_checked(ctx: ServiceContext, operator: Actor) -> None:
    w = await world(ctx, operator)

    def new(**kw: object) -> actions.NewAction:
        base: dict[str, object] = {
            "kind": ActionKind.RFI,
            "label": label(ctx),
            "owner_org": "usfj",
            "opr_org": "jjoc",
            "fields": {"title": ("Q", None), "ltiov": ("2026-12-10T00:00:00Z", None)},
        }
        base.update(kw)
        return actions.NewAction(**base)  # type: ignore[arg-type]

    with pytest.raises(InvalidInput, match="no field"):
        await actions.create_action(
            ctx, w.us, new(fields={"title": ("Q", None), "capability": ("x", None)})
        )
    with pytest.raises(InvalidInput, match="ISO 8601"):
        await actions.create_action(
            ctx, w.us, new(fields={"title": ("Q", None), "ltiov": ("soon", None)})
        )
    with pytest.raises(InvalidInput, match="does not exist"):
        await actions.create_action(ctx, w.us, new(opr_org="nope"))
    with pytest.raises(InvalidInput, match="two nations"):
        await actions.create_action(ctx, w.us, new(opr_org="j5", ocr_orgs=("jso",), bilateral=True))
    with pytest.raises(PermissionDenied, match="owning command"):
        await actions.create_action(ctx, w.jp, new())
    with pytest.raises(PermissionDenied):
        await actions.create_action(
            ctx, w.us_ocr, new(owner_org="j5", opr_org=None, label=label(ctx, "TOP SECRET"))
        )
    made = await actions.create_action(ctx, w.us, new())
    assert made.state == "DRAFT"


async def test_an_rfi_answer_stays_under_its_ceiling_and_expires_at_ltiov(
    ctx: ServiceContext, operator: Actor
) -> None:
    w = await world(ctx, operator)
    ctx.clock = lambda: datetime(2026, 12, 5, tzinfo=UTC)
    made = await actions.create_action(
        ctx,
        w.us,
        actions.NewAction(
            kind=ActionKind.RFI,
            label=label(ctx),
            owner_org="usfj",
            opr_org="jjoc",
            fields={
                "title": ("Port status", None),
                "ltiov": ("2026-12-06T00:00:00Z", None),
                "answer_ceiling": (REL, None),
            },
        ),
    )
    with pytest.raises(InvalidInput, match="answer ceiling"):
        await actions.edit_fields(
            ctx, w.us, made.id, {"answer": ("x", label(ctx, "TOP SECRET//REL TO USA, JPN"))}
        )
    await actions.edit_fields(ctx, w.jp, made.id, {"answer": ("open", None)})
    await walk(ctx, w, made.id, (w.us, "submit"), (w.jp, "accept"))
    assert (await actions.get_action(ctx, w.jp, made.id)).seen.overdue is False
    ctx.clock = lambda: datetime(2026, 12, 7, tzinfo=UTC)
    assert (await actions.get_action(ctx, w.jp, made.id)).seen.overdue is True  # expired
    with pytest.raises(PermissionDenied, match="expired"):
        await actions.transition(ctx, w.jp, made.id, "answer")
    page = await actions.list_actions(ctx, w.us, actions.ActionQuery(overdue=True))
    assert [s.id for s in page.items] == [made.id]


async def test_changes_are_noticed_in_the_owning_net_without_field_values(
    ctx: ServiceContext, operator: Actor
) -> None:
    from kyodo.services import messages, nets

    w = await world(ctx, operator)
    net = await nets.create_net(ctx, w.us, name="Ishigaki cell", ceiling=label(ctx))
    assert w.jp.person is not None
    await nets.add_member(ctx, w.us, net.id, w.jp.person.id)
    with pytest.raises(InvalidInput, match="above the ceiling"):
        await actions.create_action(
            ctx,
            w.us,
            actions.NewAction(
                kind=ActionKind.TASKER,
                label=label(ctx, "TOP SECRET//REL TO USA, JPN"),
                owner_org="usfj",
                fields={"title": ("t", None)},
                owning_net_id=net.id,
            ),
        )
    made = await actions.create_action(
        ctx,
        w.us,
        actions.NewAction(
            kind=ActionKind.TASKER,
            label=label(ctx),
            owner_org="usfj",
            opr_org="jjoc",
            owning_net_id=net.id,
            fields={
                "title": ("Range survey", None),
                "response": ("US-only note", label(ctx, "SECRET//NOFORN")),
            },
        ),
    )
    await actions.transition(ctx, w.us, made.id, "issue")
    await actions.transition(ctx, w.jp, made.id, "acknowledge")
    seen = await messages.list_messages(ctx, w.jp, net.id)
    texts = [m.message.text for m in seen]
    assert len(texts) == 3 and all(f"/api/v1/actions/{made.id}" in t for t in texts)
    assert "state ACKNOWLEDGED" in texts[-1]
    assert all("US-only" not in t and "Range survey" not in t for t in texts)
    assert {m.message.label for m in seen} == {label(ctx)}


async def test_the_page_banner_joins_the_comments_one_reads(
    ctx: ServiceContext, operator: Actor
) -> None:
    w = await world(ctx, operator)
    action_id = await tasker(ctx, w, noforn=False)
    await actions.add_comment(
        ctx,
        w.us,
        action_id,
        type=CommentType.ADMINISTRATIVE,
        location="",
        text="US-only remark",
        rationale="",
        label=label(ctx, "SECRET//NOFORN"),
    )
    us = await actions.get_action(ctx, w.us, action_id)
    jp = await actions.get_action(ctx, w.jp, action_id)
    assert us.banner == label(ctx, "SECRET//NOFORN") and jp.banner == label(ctx)
    assert jp.comments[0].withheld and jp.comments[0].text is None
    assert jp.comments[0].label == label(ctx, "SECRET//NOFORN")  # its marking may be known
