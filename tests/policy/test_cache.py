"""DecisionCache: the same answers as `decide`/`may_read`, never a stale answer for a subject
whose attributes changed, and `invalidate` / `clear`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kyodo.labels import Label, SchemeRegistry, parse_marking
from kyodo.policy import Action, DecisionCache, Resource, Subject, decide, may_read


@pytest.fixture(scope="module")
def secret(registry: SchemeRegistry) -> Label:
    return parse_marking("SECRET//REL TO USA, JPN", registry)


@pytest.fixture(scope="module")
def compartmented(registry: SchemeRegistry) -> Label:
    return parse_marking("SECRET//SI//REL TO USA, JPN", registry)


@pytest.fixture
def analyst() -> Subject:
    return Subject(id="u1", nation="USA", clearance="SECRET", clearance_rank=30)


def test_cached_answers_equal_uncached_ones(
    analyst: Subject, secret: Label, compartmented: Label
) -> None:
    cache = DecisionCache()
    for label in (secret, compartmented, secret, compartmented):
        assert cache.can_read(analyst, label) == may_read(analyst, label)
        resource = Resource(label)
        assert cache.decide(analyst, Action.READ, resource) == decide(
            analyst, Action.READ, resource
        )
    assert len(cache) == 4  # two reads and two decisions, each computed once


def test_an_equal_subject_rebuilt_hits_the_cache(analyst: Subject, secret: Label) -> None:
    cache = DecisionCache()
    cache.can_read(analyst, secret)
    rebuilt = Subject(id="u1", nation="USA", clearance="SECRET", clearance_rank=30)
    assert rebuilt == analyst
    assert rebuilt is not analyst
    assert cache.can_read(rebuilt, secret)
    assert len(cache) == 1


@pytest.mark.parametrize(
    ("change", "before", "after"),
    [
        ({"clearance": "CONFIDENTIAL", "clearance_rank": 20}, True, False),
        ({"nation": "AUS"}, True, False),
        ({"nation": "AUS", "releasability_grants": frozenset({"JPN"})}, True, True),
        ({"grants": frozenset({"SI"})}, False, True),
    ],
    ids=["clearance lowered", "nation changed", "releasability granted", "compartment granted"],
)
def test_a_changed_subject_with_the_same_id_never_gets_the_old_answer(
    analyst: Subject,
    secret: Label,
    compartmented: Label,
    change: dict[str, object],
    before: bool,
    after: bool,
) -> None:
    label = compartmented if "grants" in change else secret
    changed = replace(analyst, **change)  # type: ignore[arg-type]
    assert changed.id == analyst.id
    cache = DecisionCache()
    resource = Resource(label)
    assert cache.can_read(analyst, label) is before
    assert cache.decide(analyst, Action.READ, resource).allowed is before
    # no invalidate(): the changed Subject does not equal the cached one
    assert cache.can_read(changed, label) is after
    assert cache.decide(changed, Action.READ, resource).allowed is after
    assert cache.decide(changed, Action.READ, resource) == decide(changed, Action.READ, resource)
    # and going back is not served the changed subject's answer either
    assert cache.can_read(analyst, label) is before


def test_changed_org_or_roles_change_need_to_know_and_role_decisions(
    analyst: Subject, secret: Label
) -> None:
    cache = DecisionCache()
    members = Resource(secret, audience=frozenset({"org:j2"}))
    records = Resource(secret, required_role="records_officer")
    assert not cache.decide(analyst, Action.READ, members).allowed
    assert not cache.decide(analyst, Action.READ, records).allowed
    promoted = replace(analyst, org="org:j2", roles=frozenset({"records_officer"}))
    assert cache.decide(promoted, Action.READ, members).allowed
    assert cache.decide(promoted, Action.READ, records).allowed


def test_a_reason_names_the_current_clearance(analyst: Subject, registry: SchemeRegistry) -> None:
    top = Resource(parse_marking("TOP SECRET//NOFORN", registry))
    cache = DecisionCache()
    assert cache.decide(analyst, Action.READ, top).reasons == (
        "clearance SECRET is below TOP SECRET",
    )
    lowered = replace(analyst, clearance="CONFIDENTIAL", clearance_rank=20)
    assert cache.decide(lowered, Action.READ, top).reasons == (
        "clearance CONFIDENTIAL is below TOP SECRET",
    )


def test_invalidate_forgets_one_subject_only(
    analyst: Subject, secret: Label, compartmented: Label
) -> None:
    other = Subject(id="u2", nation="JPN", clearance="GOKUHI", clearance_rank=30)
    cache = DecisionCache()
    for subject in (analyst, other):
        cache.can_read(subject, secret)
        cache.can_read(subject, compartmented)
        cache.decide(subject, Action.READ, Resource(secret))
    assert len(cache) == 6
    cache.invalidate("u1")
    assert len(cache) == 3
    cache.invalidate("u1")  # nothing left to forget is fine
    cache.invalidate("nobody")
    assert len(cache) == 3
    # after invalidation the answer is computed afresh (and is still right)
    assert cache.can_read(analyst, secret) is True
    assert len(cache) == 4
    cache.clear()
    assert len(cache) == 0
    assert cache.can_read(other, compartmented) is False


def test_invalidate_after_an_in_place_style_update(analyst: Subject, secret: Label) -> None:
    # The usual flow: attributes change in the directory, the service calls invalidate(id) and
    # the next check uses the subject built from the new attributes.
    cache = DecisionCache()
    assert cache.can_read(analyst, secret)
    cache.invalidate(analyst.id)
    revoked = replace(analyst, clearance="UNCLASSIFIED", clearance_rank=0)
    assert not cache.can_read(revoked, secret)
    assert cache.decide(revoked, Action.READ, Resource(secret)).failed == ("clearance",)


def test_a_full_table_is_emptied_not_grown(analyst: Subject, registry: SchemeRegistry) -> None:
    cache = DecisionCache(max_entries_per_subject=2)
    markings = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP SECRET", "SECRET//REL TO NONE"]
    labels = [parse_marking(m, registry) for m in markings]
    answers = [cache.can_read(analyst, label) for label in labels]
    assert answers == [True, True, True, False, False]
    assert len(cache) <= 2
    assert [cache.can_read(analyst, label) for label in labels] == answers
