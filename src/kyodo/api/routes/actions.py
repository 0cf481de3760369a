"""Coordination actions over HTTP: create, list (filters, sort, paging), read, edit fields,
take a step, comment, decide a comment, concur, escalate, sign."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kyodo.api.deps import Context, CurrentActor
from kyodo.api.labels_in import optional_label, to_label
from kyodo.api.schemas.actions import (
    ActionDetailOut,
    ActionIn,
    ActionOut,
    ActionPageOut,
    ActionPatch,
    CommentDecisionIn,
    CommentIn,
    ConcurIn,
    EscalateIn,
    FieldIn,
    TransitionIn,
)
from kyodo.domain.actions import (
    ActionKind,
    CommentDecision,
    CommentType,
    ConcurAnswer,
    Priority,
)
from kyodo.errors import InvalidInput
from kyodo.labels import Label
from kyodo.services import actions
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

router = APIRouter(tags=["actions"])


def _fields(
    ctx: ServiceContext, given: dict[str, FieldIn]
) -> dict[str, tuple[object, Label | None]]:
    return {name: (f.value, optional_label(ctx, f.label)) for name, f in given.items()}


async def _detail(ctx: ServiceContext, actor: Actor, action_id: str) -> ActionDetailOut:
    return ActionDetailOut.of(await actions.get_action(ctx, actor, action_id), ctx.registry)


@router.post("/actions", response_model=ActionDetailOut, status_code=201)
async def create_action(body: ActionIn, actor: CurrentActor, ctx: Context) -> ActionDetailOut:
    """Create an action of your command (you must read every label you give it); it starts in
    its kind's first state. 422 names what is wrong, 403 the failing properties."""
    fields = _fields(ctx, body.fields)
    if "title" in fields:
        raise InvalidInput("the title is given once, as `title`")
    fields["title"] = (body.title.value, optional_label(ctx, body.title.label))
    made = await actions.create_action(
        ctx,
        actor,
        actions.NewAction(
            kind=ActionKind(body.kind),
            label=to_label(ctx, body.label),
            owner_org=body.owner_org,
            fields=fields,
            priority=Priority(body.priority),
            opr_org=body.opr_org,
            ocr_orgs=tuple(body.ocr_orgs),
            action_officer_id=body.action_officer_id,
            owning_net_id=body.owning_net_id,
            bilateral=body.bilateral,
            mutual_consent=body.mutual_consent,
        ),
    )
    return await _detail(ctx, actor, made.id)


@router.get("/actions", response_model=ActionPageOut)
async def list_actions(
    actor: CurrentActor,
    ctx: Context,
    kind: ActionKind | None = None,
    state: Annotated[str | None, Query(max_length=64)] = None,
    mine: bool = False,
    waiting_on_me: bool = False,
    overdue: bool | None = None,
    field: Annotated[
        list[str] | None,
        Query(max_length=16, description="name=value: exact matches on fields you may read"),
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in fields you read")] = None,
    sort: Annotated[
        str,
        Query(
            max_length=80,
            description="inbox (overdue first), deadline, priority, created, updated, title, "
            "field:<name>; '-' for descending. Withheld values sort last.",
        ),
    ] = "inbox",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ActionPageOut:
    """Your actions — what you may read, each field as you may see it — filtered, sorted,
    counted and paged on that view only: a withheld value matches no filter and has no place
    in an order or a count."""
    pairs: list[tuple[str, str]] = []
    for item in field or ():
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InvalidInput("a field filter is name=value")
        pairs.append((name, value))
    page = await actions.list_actions(
        ctx,
        actor,
        actions.ActionQuery(
            kind=kind,
            state=state,
            mine=mine,
            waiting_on_me=waiting_on_me,
            overdue=overdue,
            fields=tuple(pairs),
            text=q,
            sort=sort,
            offset=offset,
            limit=limit,
        ),
    )
    return ActionPageOut(
        items=[ActionOut.of(s, ctx.registry) for s in page.items],
        total=page.total,
        offset=page.offset,
        limit=limit,
    )


@router.get("/actions/{action_id}", response_model=ActionDetailOut)
async def get_action(action_id: str, actor: CurrentActor, ctx: Context) -> ActionDetailOut:
    """An action with its timeline, comments, concurrences and signatures (404 if you may not
    read it, exactly as for one that does not exist)."""
    return await _detail(ctx, actor, action_id)


@router.patch("/actions/{action_id}", response_model=ActionDetailOut)
async def edit_action(
    action_id: str, body: ActionPatch, actor: CurrentActor, ctx: Context
) -> ActionDetailOut:
    """The owner or OPR edits fields they read; a field's label may be raised, never lowered."""
    await actions.edit_fields(
        ctx,
        actor,
        action_id,
        _fields(ctx, body.fields),
        priority=None if body.priority is None else Priority(body.priority),
    )
    return await _detail(ctx, actor, action_id)


@router.post("/actions/{action_id}/transitions", response_model=ActionDetailOut)
async def take_step(
    action_id: str, body: TransitionIn, actor: CurrentActor, ctx: Context
) -> ActionDetailOut:
    """Take a step of the action's state machine (409 if the state has no such step; 403 with
    reasons if you are not its party, a non-concurrence is open or a nation has not signed)."""
    await actions.transition(ctx, actor, action_id, body.step, body.reason)
    return await _detail(ctx, actor, action_id)


@router.post("/actions/{action_id}/comments", response_model=ActionDetailOut, status_code=201)
async def add_comment(
    action_id: str, body: CommentIn, actor: CurrentActor, ctx: Context
) -> ActionDetailOut:
    """Comment for your own office (typed critical / major / substantive / administrative)."""
    await actions.add_comment(
        ctx,
        actor,
        action_id,
        type=CommentType(body.type),
        location=body.location,
        text=body.text,
        rationale=body.rationale,
        label=optional_label(ctx, body.label),
        org_id=body.org_id,
    )
    return await _detail(ctx, actor, action_id)


@router.post("/actions/{action_id}/comments/{comment_id}/decision", response_model=ActionDetailOut)
async def decide_comment(
    action_id: str, comment_id: str, body: CommentDecisionIn, actor: CurrentActor, ctx: Context
) -> ActionDetailOut:
    """The OPR accepts a comment, or rejects it with a reason."""
    await actions.decide_comment(
        ctx, actor, action_id, comment_id, CommentDecision(body.decision), body.reason
    )
    return await _detail(ctx, actor, action_id)


@router.post("/actions/{action_id}/concurrences", response_model=ActionDetailOut)
async def concur(
    action_id: str, body: ConcurIn, actor: CurrentActor, ctx: Context
) -> ActionDetailOut:
    """Your office's answer; a non-concurrence names a critical comment of your office."""
    await actions.concur(ctx, actor, action_id, ConcurAnswer(body.answer), body.comment_id)
    return await _detail(ctx, actor, action_id)


@router.post("/actions/{action_id}/escalations", response_model=ActionDetailOut)
async def escalate(
    action_id: str, body: EscalateIn, actor: CurrentActor, ctx: Context
) -> ActionDetailOut:
    """Take an office's non-concurrence up one level (owner or OPR)."""
    await actions.escalate(ctx, actor, action_id, body.org_id, body.reason)
    return await _detail(ctx, actor, action_id)


@router.post("/actions/{action_id}/signatures", response_model=ActionDetailOut, status_code=201)
async def sign(action_id: str, actor: CurrentActor, ctx: Context) -> ActionDetailOut:
    """Sign a bilateral action for your own nation, in your own chain."""
    await actions.sign(ctx, actor, action_id)
    return await _detail(ctx, actor, action_id)
