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
# Roles that administer, read the audit log or release information: given only by a holder.
CONFERRED_BY_HOLDERS = frozenset({ADMIN, SECURITY_OFFICER, "may_downgrade"})
# What decides what a person may read or administer.
SECURITY_FIELDS = frozenset(
    {"nation", "clearance", "grants", "releasability_grants", "roles", "label", "active"}
)


def _conferral_reasons(
    actor: Subject,
    rank: int | None,
    grants: frozenset[str],
    nations: frozenset[str],
    roles: frozenset[str],
    reasons: list[str],
    failed: list[str],
) -> None:
    """Nobody but a security officer gives another more than they hold themselves: a higher
    clearance, a compartment, a nation to read as, or a role."""
    if SECURITY_OFFICER in actor.roles:
        return
    if rank is not None and rank > actor.clearance_rank:
        reasons.append("a clearance above one's own needs a security officer")
        failed.append("clearance")
    unheld = sorted(grants - actor.grants)
    if unheld:
        reasons.append(
            f"granting {', '.join(unheld)} needs a granter who holds it, or a security officer"
        )
        failed.append("grant")
    # Nationality is not checked: a combined HQ's administrators enrol the other nation's
    # staff (a first admin of one nation must be able to), and `nations` stays for the record.
    del nations
    beyond = sorted((roles & CONFERRED_BY_HOLDERS) - actor.roles)
    if beyond:
        reasons.append(f"giving the role {', '.join(beyond)} needs a holder of it")
        failed.append("role")


def may_create_person(
    actor: Subject,
    rank: int,
    grants: frozenset[str],
    nations: frozenset[str],
    roles: frozenset[str],
) -> Decision:
    """An administrator adds a person with no more than the administrator holds (clearance,
    compartments, nations, roles), unless a security officer: no account made to log in as."""
    reasons: list[str] = []
    failed: list[str] = []
    if ADMIN not in actor.roles:
        reasons.append(f"role {ADMIN} required")
        failed.append("role")
    _conferral_reasons(actor, rank, grants, nations, roles, reasons, failed)
    if not reasons:
        return ALLOW
    return Decision(False, tuple(reasons), tuple(failed))


def may_change_person(
    actor: Subject,
    target_id: str,
    changed: frozenset[str],
    granted: frozenset[str],
    *,
    raised_rank: int | None = None,
    nations: frozenset[str] = frozenset(),
    roles: frozenset[str] = frozenset(),
) -> Decision:
    """An administrator changes a person. Nobody changes their own clearance, nation, grants
    or roles; nobody but a security officer confers more than they hold (`raised_rank`: the
    new clearance if higher; `granted`, `nations`, `roles`: what the change adds)."""
    reasons: list[str] = []
    failed: list[str] = []
    if ADMIN not in actor.roles:
        reasons.append(f"role {ADMIN} required")
        failed.append("role")
    own = sorted(changed & SECURITY_FIELDS) if actor.id == target_id else []
    if own:
        reasons.append(f"nobody changes their own {', '.join(own)}")
        failed.append("self")
    _conferral_reasons(actor, raised_rank, granted, nations, roles, reasons, failed)
    if not reasons:
        return ALLOW
    return Decision(False, tuple(reasons), tuple(failed))


def may_request_password_reset(
    actor: Subject, target_id: str, target_roles: frozenset[str]
) -> Decision:
    """An administrator asks for a second administrator's reset of a privileged person's
    password (the two-person rule); there is nothing to ask for anyone else, nor for oneself."""
    if ADMIN not in actor.roles:
        return Decision(False, (f"role {ADMIN} required",), ("role",))
    if actor.id == target_id:
        return Decision(False, ("change your own password yourself",), ("own",))
    if not target_roles & PRIVILEGED:
        return Decision(
            False,
            (
                "only an administrator's or security officer's password needs a second "
                "administrator",
            ),
            ("not_privileged",),
        )
    return ALLOW


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
