"""The JSON form of a label (the API's): its keys, values, and what `label_from_json` refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kyodo.errors import LabelError, MarkingError, NoEquivalentError
from kyodo.labels import (
    SchemeRegistry,
    label_from_json,
    label_to_dict,
    nation_list,
    parse_marking,
)

KEYS = [
    "policy",
    "classification",
    "level",
    "restrictive",
    "releasable_to",
    "informative",
    "marking",
    "portion",
]


def test_json_object_of_a_us_label(registry: SchemeRegistry) -> None:
    label = parse_marking("TOP SECRET//TK/SI//ORCON/REL TO JPN, USA//EXERCISE", registry)
    assert label_to_dict(label, registry) == {
        "policy": "USA",
        "classification": "TOP SECRET",
        "level": 40,
        "restrictive": ["ORCON", "SI", "TK"],
        "releasable_to": ["USA", "JPN"],
        "informative": ["EXERCISE"],
        "marking": "TOP SECRET//SI/TK//ORCON/REL TO USA, JPN//EXERCISE",
        "portion": "(TS//SI/TK//OC/REL TO USA, JPN//EX)",
    }


def test_json_object_of_a_japanese_label(registry: SchemeRegistry) -> None:
    label = parse_marking("極秘//特定秘密//提供先 USA、JPN", registry)
    as_dict = label_to_dict(label, registry)
    assert list(as_dict) == KEYS
    assert as_dict["policy"] == "JPN"
    assert as_dict["classification"] == "GOKUHI"
    assert as_dict["level"] == 30
    assert as_dict["restrictive"] == ["SDS"]
    assert as_dict["releasable_to"] == ["JPN", "USA"]  # the originator first
    assert as_dict["marking"] == "極秘//特定秘密//REL TO JPN, USA"
    assert as_dict["portion"] == "(極//特//REL TO JPN, USA)"
    # JSON text keeps the Japanese as is and reads back to the same label
    text = json.dumps(as_dict, ensure_ascii=False)
    assert "極秘" in text
    assert label_from_json(json.loads(text), registry) == label


def test_unrestricted_is_null_and_nobody_is_empty(registry: SchemeRegistry) -> None:
    unclassified = label_to_dict(parse_marking("UNCLASSIFIED", registry), registry)
    assert unclassified["releasable_to"] is None
    assert unclassified["level"] == 0
    nobody = label_to_dict(parse_marking("SECRET//REL TO NONE", registry), registry)
    assert nobody["releasable_to"] == []
    assert label_from_json(nobody, registry).releasable_to == frozenset()


def test_groups_are_expanded_in_json(registry: SchemeRegistry) -> None:
    label = parse_marking("SECRET//REL TO FVEY, JPN", registry)
    assert label_to_dict(label, registry)["releasable_to"] == [
        "USA",
        "AUS",
        "CAN",
        "GBR",
        "JPN",
        "NZL",
    ]
    assert nation_list(frozenset({"JPN", "USA"}), registry, "JPN") == ["JPN", "USA"]
    assert nation_list(frozenset({"GBR", "AUS"}), registry, "USA") == ["AUS", "GBR"]


@pytest.mark.parametrize(
    ("value", "marking"),
    [
        ("secret//rel to jpn, usa", "SECRET//REL TO USA, JPN"),
        ({"marking": "(S//NF)"}, "SECRET//NOFORN"),
        ({"marking": "UNCLASSIFIED", "policy": "JPN"}, "区分なし"),
        ({"classification": "SECRET"}, "SECRET//NOFORN"),  # policy defaults to USA
        ({"policy": "jpn", "classification": "極秘"}, "極秘//日本限り"),
        (
            {"policy": "JPN", "classification": "gokuhi", "releasable_to": ["USA", "JPN"]},
            "極秘//REL TO JPN, USA",
        ),
        ({"classification": "SECRET", "releasable_to": ["FVEY"]}, "SECRET//REL TO USA, FVEY"),
        ({"classification": "SECRET", "restrictive": ["SI"], "level": 30}, "SECRET//SI//NOFORN"),
        ({"classification": "UNCLASSIFIED", "informative": ["FOUO"]}, "UNCLASSIFIED//FOUO"),
        # null releasability: unrestricted where it can be, the originators for classified
        ({"classification": "UNCLASSIFIED", "releasable_to": None}, "UNCLASSIFIED"),
        ({"classification": "CONFIDENTIAL", "releasable_to": None}, "CONFIDENTIAL//NOFORN"),
        ({"policy": "NATO", "classification": "NATO SECRET"}, "NATO SECRET"),
    ],
)
def test_label_from_json_accepts_objects_and_markings(
    value: object, marking: str, registry: SchemeRegistry
) -> None:
    label = label_from_json(value, registry)
    assert label_to_dict(label, registry)["marking"] == marking


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "a label is a JSON object or a marking string"),
        (["SECRET"], "a label is a JSON object or a marking string"),
        (None, "a label is a JSON object or a marking string"),
        ({}, "needs 'classification' (or 'marking')"),
        ({"marking": 5}, "needs 'classification' (or 'marking')"),
        ({"classification": "SECRET", "colour": "red"}, "unknown label field(s): colour"),
        ({"classification": "SECRET", "releasable_to": "USA"}, "'releasable_to' must be a list"),
        ({"classification": "SECRET", "releasable_to": [1]}, "'releasable_to' must be a list"),
        ({"classification": "SECRET", "restrictive": "SI"}, "'restrictive' must be a list"),
        ({"classification": "SECRET", "informative": [None]}, "'informative' must be a list"),
        ({"classification": "SECRET", "policy": 1}, "'policy' must be a string"),
        ({"classification": "SECRET", "policy": "XXX"}, "unknown policy 'XXX'"),
        ({"classification": "SECRT"}, "scheme USA has no classification 'SECRT'"),
        ({"classification": "SECRET", "level": 20}, "'level' 20 does not match SECRET (level 30)"),
        ({"classification": "SECRET", "restrictive": ["ATOMAL"]}, "scheme USA has no category"),
        (
            {"classification": "SECRET", "restrictive": ["EXERCISE"]},
            "is informative, not restrictive",
        ),
        ({"classification": "SECRET", "informative": ["SI"]}, "is restrictive, not informative"),
        (
            {"classification": "UNCLASSIFIED", "restrictive": ["SI"]},
            "SI is not allowed at UNCLASSIFIED",
        ),
        ({"classification": "SECRET", "releasable_to": ["USA", "XYZ"]}, "'XYZ' is not an ISO 3166"),
        ({"classification": "SECRET", "marking": 5}, "'marking' must be a string"),
        (
            {"classification": "SECRET", "releasable_to": ["USA"], "marking": "UNCLASSIFIED"},
            "'marking' 'UNCLASSIFIED' does not match the fields (SECRET//NOFORN)",
        ),
        (
            {"classification": "SECRET", "releasable_to": ["USA", "JPN"], "marking": "SECRET"},
            "does not match the fields (SECRET//REL TO USA, JPN)",
        ),
    ],
)
def test_label_from_json_says_what_is_wrong(
    value: object, message: str, registry: SchemeRegistry
) -> None:
    with pytest.raises(LabelError) as caught:
        label_from_json(value, registry)
    assert message in caught.value.message


def test_a_bad_marking_string_is_a_marking_error(registry: SchemeRegistry) -> None:
    with pytest.raises(MarkingError) as caught:
        label_from_json({"marking": "SECRET//REL TO"}, registry)
    assert caught.value.position == 14


@pytest.mark.parametrize(
    "marking",
    [
        "UNCLASSIFIED",
        "SECRET//REL TO USA, JPN",
        "TOP SECRET//SI/TK/HCS//ORCON/NOFORN//EXERCISE",
        "区分なし//日本限り",
        "機密//特定秘密/特別防衛秘密//提供先 JPN、USA",
        "COSMIC TOP SECRET//ATOMAL",
        "NATO RESTRICTED//REL TO NONE",
    ],
)
def test_json_round_trip_through_text(marking: str, registry: SchemeRegistry) -> None:
    label = parse_marking(marking, registry)
    data: dict[str, Any] = json.loads(json.dumps(label_to_dict(label, registry)))
    assert label_from_json(data, registry) == label
    assert label_from_json(data["marking"], registry) == label
    assert (
        label_from_json({"marking": data["portion"], "policy": data["policy"]}, registry) == label
    )


def test_fit_drops_notes_a_joined_level_does_not_allow() -> None:
    from kyodo.labels import join_all, parse_marking, render_marking
    from kyodo.scheme_files import default_registry

    registry = default_registry()
    joined = join_all(
        parse_marking("UNCLASSIFIED//FOUO", registry),
        parse_marking("SECRET//REL TO USA, JPN", registry),
    )
    fitted = registry.fit(joined)
    assert fitted.informative == frozenset() and fitted.equivalent(joined)
    marking = render_marking(fitted, registry)
    assert marking == "SECRET//REL TO USA, JPN"
    assert parse_marking(marking, registry) == fitted
    kept = parse_marking("SECRET//REL TO USA, JPN//EXERCISE", registry)
    assert registry.fit(kept) is kept


def test_fit_rewrites_a_join_its_scheme_cannot_write_in_one_that_can() -> None:
    """JPN 極秘 joined with US SECRET//SI keeps the JPN policy (ties sort), but JPN has no SI."""
    from kyodo.labels import join_all, parse_marking, render_marking
    from kyodo.scheme_files import default_registry

    registry = default_registry()
    joined = join_all(
        parse_marking("極秘//提供先 JPN、USA", registry),
        parse_marking("SECRET//SI//REL TO USA, JPN", registry),
    )
    assert joined.policy == "JPN"
    with pytest.raises(NoEquivalentError):
        render_marking(joined, registry)
    fitted = registry.fit(joined)
    assert fitted.policy == "USA" and fitted.equivalent(joined)
    assert render_marking(fitted, registry) == "SECRET//SI//REL TO USA, JPN"
    # A label its scheme can write is left as it is.
    plain = parse_marking("極秘//提供先 JPN、USA", registry)
    assert registry.fit(plain) is plain
