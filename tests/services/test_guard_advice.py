"""The guard's suggested label, against a model: every label there is, filtered by the rules."""

from __future__ import annotations

from functools import cache
from itertools import combinations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kyodo.labels import Label, SchemeRegistry, parse_marking, render_marking
from kyodo.policy import Action, Container, Resource, decide
from kyodo.policy.decision import may_read
from kyodo.policy.subject import Subject
from kyodo.scheme_files import default_registry
from kyodo.services.guard_advice import Advice, Need, NetShape, Verdict, advise
from kyodo.services.spillage import marking_rule_ids, needs_of
from kyodo.spillage import check
from kyodo.spillage_files import default_rules

NATIONS = ("USA", "JPN", "AUS", "GBR")
CATEGORIES = ("SI", "TK", "SDS", "ATOMAL")
RANKS = (0, 10, 20, 30, 40)
REGISTRY = default_registry()


def _subsets(items: tuple[str, ...], *, empty: bool) -> list[frozenset[str]]:
    return [
        frozenset(c)
        for n in range(0 if empty else 1, len(items) + 1)
        for c in combinations(items, n)
    ]


@cache
def universe() -> tuple[Label, ...]:
    """Every valid label over the shipped schemes, these categories and these nations."""
    found: list[Label] = []
    rels: list[frozenset[str] | None] = [None, *_subsets(NATIONS, empty=False)]
    for scheme in REGISTRY.schemes.values():
        own = tuple(c for c in CATEGORIES if scheme.category(c) is not None)
        for level in scheme.levels:
            for restrictive in _subsets(own, empty=True):
                if not all(scheme.category(c).allowed_at(level.rank) for c in restrictive):  # type: ignore[union-attr]
                    continue
                for rel in rels:
                    if level.rank > 0 and rel is None:
                        continue
                    found.append(Label(scheme.policy, level.id, level.rank, restrictive, rel))
    return tuple(found)


def _valid(registry: SchemeRegistry, label: Label) -> bool:
    """The label is what its parts make in its scheme, and reads back from its marking."""
    made = registry.make_label(
        label.policy,
        label.level,
        label.restrictive,
        None if label.releasable_to is None else sorted(label.releasable_to),
        label.informative,
        default_releasability=False,
    )
    back = parse_marking(render_marking(label, registry), registry, label.policy)
    return made == label and back.equivalent(label)


def _covers(candidate: Label, label: Label, needs: list[Need]) -> bool:
    if not candidate.dominates(label):
        return False
    for need in needs:
        if candidate.rank < need.rank or not candidate.restrictive >= need.restrictive:
            return False
        if need.releasable_to is not None and (
            candidate.releasable_to is None or not candidate.releasable_to <= need.releasable_to
        ):
            return False
    return True


def _keeps(candidate: Label, partners: frozenset[str]) -> bool:
    return candidate.releasable_to is None or partners <= candidate.releasable_to


subjects = st.builds(
    lambda nation, rank, grants, extra: Subject(
        id="author",
        nation=nation,
        clearance=str(rank),
        clearance_rank=rank,
        grants=grants,
        releasability_grants=extra,
    ),
    st.sampled_from(NATIONS),
    st.sampled_from((0, 20, 30, 40)),
    st.frozensets(st.sampled_from(CATEGORIES)),
    st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(NATIONS), max_size=1)),
)
needs_lists = st.lists(
    st.builds(
        Need,
        st.sampled_from(RANKS),
        st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(CATEGORIES), max_size=1)),
        st.one_of(st.none(), st.frozensets(st.sampled_from(NATIONS), min_size=1)),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), author=subjects, needs=needs_lists)
def test_the_suggestion_is_the_lowest_valid_label_the_author_may_use_in_the_net(
    data: st.DataObject, author: Subject, needs: list[Need]
) -> None:
    everything = universe()
    # Mostly nets that can hold classified traffic, sometimes any (UNCLASSIFIED ones too).
    high = [lb for lb in everything if lb.rank >= 30 and not lb.restrictive]
    ceiling = data.draw(
        st.one_of(st.sampled_from(high), st.sampled_from(everything)), label="ceiling"
    )
    partners = data.draw(st.frozensets(st.sampled_from(NATIONS)), label="partners") | {
        author.nation
    }
    # The draft's own label already passed the policy: the author reads it, the ceiling holds it.
    usable = [lb for lb in everything if ceiling.dominates(lb) and may_read(author, lb)]
    if not usable:
        return
    label = data.draw(st.sampled_from(usable), label="label")
    net = NetShape("net", ceiling, partners)
    advice = advise(
        REGISTRY,
        label,
        needs,
        net,
        author_nation=author.nation,
        may_read=lambda lb: may_read(author, lb),
        fallback=label,
    )
    allowed = [
        lb
        for lb in everything
        if ceiling.dominates(lb) and may_read(author, lb) and _covers(lb, label, needs)
    ]
    _check_against_model(advice, allowed, author, label, needs, net)


