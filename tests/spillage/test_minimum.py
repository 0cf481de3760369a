"""A level rule's minimum: the message's label raised to the rule's level, categories added."""

from __future__ import annotations

from collections.abc import Callable

from kyodo.labels import Label, SchemeRegistry, render_marking
from kyodo.spillage import Requirement
from kyodo.spillage.minimum import minimum_label

Parse = Callable[[str], Label]
SECRET = Requirement("SECRET", 30, "USA", "SECRET")


def minimum(registry: SchemeRegistry, label: Label, requirement: Requirement) -> str:
    return render_marking(minimum_label(label, requirement, registry), registry)


def test_a_lower_label_is_raised_keeping_policy_and_releasability(
    registry: SchemeRegistry, label: Parse
) -> None:
    message = label("CONFIDENTIAL//REL TO USA, JPN")
    assert minimum(registry, message, SECRET) == "SECRET//REL TO USA, JPN"
    japanese = label("秘//REL TO JPN, USA")
    assert minimum(registry, japanese, SECRET) == "極秘//REL TO JPN, USA"


def test_an_unclassified_label_gets_the_schemes_default_releasability(
    registry: SchemeRegistry, label: Parse
) -> None:
    assert minimum(registry, label("UNCLASSIFIED"), SECRET) == "SECRET//NOFORN"
    assert minimum(registry, label("区分なし"), SECRET) == "極秘//日本限り"


def test_a_label_at_or_above_the_level_is_its_own_minimum(
    registry: SchemeRegistry, label: Parse
) -> None:
    message = label("TOP SECRET//REL TO USA, JPN")
    assert minimum_label(message, SECRET, registry) == message


def test_handling_notes_that_stop_at_a_level_do_not_travel_up(
    registry: SchemeRegistry, label: Parse
) -> None:
    assert minimum(registry, label("UNCLASSIFIED//FOUO"), SECRET) == "SECRET//NOFORN"


def test_the_rules_categories_are_added(registry: SchemeRegistry, label: Parse) -> None:
    orcon = Requirement("SECRET", 30, "USA", "SECRET", frozenset({"ORCON"}))
    assert minimum(registry, label("SECRET//REL TO USA, JPN"), orcon) == (
        "SECRET//ORCON/REL TO USA, JPN"
    )


def test_a_scheme_without_the_rank_uses_the_rules_scheme(
    registry: SchemeRegistry, label: Parse
) -> None:
    # USA has no level at NATO RESTRICTED's rank: the minimum is expressed in NATO's scheme.
    restricted = Requirement("NATO RESTRICTED", 10, "NATO", "NATO RESTRICTED")
    raised = minimum_label(label("UNCLASSIFIED"), restricted, registry)
    assert (raised.policy, raised.level, raised.rank) == ("NATO", "NATO RESTRICTED", 10)
    assert raised.dominates(label("UNCLASSIFIED"))
