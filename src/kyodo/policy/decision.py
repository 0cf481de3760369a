"""The one decision function: `decide(subject, action, resource) -> Decision` with plain reasons."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.policy.subject import Subject


class Action(StrEnum):
    """What a subject asks to do with a resource."""

    READ = "read"
    WRITE = "write"  # create or label an object, optionally placed in a container
    JOIN = "join"  # become a member of a container (net, feed)


@dataclass(frozen=True, slots=True)
class Container:
    """A net or feed: messages placed in it are dominated by `ceiling`; members read `entry`."""

    name: str
    ceiling: Label
    entry: Label

    def __post_init__(self) -> None:
        if not self.ceiling.dominates(self.entry):
            raise ValueError(f"container {self.name}: entry label must be dominated by ceiling")


@dataclass(frozen=True, slots=True)
class Resource:
    """What the decision is about.

    `audience` holds the person and org ids with need-to-know (net members, an org's access
    list); None means the object carries no need-to-know restriction beyond its label.
    `required_role` names a role the subject must hold (e.g. `records_officer`).
    """

    label: Label
    container: Container | None = None
    audience: frozenset[str] | None = None
    required_role: str | None = None
    kind: str = "object"


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason as a catalogue code with its values: each transport words it in its reader's
    language (the plain English of `Decision.reasons` stays for the API and the audit)."""

    code: str
    params: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The JSON form: {"code": …, "params": {…}}."""
        return {"code": self.code, "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed or not; each reason names the property that failed, in plain words, and, where
    a person sees it, as a `Reason` code."""

    allowed: bool
    reasons: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    codes: tuple[Reason, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)
_READ = Action.READ  # a module constant: enum attribute access is slow on the hot path


def may_read(subject: Subject, label: Label) -> bool:
    """The simple-security read check alone, as a boolean (the hot path of fan-out)."""
    if subject.clearance_rank < label.rank or not label.restrictive <= subject.grants:
        return False
    rel = label.releasable_to
    return rel is None or subject.holds_nation(rel)


def _label_reasons(
    subject: Subject, label: Label, reasons: list[str], failed: list[str], codes: list[Reason]
) -> None:
    if subject.clearance_rank < label.rank:
        reasons.append(f"clearance {subject.clearance} is below {label.level}")
        failed.append("clearance")
        codes.append(
            Reason(
                "policy.clearance",
                (
                    ("clearance", subject.clearance),
                    ("level", label.level),
                    # The places on the shared scale, to word both in the reader's scheme.
                    ("clearance_rank", str(subject.clearance_rank)),
                    ("rank", str(label.rank)),
                ),
            )
        )
    missing = sorted(label.restrictive - subject.grants)
    if missing:
        noun = "compartment" if len(missing) == 1 else "compartments"
        reasons.append(f"missing {noun} {', '.join(missing)}")
        failed.append("restrictive")
        codes.append(Reason("policy.compartments", (("names", ", ".join(missing)),)))
    rel = label.releasable_to
    if rel is not None and not subject.holds_nation(rel):
        nations = _nations(label, rel)
        reasons.append(f"nation {subject.nation} is not in REL TO {nations}")
        failed.append("releasability")
        codes.append(
            Reason("policy.releasability", (("nation", subject.nation), ("nations", nations)))
        )


def _nations(label: Label, rel: frozenset[str]) -> str:
    if not rel:
        return "NONE"
    first = [label.policy] if label.policy in rel else []
    return ", ".join(first + sorted(rel - set(first)))


def decide(subject: Subject, action: Action, resource: Resource) -> Decision:
    """Decide one access. Read: clearance, restrictive categories, releasability, need-to-know.
    Write: the subject can read the label it writes, and the container's ceiling dominates it.
    Join: the subject can read the container's entry label."""
    if (
        action is _READ
        and resource.audience is None
        and resource.required_role is None
        and may_read(subject, resource.label)
    ):
        return ALLOW  # the common case, without building reasons
    reasons: list[str] = []
    failed: list[str] = []
    codes: list[Reason] = []
    if action is Action.JOIN:
        if resource.container is None:
            raise ValueError("a join decision needs a container")
        _label_reasons(subject, resource.container.entry, reasons, failed, codes)
        if reasons:
            name = resource.container.name
            reasons.insert(0, f"cannot read the entry label of {name}")
            codes.insert(0, Reason("policy.entry", (("net", name),)))
    else:
        _label_reasons(subject, resource.label, reasons, failed, codes)
        if action is Action.WRITE and resource.container is not None:
            container = resource.container
            if not container.ceiling.dominates(resource.label):
                reasons.append(f"label is above the ceiling of {container.name}")
                failed.append("ceiling")
                codes.append(Reason("policy.ceiling", (("net", container.name),)))
    if (
        action is Action.READ
        and resource.audience is not None
        and subject.id not in resource.audience
        and (subject.org is None or subject.org not in resource.audience)
    ):
        reasons.append("no need-to-know: not a member")
        failed.append("need_to_know")
        codes.append(Reason("policy.not_member"))
    if resource.required_role is not None and resource.required_role not in subject.roles:
        reasons.append(f"role {resource.required_role} required")
        failed.append("role")
        codes.append(Reason("policy.role", (("role", resource.required_role),)))
    if not reasons:
        return ALLOW
    return Decision(False, tuple(reasons), tuple(failed), tuple(codes))
