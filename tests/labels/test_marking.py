"""The marking grammar: table tests of valid and invalid markings in the USA, JPN and NATO
schemes, canonical rendering, round trips, and rendering in another nation's scheme."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from kyodo.errors import LabelError, MarkingError, NoEquivalentError
from kyodo.labels import Label, SchemeRegistry, parse_marking, render_marking

FVEY = frozenset({"AUS", "CAN", "GBR", "NZL", "USA"})
# The 32 members, as listed in NATO.toml (its classified default releasability).
_NATO = (
    "ALB BEL BGR CAN HRV CZE DNK EST FIN FRA DEU GRC HUN ISL ITA LVA LTU LUX MNE NLD MKD NOR "
    "POL PRT ROU SVK SVN ESP SWE TUR GBR USA"
)
NATO_MEMBERS = frozenset(_NATO.split())


class Valid(NamedTuple):
    marking: str
    policy: str
    level: str
    restrictive: frozenset[str]
    releasable_to: frozenset[str] | None
    informative: frozenset[str]
    banner: str  # canonical banner
    portion: str  # canonical portion


def v(
    marking: str,
    policy: str,
    level: str,
    rel: set[str] | frozenset[str] | None,
    banner: str,
    portion: str,
    *,
    restrictive: tuple[str, ...] = (),
    informative: tuple[str, ...] = (),
) -> Valid:
    return Valid(
        marking,
        policy,
        level,
        frozenset(restrictive),
        None if rel is None else frozenset(rel),
        frozenset(informative),
        banner,
        portion,
    )


VALID = [
    # --- USA ---------------------------------------------------------------------------------
    v("UNCLASSIFIED", "USA", "UNCLASSIFIED", None, "UNCLASSIFIED", "(U)"),
    v("unclas", "USA", "UNCLASSIFIED", None, "UNCLASSIFIED", "(U)"),
    v("(U)", "USA", "UNCLASSIFIED", None, "UNCLASSIFIED", "(U)"),
    v(
        "UNCLASSIFIED//FOUO",
        "USA",
        "UNCLASSIFIED",
        None,
        "UNCLASSIFIED//FOUO",
        "(U//FOUO)",
        informative=("FOUO",),
    ),
    v("UNCLASSIFIED//NOFORN", "USA", "UNCLASSIFIED", {"USA"}, "UNCLASSIFIED//NOFORN", "(U//NF)"),
    v(
        "UNCLASSIFIED//REL TO JPN, USA",
        "USA",
        "UNCLASSIFIED",
        {"USA", "JPN"},
        "UNCLASSIFIED//REL TO USA, JPN",
        "(U//REL TO USA, JPN)",
    ),
    # A classified marking without releasability is releasable to its originator only.
    v("CONFIDENTIAL", "USA", "CONFIDENTIAL", {"USA"}, "CONFIDENTIAL//NOFORN", "(C//NF)"),
    v(
        "conf//rel to jpn",
        "USA",
        "CONFIDENTIAL",
        {"JPN"},
        "CONFIDENTIAL//REL TO JPN",
        "(C//REL TO JPN)",
    ),
    v(
        "SECRET//REL TO USA, JPN",
        "USA",
        "SECRET",
        {"USA", "JPN"},
        "SECRET//REL TO USA, JPN",
        "(S//REL TO USA, JPN)",
    ),
    v(
        "(S//REL TO USA, JPN)",
        "USA",
        "SECRET",
        {"USA", "JPN"},
        "SECRET//REL TO USA, JPN",
        "(S//REL TO USA, JPN)",
    ),
    v(
        "secret//rel to jpn,usa",
        "USA",
        "SECRET",
        {"USA", "JPN"},
        "SECRET//REL TO USA, JPN",
        "(S//REL TO USA, JPN)",
    ),
    v(
        "  Secret  //  REL   TO  JPN ,USA  ",
        "USA",
        "SECRET",
        {"USA", "JPN"},
        "SECRET//REL TO USA, JPN",
        "(S//REL TO USA, JPN)",
    ),
    v(
        "S//REL:USA,JPN",
        "USA",
        "SECRET",
        {"USA", "JPN"},
        "SECRET//REL TO USA, JPN",
        "(S//REL TO USA, JPN)",
    ),
    # A REL TO list of the originator alone is NOFORN.
    v("SECRET//REL TO USA", "USA", "SECRET", {"USA"}, "SECRET//NOFORN", "(S//NF)"),
    v("SECRET//NO FOREIGN", "USA", "SECRET", {"USA"}, "SECRET//NOFORN", "(S//NF)"),
    v(
        "SECRET//REL TO FVEY",
        "USA",
        "SECRET",
        FVEY,
        "SECRET//REL TO USA, FVEY",
        "(S//REL TO USA, FVEY)",
    ),
    v(
        "SECRET//REL TO JPN, FVEY",
        "USA",
        "SECRET",
        FVEY | {"JPN"},
        "SECRET//REL TO USA, FVEY, JPN",
        "(S//REL TO USA, FVEY, JPN)",
    ),
    v(
        "SECRET//REL TO GBR, AUS",
        "USA",
        "SECRET",
        {"GBR", "AUS"},
        "SECRET//REL TO AUS, GBR",
        "(S//REL TO AUS, GBR)",
    ),
    v("SECRET//REL TO NONE", "USA", "SECRET", set(), "SECRET//REL TO NONE", "(S//REL TO NONE)"),
    v("TOP SECRET//NOFORN", "USA", "TOP SECRET", {"USA"}, "TOP SECRET//NOFORN", "(TS//NF)"),
    v(
        "TS//SI/TK//NF",
        "USA",
        "TOP SECRET",
        {"USA"},
        "TOP SECRET//SI/TK//NOFORN",
        "(TS//SI/TK//NF)",
        restrictive=("SI", "TK"),
    ),
    v(
        "TOP SECRET//TK/SI//NOFORN",
        "USA",
        "TOP SECRET",
        {"USA"},
        "TOP SECRET//SI/TK//NOFORN",
        "(TS//SI/TK//NF)",
        restrictive=("SI", "TK"),
    ),
    v(
        "top secret//hcs/si/tk//orcon/rel to jpn, usa",
        "USA",
        "TOP SECRET",
        {"USA", "JPN"},
        "TOP SECRET//SI/TK/HCS//ORCON/REL TO USA, JPN",
        "(TS//SI/TK/HCS//OC/REL TO USA, JPN)",
        restrictive=("SI", "TK", "HCS", "ORCON"),
    ),
    v(
        "SECRET//NOFORN/ORCON",
        "USA",
        "SECRET",
        {"USA"},
        "SECRET//ORCON/NOFORN",
        "(S//OC/NF)",
        restrictive=("ORCON",),
    ),
    v(
        "SECRET//EXERCISE",
        "USA",
        "SECRET",
        {"USA"},
        "SECRET//NOFORN//EXERCISE",
        "(S//NF//EX)",
        informative=("EXERCISE",),
    ),
    v(
        "CONFIDENTIAL//SI//REL TO USA, GBR",
        "USA",
        "CONFIDENTIAL",
        {"USA", "GBR"},
        "CONFIDENTIAL//SI//REL TO USA, GBR",
        "(C//SI//REL TO USA, GBR)",
        restrictive=("SI",),
    ),
    # --- JPN ---------------------------------------------------------------------------------
    v("区分なし", "JPN", "UNCLASSIFIED", None, "区分なし", "(U)"),
    v(
        "KUBUN NASHI//EXERCISE",
        "JPN",
        "UNCLASSIFIED",
        None,
        "区分なし//演習",
        "(U//演)",
        informative=("EXERCISE",),
    ),
    # "U" is a USA portion too: the marking is read in the scheme in which it parses.
    v("(U//日限)", "JPN", "UNCLASSIFIED", {"JPN"}, "区分なし//日本限り", "(U//日限)"),
    v("UNCLASSIFIED//日本限り", "JPN", "UNCLASSIFIED", {"JPN"}, "区分なし//日本限り", "(U//日限)"),
    v("秘", "JPN", "HI", {"JPN"}, "秘//日本限り", "(秘//日限)"),
    v("hi//japan only", "JPN", "HI", {"JPN"}, "秘//日本限り", "(秘//日限)"),
    v(
        "極秘//提供先 JPN、USA",
        "JPN",
        "GOKUHI",
        {"JPN", "USA"},
        "極秘//REL TO JPN, USA",
        "(極//REL TO JPN, USA)",
    ),
    v(
        "gokuhi // rel to usa, jpn",
        "JPN",
        "GOKUHI",
        {"JPN", "USA"},
        "極秘//REL TO JPN, USA",
        "(極//REL TO JPN, USA)",
    ),
    v("極秘//提供先：USA", "JPN", "GOKUHI", {"USA"}, "極秘//REL TO USA", "(極//REL TO USA)"),
    # no space needed after a token that ends in a Japanese character
    v(
        "極秘//提供先USA、JPN",
        "JPN",
        "GOKUHI",
        {"JPN", "USA"},
        "極秘//REL TO JPN, USA",
        "(極//REL TO JPN, USA)",
    ),
    v("極秘//提供先 JPN", "JPN", "GOKUHI", {"JPN"}, "極秘//日本限り", "(極//日限)"),
    v(
        "(機//特//日限)",
        "JPN",
        "KIMITSU",
        {"JPN"},
        "機密//特定秘密//日本限り",
        "(機//特//日限)",
        restrictive=("SDS",),
    ),
    v(
        "機密//特別防衛秘密/特定秘密//REL TO JPN, USA",
        "JPN",
        "KIMITSU",
        {"JPN", "USA"},
        "機密//特定秘密/特別防衛秘密//REL TO JPN, USA",
        "(機//特/特防//REL TO JPN, USA)",
        restrictive=("SDS", "SDMDA"),
    ),
    v(
        "秘//CESI",
        "JPN",
        "HI",
        {"JPN"},
        "秘//重要経済安保情報//日本限り",
        "(秘//重経//日限)",
        restrictive=("CESI",),
    ),
    v(
        "GOKUHI//NOFORN//EXERCISE",
        "JPN",
        "GOKUHI",
        {"JPN"},
        "極秘//日本限り//演習",
        "(極//日限//演)",
        informative=("EXERCISE",),
    ),
    # --- NATO (no NOFORN; classified default is releasable to the members) ---------------------
    v("NATO UNCLASSIFIED", "NATO", "NATO UNCLASSIFIED", None, "NATO UNCLASSIFIED", "(NU)"),
    v("NATO SECRET", "NATO", "NATO SECRET", NATO_MEMBERS, "NATO SECRET", "(NS)"),
    v(
        "NS//REL TO USA, JPN",
        "NATO",
        "NATO SECRET",
        {"USA", "JPN"},
        "NATO SECRET//RELEASABLE TO JPN, USA",
        "(NS//RELEASABLE TO JPN, USA)",
    ),
    v(
        "COSMIC TOP SECRET//ATOMAL",
        "NATO",
        "COSMIC TOP SECRET",
        NATO_MEMBERS,
        "COSMIC TOP SECRET//ATOMAL",
        "(CTS//A)",
        restrictive=("ATOMAL",),
    ),
    v(
        "NATO RESTRICTED//EXERCISE",
        "NATO",
        "NATO RESTRICTED",
        NATO_MEMBERS,
        "NATO RESTRICTED//EXERCISE",
        "(NR//EX)",
        informative=("EXERCISE",),
    ),
]


class Invalid(NamedTuple):
    marking: str
    reason: str  # a fragment of MarkingError.reason
    position: int


INVALID = [
    Invalid("", "empty marking", 0),
    Invalid("   ", "empty marking", 0),
    Invalid("()", "missing classification", 1),
    Invalid("SECRT", "unknown classification 'SECRT'", 0),
    Invalid("SECRET/NOFORN", "expected '//' after the classification", 0),
    Invalid("(SECRET", "portion marking has no closing ')'", 7),
    Invalid("SECRET)", "')' without an opening '('", 6),
    Invalid("SECRET//", "empty block between '//' separators", 8),
    Invalid("SECRET//SI//", "empty block between '//' separators", 12),
    Invalid("SECRET//SI/", "empty element between '/' separators", 11),
    Invalid("SECRET//BOGUS", "unknown marking 'BOGUS' in scheme USA", 8),
    Invalid("S//RELIDO", "unknown marking 'RELIDO' in scheme USA", 3),  # not REL + IDO
    Invalid("TOP SECRET//ATOMAL", "unknown marking 'ATOMAL' in scheme USA", 12),
    Invalid("GOKUHI//SI", "unknown marking 'SI' in scheme JPN", 8),
    Invalid("NATO SECRET//NOFORN", "unknown marking 'NOFORN' in scheme NATO", 13),
    # unknown code, empty REL TO
    Invalid("SECRET//REL TO", "empty REL TO list", 14),
    Invalid("CONFIDENTIAL//SI//REL TO", "empty REL TO list", 24),
    Invalid("極秘//提供先", "empty REL TO list", 7),
    Invalid("SECRET//REL TO XXX", "unknown country code 'XXX' in REL TO", 15),
    Invalid("SECRET//REL TO USA, JPX", "unknown country code 'JPX' in REL TO", 20),
    Invalid("SECRET//REL TO US", "unknown country code 'US' in REL TO", 15),
    Invalid("secret//rel to usa jpn", "unknown country code 'USA JPN' in REL TO", 15),
    Invalid("極秘//提供先 JPN、XYZ", "unknown country code 'XYZ' in REL TO", 12),
    Invalid("SECRET//REL TO USA, , JPN", "empty entry in REL TO list", 20),
    Invalid("SECRET//REL TO NONE, USA", "NONE must stand alone in a REL TO list", 15),
    Invalid("SECRET//REL TO USA//REL TO JPN", "a second REL TO list", 20),
    # NOFORN with REL TO, in either order and either scheme
    Invalid("SECRET//NOFORN//REL TO USA", "REL TO cannot be combined with NOFORN", 16),
    Invalid("SECRET//REL TO USA//NOFORN", "NOFORN cannot be combined with REL TO", 20),
    Invalid("SECRET//REL TO USA/NF", "NOFORN cannot be combined with REL TO", 19),
    Invalid("機密//日本限り//提供先 USA", "REL TO cannot be combined with NOFORN", 10),
    # a category not allowed at that level
    Invalid("UNCLASSIFIED//SI", "SI is not allowed at UNCLASSIFIED in scheme USA", 14),
    Invalid("UNCLASSIFIED//ORCON", "ORCON is not allowed at UNCLASSIFIED", 14),
    Invalid("CONFIDENTIAL//TK", "TK is not allowed at CONFIDENTIAL in scheme USA", 14),
    Invalid("SECRET//FOUO", "FOUO is not allowed at SECRET in scheme USA", 8),
    Invalid("秘//特定秘密", "SDS is not allowed at HI in scheme JPN", 3),
    Invalid("極秘//重経", "CESI is not allowed at GOKUHI in scheme JPN", 4),
    Invalid("区分なし//特防", "SDMDA is not allowed at UNCLASSIFIED in scheme JPN", 6),
    Invalid("NATO RESTRICTED//ATOMAL", "ATOMAL is not allowed at NATO RESTRICTED", 17),
    Invalid("x" * 1001, "marking is longer than 1000 characters", 1000),
]


def test_the_tables_are_large_enough() -> None:
    assert len(VALID) + len(INVALID) >= 40
    for policy in ("USA", "JPN", "NATO"):
        assert sum(case.policy == policy for case in VALID) >= 5


@pytest.mark.parametrize("case", VALID, ids=[c.marking for c in VALID])
def test_valid_marking_parses_to_its_parts(case: Valid, registry: SchemeRegistry) -> None:
    label = parse_marking(case.marking, registry)
    assert label == Label(
        case.policy,
        case.level,
        registry.scheme(case.policy).level(case.level).rank,
        case.restrictive,
        case.releasable_to,
        case.informative,
    )


@pytest.mark.parametrize("case", VALID, ids=[c.marking for c in VALID])
def test_valid_marking_renders_canonically_and_round_trips(
    case: Valid, registry: SchemeRegistry
) -> None:
    label = parse_marking(case.marking, registry)
    assert render_marking(label, registry) == case.banner
    assert render_marking(label, registry, portion=True) == case.portion
    # parse(render(L)) == L, and the canonical form is a fixed point.
    assert parse_marking(case.banner, registry) == label
    assert render_marking(parse_marking(case.banner, registry), registry) == case.banner
    # A portion marking alone can be ambiguous ("(U)" is USA and JPN): with the policy it is
    # exact, without it the meaning is the same.
    assert parse_marking(case.portion, registry, case.policy) == label
    assert parse_marking(case.portion, registry).equivalent(label)


@pytest.mark.parametrize("case", INVALID, ids=[c.marking[:40] for c in INVALID])
def test_invalid_marking_says_what_and_where(case: Invalid, registry: SchemeRegistry) -> None:
    with pytest.raises(MarkingError) as caught:
        parse_marking(case.marking, registry)
    error = caught.value
    assert case.reason in error.reason
    assert error.position == case.position
    assert f"at position {case.position}" in error.message
    assert isinstance(error, LabelError)  # the API maps the whole LabelError family


def test_error_position_points_into_the_original_text(registry: SchemeRegistry) -> None:
    text = "  (S//REL TO USA, XYZ)"
    with pytest.raises(MarkingError) as caught:
        parse_marking(text, registry)
    assert text[caught.value.position :].startswith("XYZ")


def test_duplicate_category_is_read_once(registry: SchemeRegistry) -> None:
    label = parse_marking("SECRET//SI/SI//NOFORN", registry)
    assert label.restrictive == frozenset({"SI"})
    assert render_marking(label, registry) == "SECRET//SI//NOFORN"


def test_stated_policy_restricts_the_search(registry: SchemeRegistry) -> None:
    assert parse_marking("秘", registry, "jpn").policy == "JPN"
    assert parse_marking("UNCLASSIFIED", registry, "JPN").policy == "JPN"
    assert parse_marking("UNCLASSIFIED", registry).policy == "USA"  # the default policy first
    with pytest.raises(MarkingError, match="unknown classification 'SECRET' in scheme JPN"):
        parse_marking("SECRET", registry, "JPN")
    with pytest.raises(MarkingError, match="unknown policy 'XXX'"):
        parse_marking("SECRET", registry, "XXX")


def test_scheme_detection_reports_the_first_schemes_error(registry: SchemeRegistry) -> None:
    # "UNCLASSIFIED" is a USA level and a JPN alias; when neither reads the rest, the error is
    # the default scheme's, pointing at the element that failed.
    with pytest.raises(MarkingError) as caught:
        parse_marking("UNCLASSIFIED//BOGUS", registry)
    assert "in scheme USA" in caught.value.reason
    assert caught.value.position == 14


# --- rendering in another scheme ---------------------------------------------------------------

CROSS = [
    ("UNCLASSIFIED", "JPN", "区分なし", "(U)"),
    ("CONFIDENTIAL//REL TO USA, JPN", "JPN", "秘//REL TO USA, JPN", "(秘//REL TO USA, JPN)"),
    ("SECRET//REL TO USA, JPN", "JPN", "極秘//REL TO USA, JPN", "(極//REL TO USA, JPN)"),
    ("TOP SECRET//NOFORN", "JPN", "機密//REL TO USA", "(機//REL TO USA)"),
    # releasable to Japan alone is, in the Japanese scheme, 日本限り
    ("SECRET//REL TO JPN", "JPN", "極秘//日本限り", "(極//日限)"),
    ("SECRET//EXERCISE", "JPN", "極秘//REL TO USA//演習", "(極//REL TO USA//演)"),
    ("秘", "USA", "CONFIDENTIAL//REL TO JPN", "(C//REL TO JPN)"),
    ("極秘//提供先 JPN、USA", "USA", "SECRET//REL TO JPN, USA", "(S//REL TO JPN, USA)"),
    ("機密//提供先 USA", "USA", "TOP SECRET//NOFORN", "(TS//NF)"),
    ("NATO SECRET//REL TO USA", "USA", "SECRET//NOFORN", "(S//NF)"),
    ("SECRET//REL TO USA, GBR", "NATO", "NATO SECRET//RELEASABLE TO USA, GBR", None),
    ("SECRET//REL TO NONE", "JPN", "極秘//REL TO NONE", None),
]


@pytest.mark.parametrize(("marking", "scheme", "banner", "portion"), CROSS)
def test_render_in_another_scheme_keeps_the_meaning(
    marking: str, scheme: str, banner: str, portion: str | None, registry: SchemeRegistry
) -> None:
    label = parse_marking(marking, registry)
    rendered = render_marking(label, registry, scheme=scheme)
    assert rendered == banner
    if portion is not None:
        assert render_marking(label, registry, scheme=scheme, portion=True) == portion
    back = parse_marking(rendered, registry, scheme)
    assert back.policy == scheme
    assert back.equivalent(label)


def test_nato_default_releasability_needs_no_marking_in_nato(registry: SchemeRegistry) -> None:
    label = parse_marking(f"SECRET//REL TO {', '.join(sorted(NATO_MEMBERS))}", registry)
    assert render_marking(label, registry, scheme="NATO") == "NATO SECRET"
    us = render_marking(parse_marking("NATO SECRET", registry), registry, scheme="USA")
    assert parse_marking(us, registry).releasable_to == NATO_MEMBERS


@pytest.mark.parametrize(
    ("marking", "scheme", "missing"),
    [
        ("SECRET//SI//REL TO USA, JPN", "JPN", "category SI"),
        ("TOP SECRET//ORCON/NOFORN", "JPN", "category ORCON"),
        ("UNCLASSIFIED//FOUO", "JPN", "category FOUO"),
        ("極秘//特定秘密//提供先 USA", "USA", "category SDS"),
        ("NATO RESTRICTED", "USA", "no level equivalent to NATO NATO RESTRICTED"),
        ("NATO RESTRICTED", "JPN", "no level equivalent"),
        ("COSMIC TOP SECRET//ATOMAL", "USA", "category ATOMAL"),
    ],
)
def test_render_without_equivalent_says_which_part(
    marking: str, scheme: str, missing: str, registry: SchemeRegistry
) -> None:
    label = parse_marking(marking, registry)
    with pytest.raises(NoEquivalentError, match=missing):
        render_marking(label, registry, scheme=scheme)
    with pytest.raises(NoEquivalentError):
        render_marking(label, registry, scheme=scheme, portion=True)


def test_render_in_an_unknown_scheme_is_a_label_error(registry: SchemeRegistry) -> None:
    label = parse_marking("SECRET", registry)
    with pytest.raises(LabelError, match="unknown policy 'GBR'"):
        render_marking(label, registry, scheme="GBR")
    assert render_marking(label, registry, scheme="usa") == "SECRET//NOFORN"
