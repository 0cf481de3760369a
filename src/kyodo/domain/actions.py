"""Coordination actions: one Action, five kinds, labelled fields, state machines as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from kyodo.policy.actions import APPROVER, OPR, OWNER

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from kyodo.labels import Label

# A field's value as stored and shown: JSON scalars or a list of strings.
FieldValue = str | int | float | bool | list[str] | None


class ActionKind(StrEnum):
    """The five kinds of coordination action."""

    TASKER = "tasker"
    RFI = "rfi"
    SUPPORT_REQUEST = "support_request"
    LIAISON_REQUEST = "liaison_request"
    FACILITY_ACCESS = "facility_access"


class Priority(StrEnum):
    """How soon: ordered routine < priority < immediate."""

    ROUTINE = "routine"
    PRIORITY = "priority"
    IMMEDIATE = "immediate"


PRIORITY_RANK = {Priority.ROUTINE: 0, Priority.PRIORITY: 1, Priority.IMMEDIATE: 2}

# Fields every kind has, each labelled like the kind's own (portion marking).
CORE_FIELDS = ("title", "suspense")
# The kind-specific fields, as the issue lists them. Dates are ISO 8601 strings.
KIND_FIELDS: dict[ActionKind, tuple[str, ...]] = {
    ActionKind.TASKER: (
        "subject",
        "tasking_authority",
        "action_type",  # information / action / coordinate / reply_for_signature
        "sub_suspenses",
        "extension_reason",
        "extension_approver",
        "response",
        "closing_authority",
    ),
    ActionKind.RFI: (
        "question",
        "decision_supported",
        "ltiov",
        "answer_ceiling",  # the highest label the answer may carry (a marking)
        "answer_releasability",
        "answer",
        "satisfaction",
    ),
    ActionKind.SUPPORT_REQUEST: (
        "capability",
        "quantity",
        "location",
        "required_delivery_date",
        "duration",
        "justification",
        "risk_if_not_sourced",
        "supported_command",
        "supporting_command",
        "sourcing_solution",
    ),
    ActionKind.LIAISON_REQUEST: ("people", "dates", "place", "purpose", "host"),
    ActionKind.FACILITY_ACCESS: (
        "requesting_unit",
        "facility",
        "facility_manager",  # JSDF / prefecture / city / national
        "legal_basis",  # SOFA Art. II-4(a), II-4(b), Art. V
        "dates",
        "personnel",
        "vehicles_weapon_systems",
        "activities",
        "safety_environment",
        "jc_reference",
        "host_unit_concurrence",
        "local_consent_status",
        "public_affairs_line",
        "approval_conditions",
    ),
}
ACTION_TYPES = ("information", "action", "coordinate", "reply_for_signature")
LEGAL_BASES = ("SOFA II-4(a)", "SOFA II-4(b)", "SOFA V")


def field_names(kind: ActionKind) -> tuple[str, ...]:
    """Every labelled field an action of this kind may carry."""
    return CORE_FIELDS + KIND_FIELDS[kind]


@dataclass(frozen=True, slots=True)
class LabelledField:
    """One field's value and the label of that value (its portion marking)."""

    value: FieldValue
    label: Label


class ConcurAnswer(StrEnum):
    """A coordinating office's answer."""

    CONCUR = "concur"
    CONCUR_WITH_COMMENT = "concur_with_comment"
    NON_CONCUR = "non_concur"


class CommentType(StrEnum):
    """How much a comment weighs: a non-concurrence rests on a critical one."""

    CRITICAL = "critical"
    MAJOR = "major"
    SUBSTANTIVE = "substantive"
    ADMINISTRATIVE = "administrative"


