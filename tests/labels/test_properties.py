"""Property tests of the label lattice (DESIGN §2) over labels of the USA, JPN and NATO schemes.

Equality versus equivalence. A label carries its policy, its level's name and informative
notes besides its security meaning (rank, restrictive categories, releasability). Dominance
only sees the meaning, so antisymmetry — A ≥ B and B ≥ A — gives `A.equivalent(B)`: across
policies SECRET//REL TO USA, JPN and 極秘//REL TO JPN, USA dominate each other but are not
equal. Within one policy, levels have distinct ranks, so two mutually dominating labels whose
informative categories agree are equal (==). Join is exactly (==) commutative, associative
and idempotent, across policies too: the result takes the policy of the higher-ranked operand,
on a tie the one that sorts first.
"""

from __future__ import annotations

from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from kyodo.errors import NoEquivalentError
from kyodo.labels import (
    CategoryKind,
    Label,
    join_all,
    label_from_json,
    label_from_xml,
    label_to_dict,
    label_to_xml,
    parse_marking,
    render_marking,
)
from kyodo.policy import Action, Resource, Subject, decide, may_read

from tests.labels.strategies import POLICIES, REGISTRY, labels, subjects

FAST = settings(max_examples=150, deadline=None)


# --- join ---------------------------------------------------------------------------------------


@FAST
@given(labels(), labels())
def test_join_is_commutative(a: Label, b: Label) -> None:
    assert a.join(b) == b.join(a)
    assert a | b == b | a


@FAST
@given(labels(), labels(), labels())
def test_join_is_associative(a: Label, b: Label, c: Label) -> None:
    assert (a | b) | c == a | (b | c)
    assert join_all(a, b, c) == a | (b | c)


@FAST
@given(labels())
def test_join_is_idempotent(a: Label) -> None:
    assert a | a == a


@FAST
@given(labels(), labels())
def test_join_is_an_upper_bound(a: Label, b: Label) -> None:
    joined = a | b
    assert joined.dominates(a)
    assert joined.dominates(b)
    assert joined >= a
    assert a <= joined
    assert joined.rank == max(a.rank, b.rank)
    assert joined.restrictive == a.restrictive | b.restrictive


@FAST
@given(labels(), labels(), labels())
def test_join_is_the_least_upper_bound(a: Label, b: Label, c: Label) -> None:
    # Any upper bound of A and B dominates A ⊔ B; A ⊔ B ⊔ C is always one, a random C sometimes.
    for bound in (a | b | c, c):
        if bound.dominates(a) and bound.dominates(b):
            assert bound.dominates(a | b)


@FAST
@given(labels(), labels())
def test_join_with_a_dominated_label_is_equivalent(a: Label, b: Label) -> None:
    joined = a | b
    if a.dominates(b):
        assert joined.equivalent(a)
        # the releasability and compartments of the dominating label are kept
        assert joined.releasable_to == a.releasable_to


# --- dominance ----------------------------------------------------------------------------------


@FAST
@given(labels())
def test_dominance_is_reflexive(a: Label) -> None:
    assert a.dominates(a)
    assert a.equivalent(a)


@FAST
@given(labels(), labels())
@example(
    parse_marking("SECRET//REL TO USA, JPN", REGISTRY),
    parse_marking("極秘//提供先 JPN、USA", REGISTRY),
)
@example(
    parse_marking("SECRET//NOFORN", REGISTRY),
    parse_marking("SECRET//NOFORN//EXERCISE", REGISTRY),
)
def test_dominance_is_antisymmetric_up_to_equivalence(a: Label, b: Label) -> None:
    if a.dominates(b) and b.dominates(a):
        assert a.equivalent(b)
        if a.policy == b.policy and a.informative == b.informative:
            assert a == b
            assert hash(a) == hash(b)
    else:
        assert not a.equivalent(b)


@st.composite
def equivalent_pairs(draw: st.DrawFn) -> tuple[Label, Label]:
    """A label and a relabelling of its meaning in a policy drawn independently."""
    a = draw(labels())
    policy = draw(st.sampled_from(POLICIES))
    scheme = REGISTRY.scheme(policy)
    level = scheme.level_at_rank(a.rank)
    if level is None or any(scheme.category(c) is None for c in a.restrictive):
        # no equivalent in that scheme: fall back to the same policy, other informative notes
        scheme, level = REGISTRY.scheme(a.policy), REGISTRY.scheme(a.policy).level(a.level)
    informative = [
        c.id
        for c in scheme.categories
        if c.kind is CategoryKind.INFORMATIVE and c.allowed_at(a.rank)
    ]
    notes = draw(st.frozensets(st.sampled_from(informative))) if informative else frozenset()
    b = REGISTRY.make_label(
        scheme.policy,
        level.id,
        a.restrictive,
        a.releasable_to,
        notes,
        default_releasability=False,
    )
    return a, b


