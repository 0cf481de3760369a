"""The net and people rules (`policy/nets.py`, `policy/people.py`) as properties: no role ever
reads above the subject's own clearance, and no label gets lower except by a downgrade."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from kyodo.labels import Label
from kyodo.policy import Subject, may_read
from kyodo.policy import nets as rules
from kyodo.policy import people as people_rules

from tests.labels.strategies import labels, subjects

ROLES = st.frozensets(
    st.sampled_from(("admin", "security_officer", "records_officer", "member", "may_downgrade"))
)
NET_ROLES = st.sampled_from((None, "owner", "member", "read_only"))


def _view(entry: Label, meta: Label | None, role: str | None) -> rules.NetView:
    return rules.NetView("net", entry, entry, role, meta)


@given(subjects(), ROLES, labels(), st.one_of(st.none(), labels()), NET_ROLES)
def test_an_outsider_sees_a_net_only_by_reading_its_label(
    subject: Subject, roles: frozenset[str], entry: Label, meta: Label | None, role: str | None
) -> None:
    subject = replace(subject, roles=roles)
    seen = rules.may_see_net(subject, _view(entry, meta, role)).allowed
    if role is None:
        assert seen == (bool(roles & rules.OVERSEERS) and may_read(subject, meta or entry))
    else:
        assert seen
    # Messages are never an overseer's: members only.
    assert rules.may_read_messages(subject, _view(entry, meta, role)).allowed == (role is not None)


@given(subjects(), ROLES, labels(), NET_ROLES)
def test_only_owners_and_cleared_admins_manage(
    subject: Subject, roles: frozenset[str], entry: Label, role: str | None
) -> None:
    subject = replace(subject, roles=roles)
    managed = rules.may_manage(subject, _view(entry, None, role)).allowed
    assert managed == (role == "owner" or ("admin" in roles and may_read(subject, entry)))


@given(labels(), labels())
def test_an_edit_never_lowers_a_label(current: Label, new: Label) -> None:
    assert rules.may_relabel_by_edit(current, new).allowed == new.dominates(current)


@given(subjects(), ROLES, labels(), labels(), st.text(max_size=40))
def test_a_downgrade_needs_the_role_both_labels_a_reason_and_a_lower_label(
    subject: Subject, roles: frozenset[str], before: Label, after: Label, why: str
) -> None:
    subject = replace(subject, roles=roles)
    allowed = rules.may_downgrade(subject, before, after, why).allowed
    assert allowed == (
        "may_downgrade" in roles
        and may_read(subject, before)
        and may_read(subject, after)
        and len(why.strip()) >= 10
        and not after.dominates(before)
    )


@given(
    subjects(),
    ROLES,
    st.sampled_from(("u1", "u2")),
    st.frozensets(st.sampled_from(sorted(people_rules.SECURITY_FIELDS | {"name"}))),
    st.frozensets(st.sampled_from(("SI", "TK", "SDS"))),
)
def test_nobody_grants_themselves_or_what_they_do_not_hold(
    actor: Subject,
    roles: frozenset[str],
    target: str,
    changed: frozenset[str],
    granted: frozenset[str],
) -> None:
    actor = replace(actor, roles=roles)
    allowed = people_rules.may_change_person(actor, target, changed, granted).allowed
    if allowed:
        assert "admin" in roles
        assert actor.id != target or not changed & people_rules.SECURITY_FIELDS
        assert granted <= actor.grants or "security_officer" in roles


@given(subjects(), ROLES, st.frozensets(st.sampled_from(("admin", "security_officer", "member"))))
def test_a_privileged_password_needs_a_second_administrator(
    actor: Subject, roles: frozenset[str], target_roles: frozenset[str]
) -> None:
    actor = replace(actor, roles=roles)
    other = "someone else" if actor.id != "someone else" else "another"
    alone = people_rules.may_set_password(actor, other, target_roles, None).allowed
    assert alone == ("admin" in roles and not target_roles & people_rules.PRIVILEGED)
    approved = people_rules.may_set_password(actor, other, target_roles, "u3").allowed
    assert approved == ("admin" in roles)
    self_approved = people_rules.may_set_password(actor, other, target_roles, actor.id).allowed
    assert self_approved == alone
    assert people_rules.may_set_password(actor, actor.id, target_roles, None).allowed
