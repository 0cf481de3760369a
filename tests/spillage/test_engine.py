"""`check`: the shipped rules in English and Japanese, the suggestion and the refusal."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kyodo.labels import Label, SchemeRegistry, render_marking
from kyodo.scheme_files import default_registry
from kyodo.spillage import GuardResult, RuleSet, check
from kyodo.spillage_files import default_rules

Parse = Callable[[str], Label]
Check = Callable[[str, str], GuardResult]


@pytest.fixture(scope="module")
def guard(registry: SchemeRegistry, rules: RuleSet, label: Parse) -> Check:
    def run(text: str, marking: str) -> GuardResult:
        return check(text, label(marking), rules, registry)

    return run


def rule_ids(result: GuardResult) -> set[str]:
    return {f.rule_id for f in result.findings if f.above_label}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Tomahawk launch from USS Dewey confirmed.", "weapon-action"),
        ("PAC-3 MSE intercepted two inbound missiles", "weapon-action"),
        ("トマホークの発射準備完了", "weapon-action"),
        ("12式地対艦誘導弾、射撃開始", "weapon-action"),
        ("ＳＭ－６を発射", "weapon-action"),
        ("TOT 0412Z for the second wave", "strike-timing"),
        ("Launch window opens 160300ZAPR25", "strike-timing"),
        ("H-hour is 0430Z", "strike-timing"),
        ("攻撃開始は明朝4時30分", "strike-timing"),
        ("151200ZMAR25に打撃を開始する", "strike-timing"),
        ("Engage target AB1023", "target-designator"),
        ("目標番号AA0077", "target-designator"),
        ("BE 0532-00417", "target-designator"),
        ("12 new DMPIs for tomorrow", "target-designator"),
        ("MLR elements move to 26.4512N 127.9901E tonight", "unit-position"),
        ("第15旅団は北緯26.2104度 東経127.6811度へ移動中", "unit-position"),
        ("the radar at 51R UG 12 34", "unit-position"),
        ("(S//NF) the timeline", "marking"),
        ("【秘】補給艦の航路", "marking"),
    ],
)
def test_operational_text_under_a_low_label_is_refused(guard: Check, text: str, rule: str) -> None:
    for marking in ("UNCLASSIFIED", "区分なし"):
        result = guard(text, marking)
        assert result.refused, (text, marking)
        assert rule in rule_ids(result)


def test_a_bare_grid_needs_confidential_only(guard: Check, registry: SchemeRegistry) -> None:
    assert guard("Meet at 54S VE 12345 67890", "UNCLASSIFIED").refused
    result = guard("Meet at 54S VE 12345 67890", "CONFIDENTIAL//REL TO USA, JPN")
    assert not result.refused
    assert [f.rule_id for f in result.findings] == ["mgrs-grid"]
    assert not result.findings[0].above_label


@pytest.mark.parametrize(
    "text",
    [
        "J3 sync meeting moved to 1400 in the main conference room.",
        "FY26 budget: PAC-3 MSE production contract award expected in Q3.",
        "We need to strike a balance between leave and manning; meeting at 1500.",
        "Public notice: the new cafeteria is at 35.5123N 139.3901E. Open 0700-1900.",
        "The rail strike on Friday may delay the 0715 shuttle bus.",
        "Fire drill at 1030 today, evacuate to the north parking lot.",
        "Please launch the new SharePoint site at 0900 Monday.",
        "MOD press release: North Korea launched a ballistic missile at 0612.",
        "Typhoon 7 is forecast at 26.2N 127.7E at 0900 tomorrow.",
        "HIMARS static display at the Friendship Festival, 1000-1600.",
        "Ref: msg 151200ZMAR25, the conference room booking is confirmed.",
        "(U) Staff meeting notes: parking and awards.",
        "Choose option (A), (B) or (C) for the holiday party menu.",
        "サイバー攻撃対策の研修は14時から講堂で。",
        "令和7年度予算案：12式地対艦誘導弾能力向上型の量産に関する契約を計上。",
        "台風7号は明日9時に北緯26.2度、東経127.7度付近に達する見込み。",
        "明日の射撃訓練は8時から演習場で。",
        "防衛省発表：北朝鮮が6時12分に弾道ミサイルを発射。",
        "",
    ],
)
def test_ordinary_traffic_passes(guard: Check, text: str) -> None:
    for marking in ("UNCLASSIFIED", "区分なし"):
        assert not guard(text, marking).refused, (text, marking)


def test_operational_text_under_a_high_enough_label_passes(guard: Check) -> None:
    result = guard("Tomahawk launch at 0330Z, TOT 0412Z", "SECRET//REL TO USA, JPN")
    assert not result.refused
    assert result.findings and not any(f.above_label for f in result.findings)


def test_a_secret_rule_refuses_a_confidential_label(guard: Check, registry: SchemeRegistry) -> None:
    result = guard("TOT 0412Z", "CONFIDENTIAL//REL TO USA, JPN")
    assert result.refused
    assert render_marking(result.suggested, registry) == "SECRET//REL TO USA, JPN"
    result = guard("射撃開始は0530", "秘//REL TO JPN, USA")
    assert render_marking(result.suggested, registry) == "極秘//REL TO JPN, USA"


def test_a_portion_narrower_than_the_label_is_refused(
    guard: Check, registry: SchemeRegistry
) -> None:
    result = guard("(S//NF) the plan is attached", "SECRET//REL TO USA, JPN")
    assert result.refused  # NOFORN is narrower than REL TO USA, JPN, at the same level
    assert render_marking(result.suggested, registry) == "SECRET//NOFORN"
    assert not guard("(S//REL TO USA, JPN) the plan", "SECRET//REL TO USA, JPN").refused
    assert not guard("(S//REL) the plan", "SECRET//REL TO USA, JPN").refused
    assert not guard("(C//REL TO USA, JPN) minutes", "SECRET//REL TO USA, JPN").refused
    assert guard("(TS//REL TO USA, JPN) the plan", "SECRET//REL TO USA, JPN").refused
    assert guard("(極) 計画", "秘//REL TO JPN, USA").refused
    assert not guard("(秘//REL TO JPN, USA) 計画", "極秘//REL TO JPN, USA").refused


def test_the_suggestion_joins_every_finding(guard: Check, registry: SchemeRegistry) -> None:
    result = guard("(TS//SI) and (S//NF); TOT 0412Z", "CONFIDENTIAL//REL TO USA, JPN")
    assert render_marking(result.suggested, registry) == "TOP SECRET//SI//NOFORN"
    assert {f.rule_id for f in result.findings} == {"marking", "strike-timing"}


def test_findings_point_at_the_words_in_the_original_text(guard: Check) -> None:
    text = "Note: ＳＭ－６を２３１０Ｚに発射"
    result = guard(text, "区分なし")
    for finding in result.findings:
        assert text[finding.start : finding.end] == finding.text
    assert [f.text for f in result.findings if f.rule_id == "weapon-action"] == [
        "ＳＭ－６を２３１０Ｚに発射"
    ]


def test_overlapping_hits_of_one_rule_are_one_finding(guard: Check) -> None:
    result = guard("Tomahawk launch from USS Dewey", "UNCLASSIFIED")
    assert [f.text for f in result.findings if f.rule_id == "weapon-action"] == ["Tomahawk launch"]


def test_the_result_serialises_to_json(guard: Check, registry: SchemeRegistry) -> None:
    result = guard("(S//NF) TLAM TOT 0412Z", "CONFIDENTIAL//REL TO USA, JPN")
    data = json.loads(json.dumps(result.as_dict(registry)))
    assert data["label"] == "CONFIDENTIAL//REL TO USA, JPN"
    assert data["suggested"] == "SECRET//NOFORN"
    assert data["refused"] is True
    assert {tuple(sorted(f)) for f in data["findings"]} == {
        (
            "above_label",
            "end",
            "explanation",
            "explanation_ja",
            "minimum",
            "rule_id",
            "rule_name",
            "rule_name_ja",
            "start",
            "text",
        )
    }
    marking = next(f for f in data["findings"] if f["rule_id"] == "marking")
    assert (marking["text"], marking["minimum"], marking["start"]) == (
        "(S//NF)",
        "SECRET//NOFORN",
        0,
    )


# --- properties ----------------------------------------------------------------------------------

REGISTRY = default_registry()
RULES = default_rules()
MARKINGS = (
    "UNCLASSIFIED",
    "UNCLASSIFIED//FOUO",
    "CONFIDENTIAL//REL TO USA, JPN",
    "SECRET//NOFORN",
    "SECRET//REL TO USA, JPN",
    "TOP SECRET//SI//REL TO USA, JPN",
    "区分なし",
    "秘//REL TO JPN, USA",
    "極秘//特定秘密//日本限り",
    "NATO RESTRICTED",
)
FRAGMENTS = (
    "Tomahawk",
    "launch",
    "0330Z",
    "151200ZMAR25",
    "TOT",
    "(S//NF)",
    "(C)",
    "【秘】",
    "（極）",
    "SECRET//",
    "52S CB 41200 88300",
    "26.3341N 127.8012E",
    "北緯26度21分 東経127度48分",
    "発射",
    "攻撃",
    "目標番号AB1023",
    "target",
    "(",
    ")",
    "//",
    "REL TO",
    "、",
    " ",
    "\n",
)
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=24).map(
    "".join
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=400), texts), marking=st.sampled_from(MARKINGS))
def test_never_crashes_and_the_suggestion_dominates_the_label(text: str, marking: str) -> None:
    from kyodo.labels import parse_marking

    label = parse_marking(marking, REGISTRY)
    result = check(text, label, RULES, REGISTRY)
    assert result.suggested.dominates(label)
    assert result.refused == (not label.dominates(result.suggested))
    assert result.refused == any(f.above_label for f in result.findings)
    for finding in result.findings:
        assert result.suggested.dominates(finding.minimum)
        assert text[finding.start : finding.end] == finding.text
    json.dumps(result.as_dict(REGISTRY), ensure_ascii=False)


def test_findings_speak_japanese_to_japanese_readers(
    guard: Check, registry: SchemeRegistry
) -> None:
    result = guard("トマホーク 0412Z 発射", "UNCLASSIFIED")
    data = result.as_dict(registry)
    by_rule = {f["rule_id"]: f for f in data["findings"]}
    weapon = by_rule["weapon-action"]
    assert weapon["rule_name_ja"] == "兵器の運用"
    # What was found and what to do, in plain words (not "'x' is 5 characters from 'y'").
    assert weapon["explanation"] == (
        "weapons employment was found: 'トマホーク 0412Z 発射'. "
        "Post this at SECRET//NOFORN, not here."
    )
    assert weapon["explanation_ja"].startswith(
        "兵器の運用（発射・攻撃など）が含まれています：『トマホーク 0412Z 発射』"
    )
    timing = by_rule["strike-timing"]
    assert (timing["rule_name"], timing["rule_name_ja"]) == (
        "Strike or launch timing",
        "攻撃・発射の時刻",
    )
    # Every shipped rule has a Japanese name and every explanation a Japanese wording.
    for finding in data["findings"]:
        assert finding["rule_name_ja"] != finding["rule_name"]
        assert finding["explanation_ja"] != finding["explanation"]