class CommentDecision(StrEnum):
    """The OPR's decision on a comment."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class EscalationLevel(StrEnum):
    """Where a non-concurrence is settled, in order."""

    WORKING = "working"
    BILATERAL_OPS = "bilateral_ops"
    JOINT_COMMITTEE = "joint_committee"  # SOFA items (facility access) only


ESCALATION_ORDER = (
    EscalationLevel.WORKING,
    EscalationLevel.BILATERAL_OPS,
    EscalationLevel.JOINT_COMMITTEE,
)


class NonConcurStatus(StrEnum):
    """A non-concurrence is open until resolved (the office concurs after all) or escalated."""

    OPEN = "open"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


@dataclass(frozen=True, slots=True)
class Action:
    """The shared core of every kind; `fields` holds the labelled values (title, suspense and
    the kind's own). `label` is the core's: whoever cannot read it does not know the action
    exists. `round` counts reopenings: signatures count only in the round they were given."""

    id: str
    kind: ActionKind
    owner_org: str
    creator_id: str
    label: Label
    state: str
    priority: Priority
    created_at: datetime
    updated_at: datetime
    fields: Mapping[str, LabelledField] = field(default_factory=dict)
    opr_org: str | None = None
    ocr_orgs: tuple[str, ...] = ()
    action_officer_id: str | None = None
    owning_net_id: str | None = None
    bilateral: bool = False
    mutual_consent: bool = False  # Joint Committee items: released only by both sides' consent
    round: int = 1
    version: int = 1

    @property
    def whole_label(self) -> Label:
        """The label of the whole action: the core joined with every field's."""
        result = self.label
        for value in self.fields.values():
            result = result.join(value.label)
        return result

    @property
    def party_orgs(self) -> tuple[str, ...]:
        """The organisations the action concerns (owner, OPR, OCRs), each once."""
        found = [self.owner_org]
        if self.opr_org is not None:
            found.append(self.opr_org)
        found.extend(self.ocr_orgs)
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class Transition:
    """One recorded change of state."""

    action_id: str
    actor_id: str
    at: datetime
    from_state: str
    to_state: str
    name: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Comment:
    """A coordinating office's comment; its location, text and rationale carry `label`."""

    id: str
    action_id: str
    org_id: str
    author_id: str
    type: CommentType
    location: str
    text: str
    rationale: str
    label: Label
    created_at: datetime
    decision: CommentDecision | None = None
    decision_reason: str = ""
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Concurrence:
    """A coordinating office's current answer; a non-concurrence names its critical comment."""

    action_id: str
    org_id: str
    answer: ConcurAnswer
    person_id: str
    at: datetime
    comment_id: str | None = None
    status: NonConcurStatus | None = None  # for a non-concurrence only
    level: EscalationLevel = EscalationLevel.WORKING

    @property
    def blocking(self) -> bool:
        """An open non-concurrence stops the action from advancing."""
        return self.answer is ConcurAnswer.NON_CONCUR and self.status is NonConcurStatus.OPEN


@dataclass(frozen=True, slots=True)
class Signature:
    """One nation's approver signed, in their own chain, in one round of the action."""

    action_id: str
    nation: str
    person_id: str
    org_id: str
    at: datetime
    round: int


@dataclass(frozen=True, slots=True)
class Step:
    """A transition a machine allows: from one state to another, by which parties.

    `advances` steps move the work forward and are stopped by an open non-concurrence;
    `reopens` steps send it back (a new round: earlier signatures no longer count)."""

    name: str
    source: str
    target: str
    parties: frozenset[str]
    advances: bool = True
    reopens: bool = False


@dataclass(frozen=True, slots=True)
class Machine:
    """A kind's states and steps. `approved` holds the approval state and every state after
    it: a bilateral action enters it only with every nation's signature."""

    kind: ActionKind
    initial: str
    steps: tuple[Step, ...]
    approved: frozenset[str]
    terminal: frozenset[str]

    @property
    def states(self) -> frozenset[str]:
        return frozenset(
            {self.initial} | {s.source for s in self.steps} | {s.target for s in self.steps}
        )

    def step(self, source: str, name: str) -> Step | None:
        """The step `name` from `source`, if the machine has one."""
        for step in self.steps:
            if step.source == source and step.name == name:
                return step
        return None

    def steps_from(self, source: str) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.source == source)


def _s(
    name: str,
    source: str | Sequence[str],
    target: str,
    *parties: str,
    advances: bool = True,
    reopens: bool = False,
) -> tuple[Step, ...]:
    sources = (source,) if isinstance(source, str) else tuple(source)
    who = frozenset(parties)
    return tuple(Step(name, s, target, who, advances, reopens) for s in sources)


def _machine(
    kind: ActionKind,
    initial: str,
    approved: Sequence[str],
    terminal: Sequence[str],
    *groups: tuple[Step, ...],
) -> Machine:
    steps = tuple(step for group in groups for step in group)
    return Machine(kind, initial, steps, frozenset(approved), frozenset(terminal))


