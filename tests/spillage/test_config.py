"""Rules from TOML: every kind, extending the shipped rules, and clear errors for bad files."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kyodo.errors import ErrorCode, GuardRulesError
from kyodo.labels import Label, SchemeRegistry
from kyodo.spillage import (
    DetectorRule,
    MarkingRule,
    PatternRule,
    ProximityRule,
    Unit,
    check,
    rules_from_mapping,
    rules_from_toml,
)
from kyodo.spillage_files import shipped_rules_text

Parse = Callable[[str], Label]

EVERY_KIND = """
version = 1

[lists]
weapons = ['Tomahawks?', 'トマホーク']

[[rules]]
id = "marks"
kind = "marking"
name = "Markings"

[[rules]]
id = "weapons-near-launch"
kind = "proximity"
name = "Weapon near launch"
description = "why"
level = "極秘"
terms = ["$weapons"]
near = ['launch(?:es|ed)?', '発射']
within = 2
unit = "words"
unless = ['budget']

[[rules]]
id = "code-word"
kind = "pattern"
name = "Code word"
level = "SECRET"
categories = ["ORCON"]
pattern = 'blue\\s*heron'

[[rules]]
id = "grids"
kind = "detector"
name = "Grids"
level = "CONFIDENTIAL"
detector = "mgrs"
"""


def test_every_kind_parses(registry: SchemeRegistry) -> None:
    rules = rules_from_toml(EVERY_KIND, registry)
    assert rules.ids() == ("marks", "weapons-near-launch", "code-word", "grids")
    assert isinstance(rules.rule("marks"), MarkingRule)
    near = rules.rule("weapons-near-launch")
    assert isinstance(near, ProximityRule)
    assert (near.within, near.unit, near.requirement.rank) == (2, Unit.WORDS, 30)
    assert near.terms.terms == ("Tomahawks?", "トマホーク")
    assert (near.requirement.policy, near.requirement.level_id) == ("JPN", "GOKUHI")
    code = rules.rule("code-word")
    assert isinstance(code, PatternRule)
    assert code.requirement.categories == frozenset({"ORCON"})
    assert isinstance(rules.rule("grids"), DetectorRule)
    with pytest.raises(KeyError):
        rules.rule("nope")


def test_word_distance_and_unless(registry: SchemeRegistry, label: Parse) -> None:
    rules = rules_from_toml(EVERY_KIND, registry)
    u = label("UNCLASSIFIED")
    assert check("Tomahawk will launch", u, rules, registry).refused
    assert not check("Tomahawk, as we said, will launch", u, rules, registry).refused
    assert not check("Tomahawk launch budget", u, rules, registry).refused


def test_the_shipped_rules_parse_from_a_mapping(registry: SchemeRegistry) -> None:
    import tomllib

    rules = rules_from_mapping(tomllib.loads(shipped_rules_text()), registry)
    assert "marking" in rules.ids() and "weapon-action" in rules.ids()


def extend(registry: SchemeRegistry, text: str) -> tuple[str, ...]:
    return rules_from_toml(text, registry, shipped=shipped_rules_text()).ids()


def test_extending_adds_replaces_and_disables(registry: SchemeRegistry, label: Parse) -> None:
    text = """
extends = "shipped"
disable = ["mgrs-grid"]

[lists]
weapons = ['Sea Dart']

[[rules]]
id = "target-designator"
kind = "pattern"
name = "Targets (stricter)"
level = "TOP SECRET"
pattern = 'target \\w+'

