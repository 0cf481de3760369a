"""Who may do what in a net and to its messages: net roles, authorship, overseers, downgrades."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.policy.decision import ALLOW, Decision, Reason, may_read

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.policy.subject import Subject

OWNER = "owner"
MEMBER = "member"
READ_ONLY = "read_only"
WRITERS = frozenset({OWNER, MEMBER})
# Roles whose duties reach nets they are not members of — never above their own clearance.
OVERSEERS = frozenset({"admin", "security_officer", "records_officer"})
ADMIN = "admin"
RECORDS_OFFICER = "records_officer"
MAY_DOWNGRADE = "may_downgrade"


@dataclass(frozen=True, slots=True)
class NetView:
    """What the policy needs of a net: its name, labels, and the subject's role in it (None
    when the subject is not a member)."""

    name: str
    entry: Label
    ceiling: Label
    role: str | None
    meta: Label | None = None  # the label of its name, purpose and members; None: `entry`


def _deny(reason: str, *, failed: str, code: str, **params: str) -> Decision:
    return Decision(False, (reason,), (failed,), (Reason(code, tuple(params.items())),))


def may_see_net(subject: Subject, net: NetView) -> Decision:
    """Members see their net; an overseer sees a net's name, purpose and members only if they
    read its metadata label (by default its entry label): a role grants duties, never reading
    above one's clearance."""
    if net.role is not None:
        return ALLOW
    if subject.roles & OVERSEERS and may_read(subject, net.entry if net.meta is None else net.meta):
        return ALLOW
    return _deny("no need-to-know: not a member", failed="need_to_know", code="policy.not_member")


def may_read_messages(subject: Subject, net: NetView) -> Decision:
    """A net's messages are for its members (each still reads only what their labels allow);
    an overseer's duties (records exports) have their own rules."""
    if net.role is not None:
        return ALLOW
    return _deny("no need-to-know: not a member", failed="need_to_know", code="policy.not_member")


def may_post(subject: Subject, net: NetView) -> Decision:
    """Owners and members post; read-only members and outsiders do not."""
    if net.role in WRITERS:
        return ALLOW
    if net.role == READ_ONLY:
        return _deny(
            "read-only members cannot post in this net", failed="net_role", code="policy.read_only"
        )
    return _deny(
        "only members who may write can post in this net",
        failed="net_role",
        code="policy.not_writer",
    )


def may_manage(subject: Subject, net: NetView) -> Decision:
    """The net's owners, and admins who read its entry label, change the net and its members."""
    if net.role == OWNER:
        return ALLOW
    if ADMIN in subject.roles and may_read(subject, net.entry):
        return ALLOW
    return _deny(
        "only the net's owners or an administrator may change it",
        failed="net_role",
        code="policy.not_owner",
    )


def may_edit(subject: Subject, net: NetView, author_id: str) -> Decision:
    """Only the author edits, while still a member who may write."""
    if author_id != subject.id:
        return _deny(
            "only the author can edit a message", failed="author", code="policy.not_author"
        )
    return may_post(subject, net)


def may_delete(subject: Subject, net: NetView, author_id: str) -> Decision:
    """The author (still a writing member) or an owner of the net deletes."""
    if net.role == OWNER or (author_id == subject.id and net.role in WRITERS):
        return ALLOW
    return _deny(
        "only the author or a net owner can delete a message",
        failed="author",
        code="policy.not_author_delete",
    )


def may_read_versions(subject: Subject, author_id: str) -> Decision:
    """A message's history: its author and records officers (each version is then filtered
    by the reader's own decision)."""
    if author_id == subject.id or RECORDS_OFFICER in subject.roles:
        return ALLOW
    return _deny(
        "role records_officer required", failed="role", code="policy.role", role="records_officer"
    )


def may_keep_records(subject: Subject, net: NetView) -> Decision:
    """Exports and purges: records officers who read the net's entry label."""
    if RECORDS_OFFICER not in subject.roles:
        return _deny(
            "role records_officer required",
            failed="role",
            code="policy.role",
            role="records_officer",
        )
    if not may_read(subject, net.entry):
        return _deny(
            "cannot read the entry label of " + net.name,
            failed="clearance",
            code="policy.entry",
            net=net.name,
        )
    return ALLOW


def may_keep_marker(subject: Subject, net: NetView) -> Decision:
    """A read marker is kept with a membership."""
    if net.role is not None:
        return ALLOW
    return _deny(
        "only members keep a read marker in a net", failed="net_role", code="policy.not_member"
    )


def may_relabel_by_edit(current: Label, new: Label) -> Decision:
    """An edit may keep or raise a message's label, never lower it on any axis: that is a
    downgrade, its own action."""
    if new.dominates(current):
        return ALLOW
    return _deny(
        "an edit cannot lower a message's label: that is a downgrade",
        failed="downgrade",
        code="policy.edit_lowers",
    )


def may_downgrade(subject: Subject, before: Label, after: Label, justification: str) -> Decision:
    """Lowering a label is its own action: a person with `may_downgrade` who reads both
    labels, with a written justification."""
    reasons: list[str] = []
    failed: list[str] = []
    if MAY_DOWNGRADE not in subject.roles:
        reasons.append(f"role {MAY_DOWNGRADE} required")
        failed.append("role")
    if not (may_read(subject, before) and may_read(subject, after)):
        reasons.append("the downgrader must read both labels")
        failed.append("clearance")
    if len(justification.strip()) < 10:
        reasons.append("a downgrade needs a written justification (10 characters or more)")
        failed.append("justification")
    if after.dominates(before):
        reasons.append("the new label is not lower than the current one: edit instead")
        failed.append("not_lower")
    if not reasons:
        return ALLOW
    return Decision(False, tuple(reasons), tuple(failed))
