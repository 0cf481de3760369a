"""Who may do what with a coordination action: read, create, transition, edit, comment, concur,
sign — and whether a withheld field's marking may itself be shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kyodo.policy.decision import ALLOW, Action, Decision, Resource, decide, may_read

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from kyodo.labels import Label
    from kyodo.policy.subject import Subject

# The parties a state machine's steps name (kyodo.domain.actions).
OWNER = "owner"  # the originating command (its people) and the action's creator
OPR = "opr"  # the office of primary responsibility (its people) and the action officer
OCR = "ocr"  # an office of coordinating responsibility
APPROVER = "approver"  # an owner or OPR; a bilateral action also needs every nation's signature
ADMIN = "admin"
OVERSEERS = frozenset({"admin", "security_officer", "records_officer"})


@dataclass(frozen=True, slots=True)
class ActionView:
    """What the policy needs of an action: its core label and the parties it names.
    `org_nations` gives the nation of each party org ("USA+JPN" for a combined body)."""

    label: Label
    creator_id: str
    owner_org: str
    opr_org: str | None = None
    ocr_orgs: frozenset[str] = frozenset()
    action_officer_id: str | None = None
    org_nations: Mapping[str, str] = field(default_factory=dict)

    @property
    def orgs(self) -> frozenset[str]:
        found = {self.owner_org, *self.ocr_orgs}
        if self.opr_org is not None:
            found.add(self.opr_org)
        return frozenset(found)


def _deny(*reasons: str, failed: str) -> Decision:
    return Decision(False, reasons, (failed,))


def parties(subject: Subject, view: ActionView) -> frozenset[str]:
    """The parties the subject is to this action (by organisation or by name)."""
    found: set[str] = set()
    if subject.id == view.creator_id or (subject.org is not None and subject.org == view.owner_org):
        found.add(OWNER)
    if subject.id == view.action_officer_id or (
        subject.org is not None and subject.org == view.opr_org
    ):
        found.add(OPR)
    if subject.org is not None and subject.org in view.ocr_orgs:
        found.add(OCR)
    if found & {OWNER, OPR}:
        found.add(APPROVER)
    return frozenset(found)


def may_read_action(subject: Subject, view: ActionView) -> Decision:
    """The action's core: its parties, and overseers (admins, security and records officers),
    each only if they read its core label — a role never lifts a label."""
    label = decide(subject, Action.READ, Resource(view.label))
    if not label:
        return label
    if parties(subject, view) or subject.roles & OVERSEERS:
        return ALLOW
    return _deny("no need-to-know: not a party to the action", failed="need_to_know")


def may_create(subject: Subject, view: ActionView, labels: Iterable[Label]) -> Decision:
    """A person of the owning command (or an admin) creates an action, and must read every
    label they give it."""
    reasons: list[str] = []
    failed: list[str] = []
    if not (subject.org == view.owner_org or ADMIN in subject.roles):
        reasons.append("only a member of the owning command creates its actions")
        failed.append("owner")
    for label in {view.label, *labels}:
        decision = decide(subject, Action.WRITE, Resource(label))
        if not decision:
            reasons.extend(r for r in decision.reasons if r not in reasons)
            failed.extend(decision.failed)
    if not reasons:
        return ALLOW
    return Decision(False, tuple(reasons), tuple(dict.fromkeys(failed)))


def may_take_step(subject: Subject, view: ActionView, step: str, who: frozenset[str]) -> Decision:
    """A step of the state machine is taken by one of the parties it names."""
    if parties(subject, view) & who:
        return ALLOW
    names = ", ".join(sorted(who))
    return _deny(f"{step} is taken by the action's {names}", failed="party")


def may_edit_field(
    subject: Subject, view: ActionView, current: Label | None, new: Label
) -> Decision:
    """The owner or the OPR edits a field: only one they read (nobody overwrites blind), to a
    label they read, never lowered by an edit (that is a downgrade)."""
    reasons: list[str] = []
    failed: list[str] = []
    if not parties(subject, view) & {OWNER, OPR}:
        reasons.append("only the action's owner or OPR edits its fields")
        failed.append("party")
    if current is not None and not may_read(subject, current):
        reasons.append("the field is withheld from you: it cannot be overwritten blind")
        failed.append("clearance")
    if not may_read(subject, new):
        reasons.append("you cannot give a field a label you cannot read")
        failed.append("clearance")
    if current is not None and not new.dominates(current):
        reasons.append("an edit cannot lower a field's label: that is a downgrade")
        failed.append("downgrade")
    if not reasons:
        return ALLOW
    return Decision(False, tuple(reasons), tuple(failed))


def may_comment(subject: Subject, view: ActionView, org_id: str, label: Label) -> Decision:
    """A person comments for their own office, which must be a party org, at a label they
    read."""
    if subject.org != org_id or org_id not in view.orgs:
        return _deny("you comment only for your own office, a party to the action", failed="party")
    return decide(subject, Action.WRITE, Resource(label))


def may_concur(subject: Subject, view: ActionView, org_id: str) -> Decision:
    """A coordinating office answers for itself, through its own people."""
    if org_id not in view.ocr_orgs:
        return _deny(f"{org_id} is not a coordinating office of the action", failed="party")
    if subject.org != org_id:
        return _deny("you answer only for your own office", failed="party")
    return ALLOW


def may_decide_comment(subject: Subject, view: ActionView) -> Decision:
    """The OPR decides on comments (the owner, if the action has no OPR)."""
    who = OPR if view.opr_org is not None or view.action_officer_id else OWNER
    if who in parties(subject, view):
        return ALLOW
    return _deny(f"comments are decided by the action's {who}", failed="party")


def may_escalate(subject: Subject, view: ActionView) -> Decision:
    """The owner or the OPR escalates a non-concurrence."""
    if parties(subject, view) & {OWNER, OPR}:
        return ALLOW
    return _deny("only the action's owner or OPR escalates", failed="party")


def may_sign(subject: Subject, view: ActionView, nation: str, required: frozenset[str]) -> Decision:
    """An approver signs for their own nation only — never by a releasability grant —, in
    their own chain: as a person of the owning or the OPR's organisation of that nation (a
    coordinating office coordinates; it does not approve)."""
    reasons: list[str] = []
    if nation not in required:
        reasons.append(f"{nation} does not sign this action")
    if subject.nation != nation:
        reasons.append(f"nobody signs for another nation: you are of {subject.nation}")
    approving = {view.owner_org} | ({view.opr_org} if view.opr_org else set())
    chain = {o for o in approving if view.org_nations.get(o) == nation}
    if subject.org not in chain:
        reasons.append(f"you are not in a {nation} chain of the action")
    if reasons:
        return Decision(False, tuple(reasons), ("signer",))
    return ALLOW


def may_know_marking(subject: Subject, label: Label) -> bool:
    """Whether a withheld field may show its marking: not when it names a compartment the
    reader does not hold (the names of compartments are themselves controlled)."""
    return label.restrictive <= subject.grants