_TASKER_OPEN = (
    "DRAFT",
    "ISSUED",
    "ACKNOWLEDGED",
    "IN_WORK",
    "IN_COORDINATION",
    "READY_FOR_SIGNATURE",
    "RETURNED",
    "EXTENSION_REQUESTED",
)
TASKER = _machine(
    ActionKind.TASKER,
    "DRAFT",
    ("SUBMITTED", "CLOSED"),
    ("CLOSED", "CANCELLED"),
    _s("issue", "DRAFT", "ISSUED", OWNER),
    _s("acknowledge", "ISSUED", "ACKNOWLEDGED", OPR),
    _s("start_work", "ACKNOWLEDGED", "IN_WORK", OPR),
    _s("coordinate", "IN_WORK", "IN_COORDINATION", OPR),
    _s("ready_for_signature", "IN_COORDINATION", "READY_FOR_SIGNATURE", OPR),
    _s("submit", "READY_FOR_SIGNATURE", "SUBMITTED", APPROVER),
    _s("close", "SUBMITTED", "CLOSED", OWNER),
    _s(
        "return",
        ("SUBMITTED", "READY_FOR_SIGNATURE"),
        "RETURNED",
        OWNER,
        advances=False,
        reopens=True,
    ),
    _s("rework", "RETURNED", "IN_WORK", OPR),
    _s(
        "request_extension",
        ("ACKNOWLEDGED", "IN_WORK", "IN_COORDINATION"),
        "EXTENSION_REQUESTED",
        OPR,
        advances=False,
    ),
    _s("grant_extension", "EXTENSION_REQUESTED", "IN_WORK", OWNER, advances=False),
    _s("deny_extension", "EXTENSION_REQUESTED", "IN_WORK", OWNER, advances=False),
    _s("cancel", _TASKER_OPEN, "CANCELLED", OWNER, advances=False),
)

RFI = _machine(
    ActionKind.RFI,
    "DRAFT",
    ("ANSWERED", "SATISFIED", "NOT_SATISFIED", "CLOSED"),
    ("CLOSED", "CANCELLED", "REJECTED"),
    _s("submit", "DRAFT", "SUBMITTED", OWNER),
    _s("accept", "SUBMITTED", "ACCEPTED", OPR),
    _s("reject", "SUBMITTED", "REJECTED", OPR, advances=False),
    _s("answer", "ACCEPTED", "ANSWERED", APPROVER),
    _s("satisfied", "ANSWERED", "SATISFIED", OWNER),
    _s("not_satisfied", "ANSWERED", "NOT_SATISFIED", OWNER),
    _s("reopen", "NOT_SATISFIED", "ACCEPTED", OWNER, advances=False, reopens=True),
    _s("close", ("SATISFIED", "NOT_SATISFIED"), "CLOSED", OWNER),
    _s("cancel", ("DRAFT", "SUBMITTED", "ACCEPTED"), "CANCELLED", OWNER, advances=False),
)

SUPPORT = _machine(
    ActionKind.SUPPORT_REQUEST,
    "DRAFT",
    ("APPROVED", "EXECUTING", "CLOSED"),
    ("CLOSED", "CANCELLED", "DENIED"),
    _s("submit", "DRAFT", "SUBMITTED", OWNER),
    _s("validate", "SUBMITTED", "VALIDATED", OPR),
    _s("source", "VALIDATED", "SOURCING", OPR),
    _s("approve", "SOURCING", "APPROVED", APPROVER),
    _s("execute", "APPROVED", "EXECUTING", OPR),
    _s("close", "EXECUTING", "CLOSED", OWNER),
    _s(
        "return",
        ("SUBMITTED", "VALIDATED", "SOURCING"),
        "RETURNED",
        OPR,
        advances=False,
        reopens=True,
    ),
    _s("resubmit", "RETURNED", "SUBMITTED", OWNER),
    _s("deny", ("SUBMITTED", "VALIDATED", "SOURCING"), "DENIED", OPR, advances=False),
    _s(
        "cancel",
        ("DRAFT", "SUBMITTED", "VALIDATED", "SOURCING", "RETURNED"),
        "CANCELLED",
        OWNER,
        advances=False,
    ),
)

