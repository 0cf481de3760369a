"""Scheme files: the documented format (docs/label-schemes.md), a deployment's extra scheme
loaded from a folder, and the errors an inconsistent file gives."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from kyodo.errors import MarkingError, NoEquivalentError, SchemeError
from kyodo.labels import (
    SchemeRegistry,
    label_from_xml,
    label_to_xml,
    parse_marking,
    render_marking,
    scheme_from_mapping,
)
from kyodo.policy import Action, Resource, decide, make_subject
from kyodo.scheme_files import iso_alpha3_codes, load_registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "label-schemes.md"
SHIPPED = Path(__file__).resolve().parents[2] / "src" / "kyodo" / "labels" / "schemes"


def _doc_toml(policy: str) -> str:
    """The ```toml block of docs/label-schemes.md that declares `policy`."""
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    found = [b for b in blocks if f'\npolicy = "{policy}"\n' in b]
    assert len(found) == 1, f"docs/label-schemes.md should hold one {policy} scheme"
    return found[0]


@pytest.fixture(scope="module")
def gbr_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("schemes")
    (folder / "GBR.toml").write_text(_doc_toml("GBR"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def with_gbr(gbr_dir: Path) -> SchemeRegistry:
    return load_registry(extra_dirs=[gbr_dir])


def test_documented_usa_example_is_the_shipped_scheme() -> None:
    codes = iso_alpha3_codes()
    documented = scheme_from_mapping(tomllib.loads(_doc_toml("USA")), codes)
    shipped = scheme_from_mapping(
        tomllib.loads((SHIPPED / "USA.toml").read_text(encoding="utf-8")), codes
    )
    assert documented == shipped


def test_every_scheme_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    keys: set[str] = set()
    for path in SHIPPED.glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        keys |= set(data)
        for table in ("levels", "categories"):
            for entry in data.get(table, ()):
                keys |= set(entry)
    keys |= {"rel_block"}  # optional, defaulted in every shipped file
    for key in keys:
        assert f"`{key}`" in text or f"`[{key}]`" in text or f"`[[{key}]]`" in text, key


def test_extra_scheme_is_loaded_and_parses(with_gbr: SchemeRegistry) -> None:
    assert set(with_gbr.schemes) == {"USA", "JPN", "NATO", "GBR"}
    label = parse_marking("uk secret//rel to usa, gbr", with_gbr)
    assert (label.policy, label.level, label.rank) == ("GBR", "SECRET", 30)
    assert label.releasable_to == frozenset({"GBR", "USA"})
    assert render_marking(label, with_gbr) == "UK SECRET//REL TO GBR, USA"
    assert render_marking(label, with_gbr, portion=True) == "(UKS//REL TO GBR, USA)"
    assert parse_marking(render_marking(label, with_gbr), with_gbr) == label


def test_extra_scheme_defaults_groups_and_noforn(with_gbr: SchemeRegistry) -> None:
    eyes_only = parse_marking("SECRET", with_gbr, "GBR")
    assert eyes_only.releasable_to == frozenset({"GBR"})
    assert render_marking(eyes_only, with_gbr) == "UK SECRET//UK EYES ONLY"
    assert render_marking(eyes_only, with_gbr, portion=True) == "(UKS//UKEO)"
    assert parse_marking("(UKTS//UK EYES)", with_gbr).releasable_to == frozenset({"GBR"})
    fvey = parse_marking("UK TOP SECRET//RELEASABLE TO FVEY", with_gbr)
    assert render_marking(fvey, with_gbr) == "UK TOP SECRET//REL TO GBR, FVEY"
    official = parse_marking("OFFICIAL//SENSITIVE", with_gbr)
    assert official.informative == frozenset({"SENSITIVE"})
    assert official.releasable_to is None


def test_extra_scheme_refuses_what_its_file_does_not_allow(with_gbr: SchemeRegistry) -> None:
    with pytest.raises(MarkingError, match="SENSITIVE is not allowed at SECRET in scheme GBR"):
        parse_marking("UK SECRET//SENSITIVE", with_gbr)
    with pytest.raises(MarkingError, match="REL TO cannot be combined with NOFORN"):
        parse_marking("UK SECRET//UK EYES ONLY//REL TO USA", with_gbr)


def test_overlapping_spellings_prefer_the_default_then_the_one_that_parses(
    with_gbr: SchemeRegistry,
) -> None:
    assert parse_marking("SECRET", with_gbr).policy == "USA"
    # USA reads SECRET but not UK EYES ONLY, so the marking is the GBR scheme's
    label = parse_marking("SECRET//UK EYES ONLY", with_gbr)
    assert (label.policy, label.releasable_to) == ("GBR", frozenset({"GBR"}))


def test_extra_scheme_compares_and_renders_across_schemes(with_gbr: SchemeRegistry) -> None:
    uk = parse_marking("UK SECRET//REL TO GBR, USA", with_gbr)
    us = parse_marking("SECRET//REL TO USA, GBR", with_gbr)
    assert uk.equivalent(us)
    assert uk >= us
    assert us >= uk
    assert render_marking(us, with_gbr, scheme="GBR") == "UK SECRET//REL TO USA, GBR"
    assert render_marking(uk, with_gbr, scheme="USA") == "SECRET//REL TO GBR, USA"
    assert render_marking(uk, with_gbr, scheme="JPN") == "極秘//REL TO GBR, USA"
    with pytest.raises(NoEquivalentError, match="no level equivalent to USA CONFIDENTIAL"):
        render_marking(parse_marking("CONFIDENTIAL", with_gbr), with_gbr, scheme="GBR")
    assert label_from_xml(label_to_xml(uk, with_gbr), with_gbr) == uk


def test_extra_scheme_reaches_the_policy(with_gbr: SchemeRegistry) -> None:
    reader = make_subject(with_gbr, id="gb1", nation="gbr", clearance="UK SECRET")
    assert (reader.nation, reader.clearance, reader.clearance_rank) == ("GBR", "SECRET", 30)
    assert decide(reader, Action.READ, Resource(parse_marking("UK SECRET", with_gbr))).allowed
    denied = decide(reader, Action.READ, Resource(parse_marking("SECRET//NOFORN", with_gbr)))
    assert denied.reasons == ("nation GBR is not in REL TO USA",)


def test_default_registry_is_unchanged(registry: SchemeRegistry, with_gbr: SchemeRegistry) -> None:
    assert "GBR" not in registry.schemes
    assert with_gbr is not registry


def test_a_later_file_replaces_a_shipped_scheme(tmp_path: Path) -> None:
    usa = (SHIPPED / "USA.toml").read_text(encoding="utf-8")
    (tmp_path / "USA.toml").write_text(
        usa.replace('noforn = "NOFORN"', 'noforn = "US ONLY"'), encoding="utf-8"
    )
    registry = load_registry(extra_dirs=[tmp_path])
    assert render_marking(parse_marking("SECRET", registry), registry) == "SECRET//US ONLY"


def test_default_policy_decides_ambiguous_markings(gbr_dir: Path) -> None:
    assert parse_marking("SECRET", load_registry([gbr_dir], default_policy="GBR")).policy == "GBR"
    assert parse_marking("UNCLASSIFIED", load_registry(default_policy="JPN")).policy == "JPN"


_MINIMAL = """
policy = "AUS"
nation = "AUS"
originators = ["AUS"]
noforn = "AUSTEO"
[[levels]]
id = "UNOFFICIAL"
rank = 0
portion = "U"
[[levels]]
id = "SECRET"
rank = 30
portion = "S"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("policy = ", "not valid TOML"),
        (_MINIMAL.replace('originators = ["AUS"]', ""), "malformed"),
        (_MINIMAL.replace('originators = ["AUS"]', 'originators = ["OZ"]'), "'OZ' is not an ISO"),
        (_MINIMAL.replace('portion = "S"', 'portion = "U"'), "level token 'u' is used twice"),
        (_MINIMAL.replace("rank = 30", "rank = 0"), "share rank 0"),
        (_MINIMAL.replace("rank = 0", "rank = 5"), "no level has rank 0"),
        (_MINIMAL.replace("rank = 30", 'rank = "high"'), "malformed"),
        (
            _MINIMAL + '[[categories]]\nid = "REL"\nkind = "permissive"\n',
            "releasability is the permissive category",
        ),
        (_MINIMAL + '[[categories]]\nid = "X"\nkind = "mandatory"\n', "malformed"),
        (_MINIMAL + '[[categories]]\nid = "X"\nmin_level = "TOP"\n', "unknown level 'TOP'"),
        (
            _MINIMAL + '[[categories]]\nid = "A"\nbanner = "X"\n[[categories]]\nid = "X"\n',
            "category token 'x' is used twice",
        ),
        (_MINIMAL + '[groups]\nANZ = ["AUS", "NZ"]\n', "'NZ' is not an ISO"),
        # a misspelt key is an error, not a setting silently left out
        (_MINIMAL.replace("noforn =", "nofron ="), "scheme AUS: unknown key(s) nofron"),
        (
            _MINIMAL.replace('portion = "S"', 'portion = "S"\naliasses = ["SEC"]'),
            "scheme AUS: level 'SECRET': unknown key(s) aliasses",
        ),
        (
            _MINIMAL + '[[categories]]\nid = "X"\nmax_levle = "SECRET"\n',
            "scheme AUS: category 'X': unknown key(s) max_levle",
        ),
    ],
)
def test_inconsistent_scheme_file_is_a_scheme_error(
    text: str, message: str, tmp_path: Path
) -> None:
    (tmp_path / "AUS.toml").write_text(text, encoding="utf-8")
    with pytest.raises(SchemeError) as caught:
        load_registry(extra_dirs=[tmp_path])
    assert message in caught.value.message


def test_minimal_scheme_loads_and_missing_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "AUS.toml").write_text(_MINIMAL, encoding="utf-8")
    registry = load_registry(extra_dirs=[tmp_path])
    assert render_marking(parse_marking("SECRET", registry, "AUS"), registry) == "SECRET//AUSTEO"
    with pytest.raises(SchemeError, match="does not exist"):
        load_registry(extra_dirs=[tmp_path / "nowhere"])
