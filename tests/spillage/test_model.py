"""The learned model: pure-Python scoring of JSON weights, its rule, and clear errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyodo.errors import GuardRulesError
from kyodo.labels import Label, SchemeRegistry
from kyodo.spillage import RuleSet, check, rules_from_toml
from kyodo.spillage.model import (
    MODEL_FORMAT,
    WordModel,
    model_from_mapping,
    model_to_mapping,
    text_features,
)
from kyodo.spillage.rules import ModelRule
from kyodo.spillage_files import default_rules, shipped_model

Parse = Callable[[str], Label]

TOML = """
version = 2
[signals.time]
name = "a time"
terms = ['@clock']
[[rules]]
id = "timed"
kind = "combination"
name = "Timed launch"
level = "SECRET"
needs = ["time"]
strength = 1
[[rules]]
id = "learned"
kind = "model"
name = "Learned"
level = "SECRET"
model = "tiny"
explain = "learned: {text}"
"""

TINY = WordModel(
    -3.0, {"w:launch": 2.5, "w:tonight": 1.5, "b:the package": 1.0, "s:time": 2.0}, 0.8
)


@pytest.fixture(scope="module")
def tiny_rules(registry: SchemeRegistry) -> RuleSet:
    return rules_from_toml(
        TOML.replace("strength = 1", "strength = 9"), registry, models={"tiny": TINY}
    )


def test_features_are_readable_words_pairs_and_japanese_pairs() -> None:
    found = [name for name, _ in text_features("launch the package at 1345 発射準備")]
    assert found[:4] == ["w:launch", "w:the", "b:launch the", "w:package"]
    assert "w:0" in found  # digits fold to 0
    assert "j:発射" in found and "j:射準" in found


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_feature_spans_lie_inside_the_text(text: str) -> None:
    lowered = text.lower()
    for _, (start, end) in text_features(lowered):
        assert 0 <= start < end <= len(lowered)


def test_a_model_finding_names_the_words_that_weighed_most(
    tiny_rules: RuleSet, registry: SchemeRegistry, label: Parse
) -> None:
    result = check("we launch the package tonight", label("UNCLASSIFIED"), tiny_rules, registry)
    assert result.refused
    (finding,) = result.findings
    assert finding.rule_id == "learned"
    assert finding.explanation == "learned: 'launch … tonight … the package'"
    assert not check("we eat tonight", label("UNCLASSIFIED"), tiny_rules, registry).refused


def test_the_model_is_not_consulted_when_the_rules_already_refuse(
    registry: SchemeRegistry, label: Parse
) -> None:
    rules = rules_from_toml(TOML, registry, models={"tiny": TINY})
    result = check("launch tonight at 1345", label("UNCLASSIFIED"), rules, registry)
    assert [f.rule_id for f in result.findings] == ["timed"]


def test_json_round_trip_and_errors() -> None:
    data = model_to_mapping(TINY)
    assert data["format"] == MODEL_FORMAT
    assert model_from_mapping(data, "m") == TINY
    for bad, message in [
        ({**data, "format": "pickle"}, "format must be"),
        ({**data, "weights": {"w:x": "heavy"}}, "weights must map features to numbers"),
        ({**data, "threshold": 1.5}, "threshold must be between 0 and 1"),
        ({**data, "bias": None}, "bias and threshold must be numbers"),
    ]:
        with pytest.raises(GuardRulesError, match=message):
            model_from_mapping(bad, "m")


def test_a_rule_naming_a_missing_model_is_an_error(registry: SchemeRegistry) -> None:
    with pytest.raises(GuardRulesError, match="model 'tiny' is not available"):
        rules_from_toml(TOML, registry, models={})
    # Read without any model store (models=None), the model rule is left out.
    assert rules_from_toml(TOML, registry).ids() == ("timed",)
    with pytest.raises(GuardRulesError, match="need version = 2"):
        rules_from_toml(
            TOML.replace("version = 2", "version = 1").split('[[rules]]\nid = "timed"')[0]
            + '[[rules]]\nid = "m"\nkind = "model"\nname = "m"\nlevel = "SECRET"\nmodel = "x"\n',
            registry,
        )


def test_the_package_ships_a_model_and_its_rule() -> None:
    model = shipped_model()
    assert model is not None and 0 < model.threshold < 1 and len(model.weights) > 100
    assert "sealed" not in model.trained_on
    rule = default_rules().rule("learned-wording")
    assert isinstance(rule, ModelRule) and rule.model is model


@settings(max_examples=150, deadline=None)
@given(
    st.text(max_size=100) | st.sampled_from(["we launch the package tonight", "発射準備 12式 0530"])
)
def test_the_fast_probability_is_the_full_score(text: str) -> None:
    from kyodo.spillage.scanned import ScannedText
    from kyodo.spillage.signals import Evidence

    rules = default_rules()
    model = shipped_model()
    assert model is not None
    evidence = Evidence(ScannedText(text), rules.signals, rules.contexts)
    assert model.probability(evidence) == pytest.approx(model.score(evidence)[0])


SUPPORTED = """
version = 2
[signals.time]
name = "a time"
terms = ['@clock']
[signals.ship]
name = "a ship"
terms = ['ships?']
[[rules]]
id = "supported"
kind = "model"
name = "Supported"
level = "SECRET"
model = "tiny"
threshold = 0.5
needs = ["time", "ship"]
at_least = 2
strength = 2
"""


def test_a_model_rule_with_needs_fires_only_with_that_rule_evidence(
    registry: SchemeRegistry, label: Parse
) -> None:
    rules = rules_from_toml(SUPPORTED, registry, models={"tiny": TINY})
    rule = rules.rule("supported")
    assert isinstance(rule, ModelRule) and rule.needs == (("time",), ("ship",))
    unclassified = label("UNCLASSIFIED")
    # The same wording: refused only when a time and a ship are both there.
    assert check("launch tonight, ships at 1345", unclassified, rules, registry).refused
    assert not check("launch tonight at 1345", unclassified, rules, registry).refused
    with pytest.raises(GuardRulesError, match="at_least must be a whole number from 1 to"):
        rules_from_toml(
            SUPPORTED.replace("at_least = 2", "at_least = 3"), registry, models={"tiny": TINY}
        )
    with pytest.raises(GuardRulesError, match="which \\[signals\\] does not define"):
        rules_from_toml(SUPPORTED.replace('"ship"]', '"boat"]'), registry, models={"tiny": TINY})


def test_the_package_ships_the_supported_model_rule() -> None:
    rule = default_rules().rule("learned-wording-supported")
    assert isinstance(rule, ModelRule) and rule.model is shipped_model()
    assert rule.needs and rule.at_least == 2 and rule.threshold is not None


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=300)
    | st.sampled_from(
        [
            "TIME NOW 0544: on station, a GO for window 2",
            "明朝6時から部隊は与那国へ前進、艦は配置に就いた",
            "Source CATFISH reports 3 deliveries at the fuel farm (12-15th)",
        ]
    )
)
def test_the_shipped_guard_never_raises_on_any_text(text: str) -> None:
    from kyodo.labels import parse_marking
    from kyodo.scheme_files import default_registry

    registry = default_registry()
    result = check(text, parse_marking("UNCLASSIFIED", registry), default_rules(), registry)
    for finding in result.findings:
        assert 0 <= finding.start <= finding.end <= len(text)
        assert finding.explanation and finding.explanation_ja
