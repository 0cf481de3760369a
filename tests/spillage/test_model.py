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