[[rules]]
id = "code-word"
kind = "pattern"
name = "Code word"
level = "SECRET"
pattern = 'blue heron'
"""
    ids = extend(registry, text)
    assert "mgrs-grid" not in ids
    assert ids.index("target-designator") < ids.index("code-word") == len(ids) - 1
    rules = rules_from_toml(text, registry, shipped=shipped_rules_text())
    u = label("UNCLASSIFIED")
    result = check("Sea Dart launch", u, rules, registry)
    assert [f.rule_id for f in result.findings] == ["weapon-action"]  # the list was extended
    strict = check("target alpha", label("SECRET//REL TO USA, JPN"), rules, registry)
    assert strict.refused  # the replaced rule asks for TOP SECRET now


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules = [", "not valid TOML"),
        ("colour = 1", "unknown key"),
        ("version = 3", "version 3 is not one this Kyodo reads"),
        ('[[rules]]\nid = "x y"\nkind = "marking"\nname = "n"', "id must be"),
        ('[[rules]]\nid = "x"\nkind = "magic"\nname = "n"', "kind must be one of"),
        ('[[rules]]\nid = "x"\nkind = "marking"', "name must be a non-empty string"),
        ('[[rules]]\nid = "x"\nkind = "marking"\nname = "n"\nlevel = "SECRET"', "unknown key"),
        (
            '[[rules]]\nid = "x"\nkind = "pattern"\nname = "n"\nlevel = "SEKRIT"\npattern = "a"',
            "unknown level 'SEKRIT'",
        ),
        ('[[rules]]\nid = "x"\nkind = "pattern"\nname = "n"\nlevel = "SECRET"', "pattern must"),
        (
            '[[rules]]\nid = "x"\nkind = "pattern"\nname = "n"\nlevel = "SECRET"\npattern = "("',
            "not a valid regex",
        ),
        (
            '[[rules]]\nid = "x"\nkind = "pattern"\nname = "n"\nlevel = "S"\npattern = "a*"',
            "matches the empty string",
        ),
        (
            '[[rules]]\nid = "x"\nkind = "detector"\nname = "n"\nlevel = "S"\ndetector = "radar"',
            "unknown detector 'radar'",
        ),
        (
            '[[rules]]\nid = "x"\nkind = "proximity"\nname = "n"\nlevel = "S"\n'
            'terms = ["a"]\nnear = ["b"]',
            "within must be",
        ),
        (
            '[[rules]]\nid = "x"\nkind = "proximity"\nname = "n"\nlevel = "S"\n'
            'terms = ["a"]\nnear = ["b"]\nwithin = 3\nunit = "miles"',
            "unit must be",
        ),
        (
            '[[rules]]\nid = "x"\nkind = "proximity"\nname = "n"\nlevel = "S"\n'
            'terms = ["$weapons"]\nnear = ["b"]\nwithin = 3',
            "list '\\$weapons', which \\[lists\\] does not define",
        ),
        (
            '[[rules]]\nid = "x"\nkind = "proximity"\nname = "n"\nlevel = "S"\n'
            'terms = ["a"]\nwithin = 3',
            "near is missing",
        ),
        (
            '[[rules]]\nid = "x"\nkind = "pattern"\nname = "n"\nlevel = "C"\npattern = "a"\n'
            'categories = ["TK"]',
            "category TK is not allowed at CONFIDENTIAL",
        ),
        (
            '[[rules]]\nid = "x"\nkind = "pattern"\nname = "n"\nlevel = "S"\npattern = "a"\n'
            'categories = ["FOUO"]',
            "not a restrictive category",
        ),
        (
            '[[rules]]\nid = "x"\nkind = "marking"\nname = "n"\n'
            '[[rules]]\nid = "x"\nkind = "marking"\nname = "m"',
            "two rules have the id 'x'",
        ),
        ('extends = "shipped"', "which were not given"),
        ('extends = "/etc/other.toml"', 'extends must be "shipped"'),
        ('disable = ["marking"]', "only makes sense with extends"),
        ("rules = 3", "array of tables"),
        ("[lists]\nweapons = [1, 2]", "expected a list of strings"),
    ],
)
def test_bad_rules_say_what_is_wrong(registry: SchemeRegistry, text: str, message: str) -> None:
    with pytest.raises(GuardRulesError, match=message) as caught:
        rules_from_toml(text, registry, origin="officer.toml")
    assert caught.value.code is ErrorCode.GUARD_RULES_INVALID
    assert caught.value.message.startswith("officer.toml")


def test_disabling_an_unknown_shipped_rule_is_an_error(registry: SchemeRegistry) -> None:
    with pytest.raises(GuardRulesError, match="'sonar', not a shipped rule"):
        extend(registry, 'extends = "shipped"\ndisable = ["sonar"]')


def test_a_file_without_rules_checks_nothing(registry: SchemeRegistry, label: Parse) -> None:
    rules = rules_from_toml("version = 1", registry)
    assert len(rules) == 0
    assert not check("(S//NF) Tomahawk launch 0300Z", label("U"), rules, registry).refused
