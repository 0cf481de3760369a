"""Markings written in the text: portions and banners, above or within the message's label."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kyodo.labels import Label, SchemeRegistry, render_marking
from kyodo.spillage.markings import MarkingFinder
from kyodo.spillage.scanned import fold

Parse = Callable[[str], Label]


@pytest.fixture(scope="module")
def finder(registry: SchemeRegistry) -> MarkingFinder:
    return MarkingFinder(registry)


def markings(
    finder: MarkingFinder, registry: SchemeRegistry, label: Label, text: str
) -> list[tuple[str, str]]:
    folded = fold(text)
    return [
        (text[m.start : m.end], render_marking(m.label, registry))
        for m in finder.find(folded, label, registry)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(S//NF) USS Dewey will fire", [("(S//NF)", "SECRET//NOFORN")]),
        ("(TS//SI) intercept", [("(TS//SI)", "TOP SECRET//SI//NOFORN")]),
        ("(極) 明朝の攻撃目標一覧", [("(極)", "極秘//日本限り")]),
        ("（秘）弾薬の集積所", [("（秘）", "秘//日本限り")]),
        ("【秘】補給艦の航路", [("【秘】", "秘//日本限り")]),
        ("Notes:\n(C) the convoy route", [("(C)", "CONFIDENTIAL//NOFORN")]),
        (
            "see para 3 (S//REL TO USA, JPN) of the order",
            [("(S//REL TO USA, JPN)", "SECRET//REL TO USA, JPN")],
        ),
        ("SECRET//NOFORN pasted from SIPR: the timeline", [("SECRET//NOFORN", "SECRET//NOFORN")]),
        ("極秘//REL TO JPN, USA の資料", [("極秘//REL TO JPN, USA", "極秘//REL TO JPN, USA")]),
        ("top secret//noforn", [("top secret//noforn", "TOP SECRET//NOFORN")]),
    ],
)
def test_markings_are_found_and_parsed(
    finder: MarkingFinder, registry: SchemeRegistry, label: Parse, text: str, expected: object
) -> None:
    assert markings(finder, registry, label("UNCLASSIFIED"), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Choose option (A), (B) or (C) for lunch.",  # a lettered list
        "Options:\n(A) pizza\n(B) sushi\n(C) curry",
        "Submit the name(s) of attendees",  # a plural, not a portion
        "the package arrives (s) tomorrow",  # lower case is not a portion
        "Bring snacks (C) if you can",  # mid-sentence single token
        "(see attached)",
        "【重要】会議の変更",
        "https://example.mil/secret//path",
        "The secret to good coffee",
    ],
)
def test_lookalikes_are_not_markings(
    finder: MarkingFinder, registry: SchemeRegistry, label: Parse, text: str
) -> None:
    assert markings(finder, registry, label("UNCLASSIFIED"), text) == []


def test_short_rel_takes_the_messages_releasability(
    finder: MarkingFinder, registry: SchemeRegistry, label: Parse
) -> None:
    message = label("CONFIDENTIAL//REL TO USA, JPN")
    assert markings(finder, registry, message, "(S//REL) the plan") == [
        ("(S//REL)", "SECRET//REL TO USA, JPN")
    ]