LIAISON = _machine(
    ActionKind.LIAISON_REQUEST,
    "DRAFT",
    ("APPROVED", "COMPLETED"),
    ("COMPLETED", "CANCELLED", "DENIED"),
    _s("submit", "DRAFT", "SUBMITTED", OWNER),
    _s("review", "SUBMITTED", "HOST_REVIEW", OPR),
    _s("approve", "HOST_REVIEW", "APPROVED", APPROVER),
    _s("complete", "APPROVED", "COMPLETED", OWNER),
    _s("deny", ("SUBMITTED", "HOST_REVIEW"), "DENIED", OPR, advances=False),
    _s(
        "cancel",
        ("DRAFT", "SUBMITTED", "HOST_REVIEW", "APPROVED"),
        "CANCELLED",
        OWNER,
        advances=False,
    ),
)

_FACILITY_PENDING = (
    "SUBMITTED_BILATERAL",
    "JP_STAFFED",
    "JC_AGENDA",
    "JC_AGREED",
    "LOCAL_COORDINATION",
)
FACILITY = _machine(
    ActionKind.FACILITY_ACCESS,
    "DRAFT",
    ("APPROVED", "IN_USE", "CLOSED"),
    ("CLOSED", "DENIED", "WITHDRAWN"),
    _s("staff_us", "DRAFT", "US_STAFFED", OWNER),
    _s("submit_bilateral", "US_STAFFED", "SUBMITTED_BILATERAL", OWNER),
    _s("staff_jp", "SUBMITTED_BILATERAL", "JP_STAFFED", OPR),
    _s("to_joint_committee", "JP_STAFFED", "JC_AGENDA", OPR),
    _s("jc_agree", "JC_AGENDA", "JC_AGREED", OPR),
    _s("local_coordination", ("JP_STAFFED", "JC_AGREED"), "LOCAL_COORDINATION", OPR),
    _s("approve", "LOCAL_COORDINATION", "APPROVED", APPROVER),
    _s("start_use", "APPROVED", "IN_USE", OWNER),
    _s("close", "IN_USE", "CLOSED", OWNER),
    _s("deny", _FACILITY_PENDING, "DENIED", OPR, advances=False),
    _s(
        "withdraw",
        ("DRAFT", "US_STAFFED", *_FACILITY_PENDING, "MODIFIED", "APPROVED"),
        "WITHDRAWN",
        OWNER,
        advances=False,
    ),
    _s("modify", (*_FACILITY_PENDING, "APPROVED"), "MODIFIED", OWNER, advances=False, reopens=True),
    _s("resubmit", "MODIFIED", "SUBMITTED_BILATERAL", OWNER),
)

MACHINES: dict[ActionKind, Machine] = {m.kind: m for m in (TASKER, RFI, SUPPORT, LIAISON, FACILITY)}


def deadline_field(kind: ActionKind) -> str:
    """The field whose date makes the action overdue (an RFI: expired) once passed."""
    return "ltiov" if kind is ActionKind.RFI else "suspense"


def parse_time(value: FieldValue) -> datetime | None:
    """A field's ISO 8601 date-time (UTC if no offset), or None if it is not one."""
    from datetime import UTC, datetime

    if not isinstance(value, str) or not value:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def past_deadline(action: Action, value: FieldValue, now: datetime) -> bool:
    """Whether the action is overdue (an RFI: expired) given its deadline's value as known to
    whoever asks: derived, never a state; an action in a terminal state is neither."""
    if action.state in MACHINES[action.kind].terminal:
        return False
    deadline = parse_time(value)
    return deadline is not None and now > deadline


def step_blockers(
    action: Action,
    step: Step,
    concurrences: Sequence[Concurrence],
    signatures: Sequence[Signature],
    required_nations: frozenset[str],
) -> list[str]:
    """Why `step` cannot be taken now, whoever asks (empty: it can): an open non-concurrence
    stops every advancing step; a bilateral action enters its approved states only with a
    signature of every required nation in this round."""
    machine = MACHINES[action.kind]
    found: list[str] = []
    if step.advances:
        for c in concurrences:
            if c.blocking:
                found.append(f"the non-concurrence of {c.org_id} is open")
    if step.target in machine.approved and step.source not in machine.approved:
        signed = {s.nation for s in signatures if s.round == action.round}
        if action.bilateral:
            for nation in sorted(required_nations - signed):
                found.append(f"an approver of {nation} has not signed")
    return found
