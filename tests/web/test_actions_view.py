"""The action pages' wording: dates in Zulu and JST, values as text, refusal reasons translated."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from kyodo.web import actions_view as v

AT = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


def test_dates_in_zulu_and_jst_in_each_language():
    assert v.when("en", AT) == "2026-12-08 0300Z (1200 JST)"
    assert v.when("ja", AT) == "2026年12月8日(火) 12:00 JST（0300Z）"
    # Past midnight in Tokyo: the JST day is named.
    assert v.when("en", datetime(2026, 12, 8, 16, 30, tzinfo=UTC)) == (
        "2026-12-08 1630Z (12-09 0130 JST)"
    )
    assert v.when("en", None) == ""


def test_values_as_text():
    assert v.value_text("en", "suspense", "2026-12-08T03:00:00Z") == "2026-12-08 0300Z (1200 JST)"
    assert v.value_text("en", "dates", "2027-01-07T03:00Z to 2027-01-21T03:00Z") == (
        "2027-01-07 0300Z (1200 JST) to 2027-01-21 0300Z (1200 JST)"
    )
    assert v.value_text("ja", "dates", "2027-01-07T03:00Z to 2027-01-21T03:00Z") == (
        "2027年1月7日(木) 12:00 JST（0300Z） 〜 2027年1月21日(木) 12:00 JST（0300Z）"
    )
    assert v.value_text("en", "vehicles_weapon_systems", ["NMESIS", "JLTV"]) == "NMESIS; JLTV"
    assert v.value_text("ja", "action_type", "coordinate") == "調整"
    assert v.value_text("en", "personnel", 150) == "150"
    assert v.value_text("en", "answer", None) == ""


def test_refusal_reasons_translated_with_their_parts():
    names = {"jmsdf_sf": "自衛艦隊"}.get
    assert (
        v.reason_text("ja", "the non-concurrence of jmsdf_sf is open", lambda o: names(o) or o)
        == "自衛艦隊 の不同意が未解決です"
    )
    assert v.reason_text("ja", "no step 'issue' from ISSUED") == (
        "「発簡済み」からその手順は実施できません"
    )
    assert v.reason_text("ja", "approve is taken by the action's approver") == (
        "この手順を実施するのはアクションの承認者です"
    )
    assert v.reason_text("en", "an approver of JPN has not signed") == (
        "an approver of JPN has not signed"
    )


@given(st.text(max_size=200))
def test_an_unknown_reason_is_shown_as_the_service_gave_it(reason):
    # Any text: never an error; unknown sentences come back unchanged.
    shown = v.reason_text("ja", reason)
    assert isinstance(shown, str)
    if not any(p.fullmatch(reason) for p, _ in v.REASONS):
        assert shown == reason
