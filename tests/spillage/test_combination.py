"""Signals that combine, context that lowers, plain explanations, and the version 2 format."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from kyodo.errors import GuardRulesError
from kyodo.labels import Label, SchemeRegistry
from kyodo.spillage import CombinationRule, GuardResult, RuleSet, check, rules_from_toml
from kyodo.spillage.scanned import ScannedText
from kyodo.spillage.signals import Evidence

Parse = Callable[[str], Label]

SMALL = """
version = 2

[signals.time]
name = "a time"
terms = ['@clock', 'tonight']

[signals.weapon]
name = "a weapon"
terms = ['@designator', 'Tomahawks?']

[signals.action]
name = "a strike"
terms = ['strik(?:e|es)', 'launch(?:es|ed)?', '発射']

[signals.place]
name = "a place"
terms = ['Miyako', '宮古']

[context.history]
name = "history"
lowers = 2
terms = ['history', 'in 19\\d\\d']

[context.exercise]
name = "an exercise"
lowers = 1
terms = ['exercise']

[[rules]]
id = "timed-strike"
kind = "combination"
name = "Strike time"
name_ja = "攻撃の時刻"
level = "SECRET"
needs = ["time", "action"]
within = 30
strength = 2
explain = "a strike time was found: {text}. Post this at {level}."
explain_ja = "攻撃の時刻が含まれています:{text}。{level}で投稿してください。"

[[rules]]
id = "three-of-four"
kind = "combination"
name = "Three kinds together"
level = "SECRET"
needs = ["time", "weapon", "action", "place"]
at_least = 3
strength = 3
"""


@pytest.fixture(scope="module")
def small(registry: SchemeRegistry) -> RuleSet:
    return rules_from_toml(SMALL, registry)


def run(rules: RuleSet, registry: SchemeRegistry, label: Parse, text: str) -> GuardResult:
    return check(text, label("UNCLASSIFIED"), rules, registry)


def ids(result: GuardResult) -> list[str]:
    return [f.rule_id for f in result.findings]


def test_a_time_and_a_strike_combine_within_the_distance(
    small: RuleSet, registry: SchemeRegistry, label: Parse
) -> None:
    result = run(small, registry, label, "launches 1345")
    assert ids(result) == ["timed-strike"]
    assert result.refused
    (finding,) = result.findings
    assert (finding.text, finding.start, finding.end) == ("launches 1345", 0, 13)
    assert finding.explanation == (
        "a strike time was found: 'launches 1345'. Post this at SECRET//NOFORN."
    )
    assert finding.explanation_ja == (
        "攻撃の時刻が含まれています:『launches 1345』。極秘//REL TO USAで投稿してください。"
    )
    assert not run(small, registry, label, "launches the plan; the meeting is at 1345").refused


def test_alone_a_signal_never_refuses(
    small: RuleSet, registry: SchemeRegistry, label: Parse
) -> None:
    for text in ("meeting at 1345", "the strike team", "Tomahawk display", "Miyako trip"):
        assert ids(run(small, registry, label, text)) == [], text


def test_at_least_counts_the_groups_present(
    small: RuleSet, registry: SchemeRegistry, label: Parse
) -> None:
    # time + weapon + place: three of four, anywhere in the message.
    result = run(small, registry, label, "Tomahawk battery to Miyako; brief at 0900")
    assert ids(result) == ["three-of-four"]
    assert result.findings[0].explanation == (
        "Three kinds together found: 'Tomahawk battery to Miyako; brief at 0900'"
    )
    assert ids(run(small, registry, label, "Tomahawk battery to Miyako")) == []


def test_one_word_is_not_two_signals(registry: SchemeRegistry, label: Parse) -> None:
    rules = rules_from_toml(
        """
version = 2
[signals.a]
name = "a"
terms = ['TOT']
[signals.b]
name = "b"
terms = ['TOT', '@clock']
[[rules]]
id = "r"
kind = "combination"
name = "r"
level = "SECRET"
needs = ["a", "b"]
""",
        registry,
    )
    assert ids(check("TOT", label("UNCLASSIFIED"), rules, registry)) == []
    assert ids(check("TOT 0412Z", label("UNCLASSIFIED"), rules, registry)) == ["r"]


def test_context_lowers_a_rule_only_when_it_is_not_stronger(
    small: RuleSet, registry: SchemeRegistry, label: Parse
) -> None:
    # history (lowers 2) silences the strength-2 rule...
    assert not run(small, registry, label, "history: launches 1345").refused
    # ...an exercise (lowers 1) does not...
    assert run(small, registry, label, "exercise: launches 1345").refused
    # ...and contexts do not add up: history + exercise still lower by 2, so the strength-3
    # rule (three kinds together) fires.
    result = run(small, registry, label, "history exercise: Tomahawk launches 1345 near Miyako")
    assert ids(result) == ["three-of-four"]


def test_evidence_computes_each_signal_once(small: RuleSet) -> None:
    evidence = Evidence(ScannedText("launches 1345 in 1942"), small.signals, small.contexts)
    assert evidence.spans("time") is evidence.spans("time")
    assert evidence.lowering() == (2, ("history",))


def test_a_finding_that_repeats_shown_words_is_dropped(
    registry: SchemeRegistry, label: Parse
) -> None:
    rules = rules_from_toml(
        SMALL
        + """
