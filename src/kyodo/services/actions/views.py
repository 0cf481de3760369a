"""What one reader sees of an action: every field's value or a withheld marker, the banner of
what they may see, derived deadlines, and what waits on them — built only from what they read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.domain.actions import (
    MACHINES,
    ActionKind,
    Comment,
    CommentDecision,
    CommentType,
    Concurrence,
    FieldValue,
    Priority,
    Signature,
    Transition,
    deadline_field,
    past_deadline,
)
from kyodo.policy import actions as action_rules

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from kyodo.domain.actions import Action
    from kyodo.labels import Label
    from kyodo.policy import Subject


@dataclass(frozen=True, slots=True)
class FieldSeen:
    """A field as one reader sees it: its value and label, or withheld (its label shown only
    if the reader may know it)."""

    value: FieldValue
    label: Label | None
    withheld: bool = False


@dataclass(frozen=True, slots=True)
class CommentSeen:
    """A comment as one reader sees it: who and what type always; the content only if the
    reader reads its label."""

    id: str
    org_id: str
    author_id: str
    type: CommentType
    created_at: datetime
    decision: CommentDecision | None
    label: Label | None
    withheld: bool
    location: str | None
    text: str | None
    rationale: str | None
    decision_reason: str | None


@dataclass(frozen=True, slots=True)
class ActionSeen:
    """An action as one reader sees it. Nothing here depends on a value the reader may not
    read: `banner` joins only readable labels; `overdue` is None when the deadline is withheld;
    `waiting_on_me` and `next_steps` depend on the state and the parties only."""

    id: str
    kind: ActionKind
    state: str
    priority: Priority
    owner_org: str
    opr_org: str | None
    ocr_orgs: tuple[str, ...]
    creator_id: str
    action_officer_id: str | None
    owning_net_id: str | None
    bilateral: bool
    mutual_consent: bool
    round: int
    version: int
    created_at: datetime
    updated_at: datetime
    label: Label
    banner: Label
    fields: Mapping[str, FieldSeen]
    overdue: bool | None
    parties: frozenset[str]
    mine: bool
    waiting_on_me: bool
    next_steps: tuple[str, ...]
    required_nations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ActionDetail:
    """One action with its timeline, comment matrix, concurrences and signatures."""

    seen: ActionSeen
    transitions: Sequence[Transition]
    comments: Sequence[CommentSeen]
    concurrences: Sequence[Concurrence]
    signatures: Sequence[Signature]

    @property
    def banner(self) -> Label:
        """The page's banner: the action's, joined with the comments the reader reads."""
        result = self.seen.banner
        for c in self.comments:
            if not c.withheld and c.label is not None:
                result = result.join(c.label)
        return result


def see_field(
    subject: Subject, can_read: Callable[[Label], bool], label: Label, value: FieldValue
) -> FieldSeen:
    """The value if the reader reads its label; else withheld, marked only if they may know
    the marking."""
    if can_read(label):
        return FieldSeen(value, label)
    shown = label if action_rules.may_know_marking(subject, label) else None
    return FieldSeen(None, shown, withheld=True)


def see_comment(subject: Subject, can_read: Callable[[Label], bool], c: Comment) -> CommentSeen:
    readable = can_read(c.label)
    shown = c.label if readable or action_rules.may_know_marking(subject, c.label) else None
    return CommentSeen(
        id=c.id,
        org_id=c.org_id,
        author_id=c.author_id,
        type=c.type,
        created_at=c.created_at,
        decision=c.decision,
        label=shown,
        withheld=not readable,
        location=c.location if readable else None,
        text=c.text if readable else None,
        rationale=c.rationale if readable else None,
        decision_reason=c.decision_reason if readable else None,
    )


def required_nations(action: Action, org_nations: Mapping[str, str]) -> frozenset[str]:
    """The nations whose approvers sign a bilateral action: those of its owning and OPR orgs
    (a combined body signs for nobody)."""
    if not action.bilateral:
        return frozenset()
    found = {org_nations.get(o, "") for o in (action.owner_org, action.opr_org) if o}
    return frozenset(n for n in found if n and "+" not in n)


def see_action(
    subject: Subject,
    can_read: Callable[[Label], bool],
    action: Action,
    view: action_rules.ActionView,
    *,
    now: datetime,
    concurrences: Sequence[Concurrence] = (),
    signatures: Sequence[Signature] = (),
    nations: frozenset[str] = frozenset(),
) -> ActionSeen:
    """The reader's view of an action whose core label they read."""
    fields = {
        name: see_field(subject, can_read, value.label, value.value)
        for name, value in action.fields.items()
    }
    banner = action.label
    for f in fields.values():
        if not f.withheld and f.label is not None:
            banner = banner.join(f.label)
    deadline = fields.get(deadline_field(action.kind))
    if deadline is None or deadline.value is None:
        overdue: bool | None = None if deadline is not None and deadline.withheld else False
    else:
        overdue = past_deadline(action, deadline.value, now)
    parties = action_rules.parties(subject, view)
    machine = MACHINES[action.kind]
    steps = tuple(s.name for s in machine.steps_from(action.state) if s.parties & parties)
    waiting = any(s.advances and s.parties & parties for s in machine.steps_from(action.state))
    open_state = action.state not in machine.terminal and action.state != machine.initial
    if open_state and subject.org in action.ocr_orgs:
        answered = {c.org_id for c in concurrences}
        waiting = waiting or subject.org not in answered
    if open_state and subject.nation in nations and action.state not in machine.approved:
        signed = {s.nation for s in signatures if s.round == action.round}
        in_chain = (
            subject.org in (action.owner_org, action.opr_org)
            and view.org_nations.get(subject.org or "") == subject.nation
        )
        waiting = waiting or (in_chain and subject.nation not in signed)
    mine = subject.id in (action.creator_id, action.action_officer_id) or (
        subject.org is not None and subject.org in (action.owner_org, action.opr_org)
    )
    return ActionSeen(
        id=action.id,
        kind=action.kind,
        state=action.state,
        priority=action.priority,
        owner_org=action.owner_org,
        opr_org=action.opr_org,
        ocr_orgs=action.ocr_orgs,
        creator_id=action.creator_id,
        action_officer_id=action.action_officer_id,
        owning_net_id=action.owning_net_id,
        bilateral=action.bilateral,
        mutual_consent=action.mutual_consent,
        round=action.round,
        version=action.version,
        created_at=action.created_at,
        updated_at=action.updated_at,
        label=action.label,
        banner=banner,
        fields=fields,
        overdue=overdue,
        parties=parties,
        mine=mine,
        waiting_on_me=waiting,
        next_steps=steps,
        required_nations=tuple(sorted(nations)),
    )
