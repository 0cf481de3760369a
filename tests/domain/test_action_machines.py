"""The actions' state machines as data: well-formed, terminal states final, every way into an
approved state is an approval step; and the policy's signing rule — own nation, own chain."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kyodo.domain.actions import (
    MACHINES,
    TASKER,
    Action,
    ActionKind,
    ConcurAnswer,
    Concurrence,
    NonConcurStatus,
    Priority,
    Signature,
    step_blockers,
)
from kyodo.labels import Label
from kyodo.policy import Subject
from kyodo.policy.actions import APPROVER, OWNER, ActionView, may_sign, parties

U = Label("USA", "UNCLASSIFIED", 0)


@pytest.mark.parametrize("kind", list(ActionKind))
def test_machines_are_well_formed(kind: ActionKind) -> None:
    machine = MACHINES[kind]
    assert machine.initial in machine.states
    assert machine.terminal <= machine.states and machine.approved <= machine.states
    for state in machine.terminal:
        assert not machine.steps_from(state), f"{state} is terminal"
    names = [(s.source, s.name) for s in machine.steps]
    assert len(names) == len(set(names)), "one step of a name per state"
    for step in machine.steps:
        assert step.parties, step
        if step.reopens:
            assert not step.advances
    # Every state is reachable from the initial one.
    seen, todo = {machine.initial}, [machine.initial]
    while todo:
        for step in machine.steps_from(todo.pop()):
            if step.target not in seen:
                seen.add(step.target)
                todo.append(step.target)
    assert seen == machine.states
    # Entering the approved states is an approver's advancing step.
    for step in machine.steps:
        if step.target in machine.approved and step.source not in machine.approved:
            assert step.parties == frozenset({APPROVER}) and step.advances


def _action(round: int = 1) -> Action:
    from datetime import UTC, datetime

    at = datetime(2026, 12, 1, tzinfo=UTC)
    return Action(
        "a",
        ActionKind.TASKER,
        "usfj",
        "p",
        U,
        "READY_FOR_SIGNATURE",
        Priority.ROUTINE,
        at,
        at,
        opr_org="jjoc",
        bilateral=True,
        round=round,
    )


@given(
    signed=st.sets(st.sampled_from(["USA", "JPN"])),
    old_round=st.booleans(),
    blocking=st.booleans(),
)
def test_blockers_of_the_approval_step(signed: set[str], old_round: bool, blocking: bool) -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 12, 1, tzinfo=UTC)
    action = _action(round=2)
    sigs = [Signature("a", n, "p", "o", at, 1 if old_round else 2) for n in signed]
    status = NonConcurStatus.OPEN if blocking else NonConcurStatus.ESCALATED
    concur = [Concurrence("a", "jso", ConcurAnswer.NON_CONCUR, "p", at, "c", status)]
    step = TASKER.step("READY_FOR_SIGNATURE", "submit")
    assert step is not None
    found = step_blockers(action, step, concur, sigs, frozenset({"USA", "JPN"}))
    allowed = not found
    assert allowed == (not blocking and not old_round and signed == {"USA", "JPN"})
    back = TASKER.step("READY_FOR_SIGNATURE", "return")
    assert back is not None and not step_blockers(action, back, concur, [], frozenset({"USA"}))


VIEW = ActionView(
    U,
    "creator",
    "usfj",
    "jjoc",
    frozenset({"jso"}),
    None,
    {"usfj": "USA", "jjoc": "JPN", "jso": "JPN"},
)


def _subject(nation: str, org: str, grants: frozenset[str] = frozenset()) -> Subject:
    return Subject(f"{nation}-{org}", nation, "S", 2, org=org, releasability_grants=grants)


def test_nobody_signs_for_the_other_nation_or_outside_their_chain() -> None:
    both = frozenset({"USA", "JPN"})
    assert may_sign(_subject("USA", "usfj"), VIEW, "USA", both)
    assert may_sign(_subject("JPN", "jjoc"), VIEW, "JPN", both)
    # A releasability grant is not a nationality; an OCR coordinates; a US officer in JJOC.
    assert not may_sign(_subject("USA", "usfj", frozenset({"JPN"})), VIEW, "JPN", both)
    assert not may_sign(_subject("JPN", "jso"), VIEW, "JPN", both)
    assert not may_sign(_subject("USA", "jjoc"), VIEW, "USA", both)
    assert not may_sign(_subject("AUS", "usfj"), VIEW, "AUS", both)
    assert OWNER in parties(Subject("creator", "JPN", "S", 2), VIEW)  # the creator, by name
