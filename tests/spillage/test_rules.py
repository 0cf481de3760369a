"""Rule kinds on their own: pattern, detector and proximity (nearest pair, overlap, unless)."""

from __future__ import annotations

import re

from kyodo.spillage import DetectorRule, PatternRule, ProximityRule, Requirement, RuleSet, Unit
from kyodo.spillage.scanned import ScannedText
from kyodo.spillage.terms import compile_terms

SECRET = Requirement("SECRET", 30, "USA", "SECRET")


def proximity(
    terms: list[str],
    near: list[str],
    within: int,
    unit: Unit = Unit.CHARS,
    unless: list[str] | None = None,
) -> ProximityRule:
    return ProximityRule(
        "p",
        "proximity",
        "",
        SECRET,
        compile_terms(terms, "terms"),
        compile_terms(near, "near"),
        within,
        unit,
        compile_terms(unless, "unless") if unless else None,
    )


def hits(rule: ProximityRule | PatternRule | DetectorRule, text: str) -> list[str]:
    return [text[h.start : h.end] for h in rule.hits(ScannedText(text))]


def test_each_term_pairs_with_its_nearest_partner_on_either_side() -> None:
    rule = proximity(["launch"], ["@clock"], 20)
    assert hits(rule, "0300 then launch at 0330Z") == ["launch at 0330Z"]
    assert hits(rule, "at 0330Z launch") == ["0330Z launch"]


def test_distance_is_the_gap_between_the_terms() -> None:
    rule = proximity(["launch"], ["@clock"], 4)
    assert hits(rule, "launch at 0330Z") == ["launch at 0330Z"]  # gap " at " = 4
    assert hits(rule, "launch, at 0330Z") == []


def test_words_count_the_words_between() -> None:
    rule = proximity(["launch"], ["@clock"], 1, Unit.WORDS)
    assert hits(rule, "launch at 0330Z") == ["launch at 0330Z"]
    assert hits(rule, "launch is at 0330Z") == []


def test_overlapping_terms_are_not_a_pair() -> None:
    rule = proximity(["strike package"], ["strike"], 10)
    assert hits(rule, "strike package") == []


def test_unless_vetoes_a_pair_with_harmless_context_nearby() -> None:
    rule = proximity(["launch(?:ed)?"], ["@clock"], 20, unless=["press release"])
    assert hits(rule, "Press release: they launched at 0612") == []
    assert hits(rule, "launched at 0612") == ["launched at 0612"]


def test_explanations_quote_the_original_words() -> None:
    rule = proximity(["SM-6"], ["発射"], 5)
    (hit,) = rule.hits(ScannedText("ＳＭ－６を発射"))
    assert hit.explanation == "'ＳＭ－６' is 1 character from '発射' (at most 5)"
    assert hit.explanation_ja == "「ＳＭ－６」と「発射」の間は1文字です(上限 5)"


def test_pattern_and_detector_rules() -> None:
    pattern = PatternRule("t", "targets", "", SECRET, re.compile(r"TGT [A-Z]{2}\d{4}", re.I))
    assert hits(pattern, "restrike tgt aa0077 now") == ["tgt aa0077"]
    grids = DetectorRule("g", "grids", "", SECRET, "mgrs")
    assert hits(grids, "at 52S CB 41200 88300") == ["52S CB 41200 88300"]


def test_a_rule_set_keeps_file_order() -> None:
    first = DetectorRule("b", "b", "", SECRET, "dtg")
    second = DetectorRule("a", "a", "", SECRET, "clock")
    rules = RuleSet((first, second))
    assert (rules.ids(), len(rules), rules.rule("a")) == (("b", "a"), 2, second)