def _check_against_model(
    advice: Advice,
    allowed: list[Label],
    author: Subject,
    label: Label,
    needs: list[Need],
    net: NetShape,
) -> None:
    event(advice.verdict.value)
    if not allowed:
        assert advice.label is None and advice.verdict is not Verdict.IN_NET
        holdable = [
            lb for lb in universe() if net.ceiling.dominates(lb) and _covers(lb, label, needs)
        ]
        expected = Verdict.NOT_FOR_AUTHOR if holdable else Verdict.ABOVE_CEILING
        assert advice.verdict is expected
        return
    suggested = advice.label
    assert suggested is not None and advice.verdict is Verdict.IN_NET
    # Valid, covers every finding, within the ceiling, readable by the author.
    assert _valid(REGISTRY, suggested)
    assert _covers(suggested, label, needs)
    assert net.ceiling.dominates(suggested)
    assert may_read(author, suggested)
    # The lowest such level.
    assert suggested.rank == min(lb.rank for lb in allowed)
    # Releasable to every nation of the net whenever some allowed label is.
    if any(_keeps(lb, net.partners) for lb in allowed if lb.rank == suggested.rank):
        assert _keeps(suggested, net.partners) and advice.keeps_partners
    # In the author's scheme when it can write it.
    own = REGISTRY.nation_scheme(author.nation)
    if own is not None and any(
        lb.policy == own.policy
        and lb.rank == suggested.rank
        and lb.releasable_to == suggested.releasable_to
        for lb in allowed
    ):
        assert suggested.policy == own.policy


# Against the engine: demo-like people and nets, real texts, and the guard's own findings.
PEOPLE = {
    "us.j3": ("USA", "TOP SECRET", ("SI", "TK")),
    "us.7flt": ("USA", "SECRET", ()),
    "jp.j3": ("JPN", "KIMITSU", ("SDS",)),
    "jp.adc": ("JPN", "HI", ()),
    "liaison.aus": ("AUS", "SECRET", ()),
}
NETS = {
    "HQ Staff Admin": ("UNCLASSIFIED", {"USA", "JPN", "AUS"}),
    "J3 Combined Operations": ("SECRET//NOFORN", {"USA", "JPN"}),
    "Bilateral Logistics": ("SECRET//REL TO USA, JPN", {"USA", "JPN"}),
}
TEXTS = (
    "Tomahawk launch from USS Shiloh at 151200ZMAR25, TOT 1230Z, grid 52RCU1234567890.",
    "Strike on target at 38.1234N 127.5678E at 0400Z tomorrow",
    "Forwarding the portion (S//NF) of the brief here.",
    "Quoting the (TS//SI) summary for the board.",
    "The coordination meeting moves to 1400 in building 714, room 2.",
    "極秘//REL TO USA, JPN の資料を共有フォルダに置きました。",
)


def _subject(username: str) -> Subject:
    nation, clearance, grants = PEOPLE[username]
    scheme = REGISTRY.nation_scheme(nation) or REGISTRY.scheme("USA")  # AUS has no scheme here
    return Subject(
        id=username,
        nation=nation,
        clearance=clearance,
        clearance_rank=scheme.level(clearance).rank,
        grants=frozenset(grants),
    )


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    username=st.sampled_from(sorted(PEOPLE)),
    net_name=st.sampled_from(sorted(NETS)),
    text=st.sampled_from(TEXTS),
)
def test_raising_the_label_to_the_suggestion_passes_the_guard_and_the_policy(
    data: st.DataObject, username: str, net_name: str, text: str
) -> None:
    rules = default_rules()
    author = _subject(username)
    ceiling_marking, partners = NETS[net_name]
    ceiling = parse_marking(ceiling_marking, REGISTRY)
    container = Container(net_name, ceiling, ceiling if ceiling.rank == 0 else _entry(ceiling))
    usable = [lb for lb in universe() if ceiling.dominates(lb) and may_read(author, lb)]
    if not usable:
        return
    label = data.draw(st.sampled_from(usable), label="label")
    result = check(text, label, rules, REGISTRY)
    if not result.refused:
        event("not refused")
        return
    marking_rules = marking_rule_ids(rules)
    needs = needs_of(result, marking_rules)
    net = NetShape(net_name, ceiling, frozenset(partners))
    advice = advise(
        REGISTRY,
        label,
        needs,
        net,
        author_nation=author.nation,
        may_read=lambda lb: may_read(author, lb),
        fallback=REGISTRY.fit(result.suggested),
    )
    event(f"{advice.verdict.value} {text[:12]}")
    if advice.label is None:
        assert advice.verdict in {Verdict.ABOVE_CEILING, Verdict.NOT_FOR_AUTHOR}
        # What the text needs is named, at least as high as every finding.
        assert all(advice.needed.rank >= f.minimum.rank for f in result.findings)
        return
    assert _valid(REGISTRY, advice.label)
    again = check(text, advice.label, rules, REGISTRY)
    assert not again.refused, (advice.label, again.findings)
    assert decide(author, Action.WRITE, Resource(advice.label, container=container)).allowed
    # The partners are kept unless the text's own marking (or the author's label) says otherwise.
    binding = [n.releasable_to for n in needs if n.releasable_to is not None]
    if label.releasable_to is not None:
        binding.append(label.releasable_to)
    if all(frozenset(partners) <= rel for rel in binding):
        assert _keeps(advice.label, frozenset(partners))


def _entry(ceiling: Label) -> Label:
    """A bilateral entry label under the ceiling (the demo's)."""
    return Label(ceiling.policy, ceiling.level, ceiling.rank, frozenset(), frozenset(NATIONS[:2]))
