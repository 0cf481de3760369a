"""Who may change a person's security attributes or password: the administrators' own rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.policy.decision import ALLOW, Decision

if TYPE_CHECKING:
    from kyodo.policy.subject import Subject

ADMIN = "admin"
SECURITY_OFFICER = "security_officer"
# A reset of these accounts' passwords needs a second administrator (two-person rule).
PRIVILEGED = frozenset({ADMIN, SECURITY_OFFICER})
# What decides what a person may read or administer.
SECURITY_FIELDS = frozenset(
    {"nation", "clearance", "grants", "releasability_grants", "roles", "label", "active"}
)


def may_change_person(
    actor: Subject, target_id: str, changed: frozenset[str], granted: frozenset[str]
) -> Decision:
    """An administrator changes a person. Nobody changes their own clearance, nation, grants
    or roles; a compartment is granted only by someone who holds it, or a security officer."""
    reasons: list[str] = []
    failed: list[str] = []
    if ADMIN not in actor.roles:
        reasons.append(f"role {ADMIN} required")
        failed.append("role")
    own = sorted(changed & SECURITY_FIELDS) if actor.id == target_id else []
    if own:
        reasons.append(f"nobody changes their own {', '.join(own)}")
        failed.append("self")
    if SECURITY_OFFICER not in actor.roles:
        unheld = sorted(granted - actor.grants)
        if unheld:
            reasons.append(
                f"granting {', '.join(unheld)} needs a granter who holds it, or a security officer"
            )
            failed.append("grant")
    if not reasons:
        return ALLOW
    return Decision(False, tuple(reasons), tuple(failed))


def may_set_password(
    actor: Subject, target_id: str, target_roles: frozenset[str], approved_by: str | None
) -> Decision:
    """A person sets their own password; an administrator resets another's, and a reset of an
    administrator's or security officer's password needs a second administrator's approval."""
    if actor.id == target_id:
        return ALLOW
    if ADMIN not in actor.roles:
        return Decision(False, (f"role {ADMIN} required",), ("role",))
    if target_roles & PRIVILEGED and (approved_by is None or approved_by == actor.id):
        return Decision(
            False,
            (
                "resetting an administrator's or security officer's password needs a second "
                "administrator's approval",
            ),
            ("two_person",),
        )
    return ALLOW