@FAST
@given(equivalent_pairs())
def test_mutually_dominating_labels_are_equivalent(pair: tuple[Label, Label]) -> None:
    a, b = pair
    note(f"{a} / {b}")
    assert a.dominates(b)
    assert b.dominates(a)
    assert a.equivalent(b)
    assert (a == b) == (a.policy == b.policy and a.informative == b.informative)


@FAST
@given(labels(), labels(), labels())
def test_dominance_is_transitive(a: Label, b: Label, c: Label) -> None:
    # A random triple is rarely a chain, so also check the chain A ⊔ B ⊔ C ≥ A ⊔ B ≥ A.
    if a.dominates(b) and b.dominates(c):
        assert a.dominates(c)
    top, middle = a | b | c, a | b
    assert top.dominates(middle)
    assert middle.dominates(a)
    assert top.dominates(a)


# --- reading ------------------------------------------------------------------------------------


@FAST
@given(subjects(), labels(), labels())
def test_read_allowed_at_l_is_allowed_for_what_l_dominates(
    subject: Subject, a: Label, b: Label
) -> None:
    # A ⊔ B dominates A and B, so reading it implies reading each; for a random pair too.
    if may_read(subject, a | b):
        assert may_read(subject, a)
        assert may_read(subject, b)
    if a.dominates(b) and may_read(subject, a):
        assert may_read(subject, b)


@FAST
@given(subjects(), labels())
def test_decide_read_agrees_with_may_read(subject: Subject, label: Label) -> None:
    decision = decide(subject, Action.READ, Resource(label))
    assert decision.allowed == may_read(subject, label)
    assert bool(decision.reasons) == (not decision.allowed)
    assert len(decision.reasons) == len(decision.failed)


# --- markings, JSON and XML for every generated label -------------------------------------------


@FAST
@given(labels())
def test_banner_round_trip(label: Label) -> None:
    banner = render_marking(label, REGISTRY)
    note(banner)
    assert parse_marking(banner, REGISTRY) == label
    assert render_marking(parse_marking(banner, REGISTRY), REGISTRY) == banner


@FAST
@given(labels())
def test_portion_round_trip(label: Label) -> None:
    portion = render_marking(label, REGISTRY, portion=True)
    note(portion)
    assert parse_marking(portion, REGISTRY, label.policy) == label
    assert parse_marking(portion, REGISTRY).equivalent(label)


@FAST
@given(labels(), st.sampled_from(POLICIES))
def test_render_in_another_scheme_is_equivalent_or_refused(label: Label, target: str) -> None:
    try:
        rendered = render_marking(label, REGISTRY, scheme=target)
    except NoEquivalentError:
        scheme = REGISTRY.scheme(target)
        assert scheme.level_at_rank(label.rank) is None or any(
            scheme.category(c) is None for c in label.restrictive | label.informative
        )
        return
    note(rendered)
    assert parse_marking(rendered, REGISTRY, target).equivalent(label)


@FAST
@given(labels())
def test_json_and_xml_round_trip(label: Label) -> None:
    as_dict = label_to_dict(label, REGISTRY)
    assert label_from_json(as_dict, REGISTRY) == label
    assert label_from_json(as_dict["marking"], REGISTRY) == label
    assert label_from_xml(label_to_xml(label, REGISTRY), REGISTRY) == label


# --- fit: a join made writable ------------------------------------------------------------------


@FAST
@given(labels(), labels(), subjects())
def test_fit_keeps_every_decision_and_makes_the_join_writable(
    a: Label, b: Label, reader: Subject
) -> None:
    joined = a.join(b)
    fitted = REGISTRY.fit(joined)
    assert fitted.equivalent(joined)
    assert may_read(reader, fitted) == may_read(reader, joined)
    writable = [
        policy
        for policy, scheme in REGISTRY.schemes.items()
        if any(lv.rank == joined.rank for lv in scheme.levels)
        and all(
            (cat := scheme.category(c)) is not None
            and cat.kind is CategoryKind.RESTRICTIVE
            and cat.allowed_at(joined.rank)
            for c in joined.restrictive
        )
    ]
    note(f"joined={joined} fitted={fitted} writable in {writable}")
    if writable:
        banner = render_marking(fitted, REGISTRY)
        assert parse_marking(banner, REGISTRY).equivalent(fitted)
