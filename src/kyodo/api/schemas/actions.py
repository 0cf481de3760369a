"""Coordination actions: bodies in, and each reader's view out (withheld fields marked)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from kyodo.api.schemas.base import Strict
from kyodo.api.schemas.labels import LabelIn, LabelOut
from kyodo.labels import render_marking

if TYPE_CHECKING:
    from kyodo.domain.actions import Concurrence, Signature, Transition
    from kyodo.labels import SchemeRegistry
    from kyodo.services.actions import ActionDetail, ActionSeen, CommentSeen, FieldSeen

Kind = Literal["tasker", "rfi", "support_request", "liaison_request", "facility_access"]
PriorityIn = Literal["routine", "priority", "immediate"]
Value = str | int | float | bool | list[str] | None


class FieldIn(Strict):
    """A field's value and its own label (default: the action's core label, or for an edit
    the field's current label)."""

    value: Value
    label: LabelIn | None = None


class ActionIn(Strict):
    kind: Kind
    label: LabelIn = Field(description="The core label: who cannot read it never sees the action.")
    owner_org: str = Field(min_length=1, max_length=64)
    title: FieldIn
    fields: dict[str, FieldIn] = Field(default_factory=dict, max_length=64)
    priority: PriorityIn = "routine"
    opr_org: str | None = Field(default=None, max_length=64)
    ocr_orgs: list[str] = Field(default_factory=list, max_length=32)
    action_officer_id: str | None = Field(default=None, max_length=64)
    owning_net_id: str | None = Field(default=None, max_length=64)
    bilateral: bool = False
    mutual_consent: bool | None = Field(
        default=None, description="Release only by mutual consent (default: Joint Committee items)."
    )


class ActionPatch(Strict):
    fields: dict[str, FieldIn] = Field(default_factory=dict, max_length=64)
    priority: PriorityIn | None = None


class TransitionIn(Strict):
    step: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=2000)


class CommentIn(Strict):
    type: Literal["critical", "major", "substantive", "administrative"]
    location: str = Field(default="", max_length=2000)
    text: str = Field(min_length=1, max_length=20000)
    rationale: str = Field(default="", max_length=20000)
    label: LabelIn | None = None
    org_id: str | None = Field(default=None, max_length=64)


class CommentDecisionIn(Strict):
    decision: Literal["accepted", "rejected"]
    reason: str = Field(default="", max_length=20000)


class ConcurIn(Strict):
    answer: Literal["concur", "concur_with_comment", "non_concur"]
    comment_id: str | None = Field(default=None, max_length=64)


class EscalateIn(Strict):
    org_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=3, max_length=2000)


class FieldOut(BaseModel):
    """A field's value, or `withheld` with `marker` — "withheld: <marking>" when you may know
    the marking, else "withheld" — and never the value."""

    value: Value
    label: LabelOut | None
    withheld: bool
    marker: str | None

    @classmethod
    def of(cls, seen: FieldSeen, registry: SchemeRegistry) -> FieldOut:
        label = None if seen.label is None else LabelOut.of(seen.label, registry)
        marker = None
        if seen.withheld:
            marker = "withheld" if seen.label is None else "withheld: " + label.marking  # type: ignore[union-attr]
        return cls(value=seen.value, label=label, withheld=seen.withheld, marker=marker)


class ActionOut(BaseModel):
    id: str
    kind: str
    state: str
    priority: str
    owner_org: str
    opr_org: str | None
    ocr_orgs: list[str]
    creator_id: str
    action_officer_id: str | None
    owning_net_id: str | None
    bilateral: bool
    mutual_consent: bool
    round: int
    version: int
    created_at: str
    updated_at: str
    label: LabelOut
    banner: LabelOut = Field(description="The join of the labels of what you may see.")
    fields: dict[str, FieldOut]
    overdue: bool | None = Field(description="Past its suspense (an RFI: LTIOV); null if withheld.")
    mine: bool
    waiting_on_me: bool
    next_steps: list[str]
    required_nations: list[str]

    @classmethod
    def of(cls, seen: ActionSeen, registry: SchemeRegistry) -> ActionOut:
        return cls(
            id=seen.id,
            kind=seen.kind.value,
            state=seen.state,
            priority=seen.priority.value,
            owner_org=seen.owner_org,
            opr_org=seen.opr_org,
            ocr_orgs=list(seen.ocr_orgs),
            creator_id=seen.creator_id,
            action_officer_id=seen.action_officer_id,
            owning_net_id=seen.owning_net_id,
            bilateral=seen.bilateral,
            mutual_consent=seen.mutual_consent,
            round=seen.round,
            version=seen.version,
            created_at=seen.created_at.isoformat(),
            updated_at=seen.updated_at.isoformat(),
            label=LabelOut.of(seen.label, registry),
            banner=LabelOut.of(seen.banner, registry),
            fields={n: FieldOut.of(f, registry) for n, f in seen.fields.items()},
            overdue=seen.overdue,
            mine=seen.mine,
            waiting_on_me=seen.waiting_on_me,
            next_steps=list(seen.next_steps),
            required_nations=list(seen.required_nations),
        )


