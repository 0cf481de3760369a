"""The literal pre-check of terms: what a regex cannot match without, and never a wrong skip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyodo.spillage.literals import required_literals
from kyodo.spillage.scanned import ScannedText
from kyodo.spillage.terms import compile_terms


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("launch(?:es|ed)?", ("launch",)),
        ("(?:1st|2nd|first) (?:wave|strike)", ("strike", "wave")),
        (r"\d+日(?!間)", ("日",)),
        ("Tomahawks?", ("tomahawk",)),
        (r"\d{4}", None),
        (r"[HLDX]-?\d+", None),
    ],
)
def test_required_literals(term: str, expected: tuple[str, ...] | None) -> None:
    assert required_literals(term) == expected


TERMS = [
    "launch(?:es|ed)?",
    "(?<!rail )strik(?:e|es)(?! a balance)",
    "TOT",
    r"\d{1,2}日(?!間)",
    "(?:1st|2nd|first|second) (?:wave|strike)",
    "SM-?[236]",
    "発射",
    r"F/A-18[EF]?s?",
]
WORDS = ["launch", "launches", "strike", "rail ", "TOT", "total", "14日", "5日間", "second wave"]
WORDS += ["SM-6", "SM6", "発射", "F/A-18Es", " ", ", ", "x", "LAUNCHED", "1st strike", "ＳＭ－６"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=12).map("".join))
def test_the_pre_check_finds_what_one_alternation_finds(text: str) -> None:
    terms = compile_terms(TERMS, "test")
    scanned = ScannedText(text)
    assert terms.pattern is not None
    slow = [m.span() for m in terms.pattern.finditer(scanned.text) if m.end() > m.start()]
    fast = terms.spans(scanned)
    # Every place the single alternation matches is covered by the fast path's matches.
    for start, end in slow:
        assert any(s <= start and end <= e for s, e in fast), (text, slow, fast)
    for start, end in fast:
        assert any(s <= start < e or s < end <= e for s, e in slow), (text, slow, fast)


def test_a_term_without_literal_always_runs() -> None:
    terms = compile_terms([r"\d{4}", r"\d{4}Z"], "test")
    assert terms.always == frozenset({0})  # the second needs a "z"
    assert terms.spans(ScannedText("TOT 0412Z")) == [(4, 9)]
    assert terms.spans(ScannedText("at 0412")) == [(3, 7)]