[[rules]]
id = "weapon-time"
kind = "combination"
name = "Weapon and time"
level = "SECRET"
needs = ["weapon", "time"]
""",
        registry,
    )
    text = "Tomahawk launches 1345"
    result = check(text, label("UNCLASSIFIED"), rules, registry)
    # time + strike, and three of four (time, weapon, strike) show every word already.
    assert ids(result) == ["three-of-four", "timed-strike"]


def test_the_shipped_rules_catch_the_issue_examples(
    rules: RuleSet, registry: SchemeRegistry, label: Parse
) -> None:
    operational = [
        "TIME NOW (1144ET): weather is FAVORABLE. CENTCOM confirms we are a GO",
        "1215ET: F-18s LAUNCH (1st strike package)",
        "positive ID of the target walking into his girlfriend's building",
        "second wave of guided bombs on the radar site at 1605",
        "bombers hit the command post at 2230 tonight",
        "EA-18Gs jamming from 1350, weapons release for the F/A-18s at 1400",
        "the source says the convoy leaves the port at first light",
        "readiness goes to 30 min from 0600 tomorrow",
        "B battery moves to Miyako on the 14th",
        "第15旅団の一部、14日に石垣へ移動",
        "警戒態勢を明日0600から第2段階へ引き上げ",
    ]
    ordinary = [
        "The Doolittle Raid launched 16 B-25s from USS Hornet in 1942, striking Tokyo at noon",
        "softball tonight: our strike team takes the field at 1830",
        "the new website launches at 0900 Monday",
        "H3ロケットの打ち上げは明日10時、種子島から",
        "Exercise Resolute Dragon per the press release: 11-25 Sep, Ishigaki and Amami",
        "真珠湾攻撃は1941年12月8日未明、第一波は183機",
    ]
    for text in operational:
        lang = "区分なし" if not text.isascii() else "UNCLASSIFIED"
        assert check(text, label(lang), rules, registry).refused, text
    for text in ordinary:
        lang = "区分なし" if not text.isascii() else "UNCLASSIFIED"
        assert not check(text, label(lang), rules, registry).refused, text


@pytest.mark.parametrize(
    ("text", "rule_id"),
    [
        ("TIME NOW: MQ-9s on station over the compound", "status-update"),
        ("現在時刻0544、護衛艦は配置に就いた", "status-update"),
        ("our battery moves to Tokunoshima Friday night", "planned-force-activity"),
        ("日曜から那覇のF-15の分遣隊を宮古に出す", "planned-force-activity"),
    ],
)
def test_round_2_signals_find_status_reports_and_planned_moves(
    rules: RuleSet, registry: SchemeRegistry, label: Parse, text: str, rule_id: str
) -> None:
    from kyodo.spillage.rules import CombinationRule
    from kyodo.spillage.scanned import ScannedText
    from kyodo.spillage.signals import Evidence

    marking = "UNCLASSIFIED" if text.isascii() else "区分なし"
    assert check(text, label(marking), rules, registry).refused
    # The rule itself matches (its finding may be dropped when another shows the same words).
    rule = rules.rule(rule_id)
    assert isinstance(rule, CombinationRule)
    assert list(rule.hits(Evidence(ScannedText(text), rules.signals, rules.contexts)))


def test_a_planned_move_is_refused_whatever_the_context_but_needs_a_place(
    rules: RuleSet, registry: SchemeRegistry, label: Parse
) -> None:
    unclassified = label("UNCLASSIFIED")
    # Strength 3: golf (social context) does not excuse it.
    assert check(
        "Can't make golf Sat, we fly the Ospreys to Ishigaki Friday night",
        unclassified,
        rules,
        registry,
    ).refused
    # No place: a unit's sports day moving to the gym is not a force movement.
    assert not check(
        "来週の金曜、部隊の運動会は雨天のため体育館へ移動します", label("区分なし"), rules, registry
    ).refused


def test_a_bare_says_lowers_less_than_a_named_state_or_outlet(
    rules: RuleSet, registry: SchemeRegistry, label: Parse
) -> None:
    unclassified = label("UNCLASSIFIED")
    # Our own liaison's word is reporting: intelligence about a ship at a place still refuses.
    assert check(
        "The liaison says the frigate is loitering 30 nm off Uotsuri since yesterday",
        unclassified,
        rules,
        registry,
    ).refused
    # A state's claim, as in the news, is silenced as before.
    assert not check(
        "Russia says it hit a refinery with drones overnight", unclassified, rules, registry
    ).refused


def test_shipped_findings_explain_in_plain_words(
    rules: RuleSet, registry: SchemeRegistry, label: Parse
) -> None:
    result = check("1215ET: F-18s LAUNCH", label("UNCLASSIFIED"), rules, registry)
    for finding in result.findings:
        assert " characters from " not in finding.explanation
        assert "was found" in finding.explanation
        assert "含まれています" in finding.explanation_ja
    combinations = [r for r in rules.rules if isinstance(r, CombinationRule)]
    assert combinations
    for rule in combinations:
        assert rule.explain and rule.explain_ja and rule.name_ja, rule.id


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            'version = 1\n[signals.t]\nname = "t"\nterms = ["x"]\n',
            "signals need version = 2",
        ),
        (
            'version = 1\n[[rules]]\nid = "r"\nkind = "pattern"\nname = "r"\nlevel = "SECRET"\n'
            'pattern = "x"\nstrength = 2\n',
            "strength (rule 'r') need version = 2",
        ),
        (
            'version = 2\n[[rules]]\nid = "r"\nkind = "combination"\nname = "r"\n'
            'level = "SECRET"\nneeds = ["nowhere"]\n',
            "needs names the signal 'nowhere', which [signals] does not define",
        ),
        (
            'version = 2\n[signals.t]\nname = "t"\nterms = ["x"]\n[[rules]]\nid = "r"\n'
            'kind = "combination"\nname = "r"\nlevel = "SECRET"\nneeds = ["t"]\nat_least = 2\n',
            "at_least must be a whole number from 1 to the number of needs",
        ),
        (
            'version = 2\n[context.c]\nname = "c"\nlowers = 0\nterms = ["x"]\n',
            "context 'c': lowers must be a whole number ≥ 1",
        ),
        (
            'version = 2\n[signals.t]\nname = "t"\nterm = ["x"]\n',
            "signal 't': unknown key(s) term",
        ),
        (
            'version = 2\n[signals.t]\nname = "t"\nterms = ["x"]\n[[rules]]\nid = "r"\n'
            'kind = "combination"\nname = "r"\nlevel = "SECRET"\nneeds = ["t"]\nstrength = 0\n',
            "strength must be a whole number ≥ 1",
        ),
        ("version = 3\n", "version 3 is not one this Kyodo reads"),
    ],
)
def test_bad_version_2_files_say_what_is_wrong(
    document: str, message: str, registry: SchemeRegistry
) -> None:
    with pytest.raises(GuardRulesError, match=re.escape(message)):
        rules_from_toml(document, registry)


def test_an_extension_adds_terms_to_a_shipped_signal(
    registry: SchemeRegistry, label: Parse
) -> None:
    from kyodo.spillage_files import shipped_rules_text

    extended = rules_from_toml(
        'version = 2\nextends = "shipped"\n[signals.weapon]\nterms = ["Blue Lance"]\n',
        registry,
        shipped=shipped_rules_text(),
    )
    text = "Blue Lance launch at 0400"
    shipped = rules_from_toml(shipped_rules_text(), registry)
    assert "weapon-action" not in ids(check(text, label("UNCLASSIFIED"), shipped, registry))
    assert "weapon-action" in ids(check(text, label("UNCLASSIFIED"), extended, registry))


PROBES = Path(__file__).parent / "data" / "probes.jsonl"


def test_hand_written_probes_of_kinds_the_rules_were_not_tuned_on(
    rules: RuleSet, registry: SchemeRegistry, label: Parse
) -> None:
    """Leaked-chat lines, history, sport and implicit intelligence, written for this test."""
    wrong = []
    for line in PROBES.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        marking = "区分なし" if row["lang"] == "ja" else "UNCLASSIFIED"
        if check(row["text"], label(marking), rules, registry).refused != row["operational"]:
            wrong.append(row["text"])
    assert wrong == []