class TransitionOut(BaseModel):
    step: str
    from_state: str
    to_state: str
    actor_id: str
    at: str
    reason: str

    @classmethod
    def of(cls, t: Transition) -> TransitionOut:
        return cls(
            step=t.name,
            from_state=t.from_state,
            to_state=t.to_state,
            actor_id=t.actor_id,
            at=t.at.isoformat(),
            reason=t.reason,
        )


class CommentOut(BaseModel):
    id: str
    org_id: str
    author_id: str
    type: str
    created_at: str
    decision: str | None
    label: LabelOut | None
    withheld: bool
    marker: str | None
    location: str | None
    text: str | None
    rationale: str | None
    decision_reason: str | None

    @classmethod
    def of(cls, c: CommentSeen, registry: SchemeRegistry) -> CommentOut:
        marker = None
        if c.withheld:
            marker = (
                "withheld" if c.label is None else "withheld: " + render_marking(c.label, registry)
            )
        return cls(
            id=c.id,
            org_id=c.org_id,
            author_id=c.author_id,
            type=c.type.value,
            created_at=c.created_at.isoformat(),
            decision=None if c.decision is None else c.decision.value,
            label=None if c.label is None else LabelOut.of(c.label, registry),
            withheld=c.withheld,
            marker=marker,
            location=c.location,
            text=c.text,
            rationale=c.rationale,
            decision_reason=c.decision_reason,
        )


class ConcurrenceOut(BaseModel):
    org_id: str
    answer: str
    person_id: str
    at: str
    comment_id: str | None
    status: str | None
    level: str
    blocking: bool

    @classmethod
    def of(cls, c: Concurrence) -> ConcurrenceOut:
        return cls(
            org_id=c.org_id,
            answer=c.answer.value,
            person_id=c.person_id,
            at=c.at.isoformat(),
            comment_id=c.comment_id,
            status=None if c.status is None else c.status.value,
            level=c.level.value,
            blocking=c.blocking,
        )


class SignatureOut(BaseModel):
    nation: str
    person_id: str
    org_id: str
    at: str
    round: int

    @classmethod
    def of(cls, s: Signature) -> SignatureOut:
        return cls(
            nation=s.nation,
            person_id=s.person_id,
            org_id=s.org_id,
            at=s.at.isoformat(),
            round=s.round,
        )


class ActionDetailOut(BaseModel):
    banner: LabelOut = Field(description="The join of everything on this page you may see.")
    action: ActionOut
    transitions: list[TransitionOut]
    comments: list[CommentOut]
    concurrences: list[ConcurrenceOut]
    signatures: list[SignatureOut]

    @classmethod
    def of(cls, detail: ActionDetail, registry: SchemeRegistry) -> ActionDetailOut:
        return cls(
            banner=LabelOut.of(detail.banner, registry),
            action=ActionOut.of(detail.seen, registry),
            transitions=[TransitionOut.of(t) for t in detail.transitions],
            comments=[CommentOut.of(c, registry) for c in detail.comments],
            concurrences=[ConcurrenceOut.of(c) for c in detail.concurrences],
            signatures=[SignatureOut.of(s) for s in detail.signatures],
        )


class ActionPageOut(BaseModel):
    items: list[ActionOut]
    total: int = Field(description="How many of your actions match (counted on your view).")
    offset: int
    limit: int
