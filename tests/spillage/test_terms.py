"""Term lists: ASCII word edges, Japanese adjacency, detector references, and bad terms."""

from __future__ import annotations

import pytest

from kyodo.errors import GuardRulesError
from kyodo.spillage.scanned import ScannedText
from kyodo.spillage.terms import compile_terms


def matches(terms: list[str], text: str) -> list[str]:
    spans = compile_terms(terms, "test").spans(ScannedText(text))
    return [text[s:e] for s, e in spans]


def test_an_ascii_term_never_matches_inside_an_ascii_word() -> None:
    assert matches(["TOT"], "total TOT tot.") == ["TOT", "tot"]
    assert matches(["SM-6"], "SM-60 and SM-6") == ["SM-6"]


def test_an_ascii_term_may_touch_japanese_text() -> None:
    assert matches(["PAC-3", "発射"], "PAC-3部隊が発射") == ["PAC-3", "発射"]
    assert matches(["SM-6"], "ＳＭ－６を発射") == ["ＳＭ－６"]


def test_terms_ignore_case_and_may_be_regexes() -> None:
    assert matches(["launch(?:es|ed)?"], "LAUNCHED, Launches") == ["LAUNCHED", "Launches"]


def test_look_arounds_exclude_idioms() -> None:
    term = "(?<!rail )strik(?:e|es)(?! a balance)"
    assert matches([term], "rail strike; strike a balance; strikes at dawn") == ["strikes"]


def test_detector_references_add_their_spans_in_order() -> None:
    assert matches(["@clock", "TOT"], "TOT 0412Z") == ["TOT", "0412Z"]


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ([], "empty"),
        ([" "], "empty term"),
        (["(unclosed"], "not a valid regex"),
        (["x?"], "matches the empty string"),
        (["@sonar"], "unknown detector '@sonar'"),
    ],
)
def test_bad_terms_are_refused_with_the_reason(terms: list[str], message: str) -> None:
    with pytest.raises(GuardRulesError, match=message):
        compile_terms(terms, "rule 'x': terms")
