"""Time, designator and unit detectors: the forms staff write, lookalikes, and never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyodo.spillage import find_clock_times, find_designators, find_dtgs, find_units
from kyodo.spillage.detectors import DETECTORS


def found(detector: object, text: str) -> list[str]:
    assert callable(detector)
    return [text[s:e] for s, e in detector(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TIME NOW (1144ET): weather", ["1144ET"]),
        ("launches 1345L", ["1345L"]),
        ("TOT 1620Z", ["1620Z"]),
        ("0355 local", ["0355 local"]),
        ("at 2:30pm and 9 am", ["2:30pm", "9 am"]),
        ("午後2時に集合、午前5時半", ["午後2時", "午前5時半"]),
        ("発射は〇〇時〇〇分", ["〇〇時〇〇分"]),
        ("０６００に開始", ["０６００"]),  # full-width digits are folded by the engine, not here
    ],
)
def test_times_in_the_forms_staff_use(text: str, expected: list[str]) -> None:
    from kyodo.spillage.scanned import fold

    assert found(find_clock_times, fold(text)) == [fold(e) for e in expected]


@pytest.mark.parametrize(
    "text",
    ["the Jan 2024 strikes", "in 1986 the raid", "2018年のシリア攻撃", "since 2003", "DDG-1000"],
)
def test_years_and_hull_numbers_are_not_times(text: str) -> None:
    assert found(find_clock_times, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("F/A-18Es with JSOW", ["F/A-18Es"]),
        ("EA-18Gs go first", ["EA-18Gs"]),
        ("B-1s out of Guam, B-2s later", ["B-1s", "B-2s"]),
        ("MQ-9s overhead", ["MQ-9s"]),
        ("CVN-73 and DDG 1000", ["CVN-73", "DDG 1000"]),
        ("SM-6 and PAC-3 MSE rounds", ["SM-6", "PAC-3 MSE"]),
        ("12式地対艦誘導弾を展開", ["12式地対艦誘導弾"]),
        ("03式中SAMの発射機", ["03式中SAM"]),
        ("護衛艦「さざなみ」が出港", ["護衛艦「さざなみ」"]),
        ("Type 12 SSM shoot", ["Type 12 SSM"]),
    ],
)
def test_weapon_and_platform_designators(text: str, expected: list[str]) -> None:
    assert found(find_designators, text) == expected


@pytest.mark.parametrize(
    "text", ["DD-214 for my VA claim", "SF-86 due", "COVID-19 shots", "I-95 traffic", "E-7 board"]
)
def test_forms_and_pay_grades_are_not_designators(text: str) -> None:
    assert found(find_designators, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3rd MLR fwd", ["3rd MLR"]),
        ("3d MLR PERSTAT", ["3d MLR"]),
        ("1-1 ADA moves", ["1-1 ADA"]),
        ("B Battery and 2/5 Marines", ["B Battery", "2/5 Marines"]),
        ("CTF-151 reports", ["CTF-151"]),
        ("第15旅団の先遣隊", ["第15旅団"]),
        ("第5高射特科群", ["第5高射特科群"]),
    ],
)
def test_unit_designators(text: str, expected: list[str]) -> None:
    assert found(find_units, text) == expected


PIECES = [
    *"0123456789 :/-.,'\"°′″NSEWZLJHTFAMBCDGPQ時分式第「」〇",
    *["午前", "午後", "旅団", "誘導弾", "護衛艦", "hrs", "ET", "local", "MLR", "ADA", "Battery"],
    *["MAR", "DDG", "SM", "PAC", "F/A", "th", "Type "],
]
STAFF_TEXT = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(STAFF_TEXT | st.text(max_size=80))
def test_detectors_never_raise_and_spans_lie_inside_the_text(text: str) -> None:
    for name, detector in DETECTORS.items():
        spans = list(detector(text))
        for start, end in spans:
            assert 0 <= start < end <= len(text), (name, text, start, end)
        assert spans == sorted(spans), name
    for start, end in find_dtgs(text):
        assert text[start:end].strip() == text[start:end]
