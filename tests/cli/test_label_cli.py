"""`kyodo label …`: outputs and exit codes (0 yes/allowed, 1 no/denied/no equivalent, 2 error)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kyodo.cli import app
from kyodo.labels import label_from_xml, parse_marking
from kyodo.labels.stanag import NAMESPACE
from kyodo.scheme_files import default_registry

runner = CliRunner()


def kyodo(*args: str, input: str | bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["label", *args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # an uncaught error is a bug, never an exit code
    return result.exit_code, result.stdout, result.stderr


# --- parse ---------------------------------------------------------------------------------------


def test_parse_prints_canonical_banner_and_portion() -> None:
    assert kyodo("parse", "secret//rel to jpn,usa") == (
        0,
        "SECRET//REL TO USA, JPN\n(S//REL TO USA, JPN)\n",
        "",
    )
    assert (
        kyodo("parse", "(極//提供先 USA、JPN)")[1]
        == "極秘//REL TO JPN, USA\n(極//REL TO JPN, USA)\n"
    )


def test_parse_json_has_exactly_the_documented_keys() -> None:
    code, out, err = kyodo("parse", "TOP SECRET//SI//REL TO USA, JPN", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert list(data) == [
        "policy",
        "classification",
        "level",
        "restrictive",
        "releasable_to",
        "informative",
        "marking",
        "portion",
    ]
    assert data == {
        "policy": "USA",
        "classification": "TOP SECRET",
        "level": 40,
        "restrictive": ["SI"],
        "releasable_to": ["USA", "JPN"],
        "informative": [],
        "marking": "TOP SECRET//SI//REL TO USA, JPN",
        "portion": "(TS//SI//REL TO USA, JPN)",
    }


def test_parse_json_null_is_unrestricted_and_japanese_is_not_escaped() -> None:
    assert json.loads(kyodo("parse", "UNCLASSIFIED", "--json")[1])["releasable_to"] is None
    out = kyodo("parse", "極秘", "--json")[1]
    assert "極秘//日本限り" in out
    assert json.loads(out)["releasable_to"] == ["JPN"]


def test_parse_with_a_policy() -> None:
    assert kyodo("parse", "UNCLASSIFIED", "--policy", "JPN")[1] == "区分なし\n(U)\n"
    code, out, err = kyodo("parse", "SECRET", "--policy", "JPN")
    assert (code, out) == (2, "")
    assert "unknown classification 'SECRET' in scheme JPN" in err


@pytest.mark.parametrize(
    ("marking", "message"),
    [
        ("SECRT", "error: unknown classification 'SECRT' at position 0"),
        ("SECRET//REL TO", "error: empty REL TO list at position 14"),
        ("SECRET//REL TO USA, XYZ", "unknown country code 'XYZ' in REL TO at position 20"),
        ("SECRET//NOFORN//REL TO USA", "REL TO cannot be combined with NOFORN at position 16"),
        ("UNCLASSIFIED//SI", "SI is not allowed at UNCLASSIFIED"),
    ],
)
def test_parse_invalid_exits_2_with_the_error_on_stderr(marking: str, message: str) -> None:
    for args in (("parse", marking), ("parse", marking, "--json")):
        code, out, err = kyodo(*args)
        assert code == 2
        assert out == ""
        assert message in err


# --- join, dominates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markings", "joined"),
    [
        (["SECRET//REL TO USA, JPN"], "SECRET//REL TO USA, JPN"),
        (["SECRET//REL TO USA, JPN", "CONFIDENTIAL//SI//REL TO USA, GBR"], "SECRET//SI//NOFORN"),
        (["UNCLASSIFIED", "CONFIDENTIAL//REL TO USA, JPN"], "CONFIDENTIAL//REL TO USA, JPN"),
        (
            ["SECRET//REL TO FVEY, JPN", "CONFIDENTIAL//REL TO JPN, GBR, USA", "UNCLASSIFIED"],
            "SECRET//REL TO USA, GBR, JPN",
        ),
        # across schemes: the policy of the higher level
        (["SECRET//REL TO USA, JPN", "機密//提供先 JPN、USA"], "機密//REL TO JPN, USA"),
        (["極秘//提供先 JPN、USA", "CONFIDENTIAL//REL TO USA, JPN"], "極秘//REL TO JPN, USA"),
        (["SECRET//REL TO GBR", "SECRET//REL TO JPN"], "SECRET//REL TO NONE"),
    ],
)
def test_join(markings: list[str], joined: str) -> None:
    assert kyodo("join", *markings) == (0, joined + "\n", "")


def test_join_is_written_in_a_scheme_that_can_express_it() -> None:
    # US SI joined with a higher Japanese label is a JPN label holding SI, which JPN cannot
    # write: it is written in the US scheme, which has both TOP SECRET's rank and SI.
    assert kyodo("join", "SECRET//SI//REL TO USA, JPN", "機密//提供先 USA、JPN") == (
        0,
        "TOP SECRET//SI//REL TO USA, JPN\n",
        "",
    )


def test_join_that_no_marking_can_express_is_an_error_not_a_crash() -> None:
    # SI (US) with 特定秘密 (JPN): no one scheme has both compartments.
    code, out, err = kyodo("join", "SECRET//SI//REL TO USA, JPN", "機密//特定秘密//提供先 USA、JPN")
    assert (code, out) == (2, "")
    assert "error: scheme JPN has no equivalent for category SI" in err


def test_join_invalid_or_missing_input() -> None:
    code, out, err = kyodo("join", "SECRET", "SECRT")
    assert (code, out) == (2, "")
    assert "unknown classification 'SECRT'" in err
    assert kyodo("join")[0] == 2


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("SECRET//NOFORN", "SECRET//REL TO USA, JPN", "yes"),
        ("SECRET//REL TO USA, JPN", "SECRET//NOFORN", "no"),
        ("TOP SECRET//SI//NOFORN", "CONFIDENTIAL//NOFORN", "yes"),
        ("TOP SECRET//NOFORN", "CONFIDENTIAL//SI//NOFORN", "no"),
        ("SECRET//REL TO USA, JPN", "極秘//提供先 JPN、USA", "yes"),
        ("極秘//提供先 JPN、USA", "SECRET//REL TO USA, JPN", "yes"),
        ("CONFIDENTIAL//REL TO USA, JPN", "UNCLASSIFIED", "yes"),
        ("UNCLASSIFIED", "UNCLASSIFIED//NOFORN", "no"),
    ],
)
def test_dominates(a: str, b: str, expected: str) -> None:
    code, out, err = kyodo("dominates", a, b)
    assert out == expected + "\n"
    assert code == (0 if expected == "yes" else 1)
    assert err == ""


def test_dominates_invalid_exits_2() -> None:
    code, out, err = kyodo("dominates", "SECRET", "SECRET//REL TO")
    assert (code, out) == (2, "")
    assert "empty REL TO list" in err


# --- render --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (("SECRET//REL TO USA, JPN", "--scheme", "JPN"), "極秘//REL TO USA, JPN"),
        (("SECRET//REL TO USA, JPN", "--scheme", "jpn", "--portion"), "(極//REL TO USA, JPN)"),
        (("CONFIDENTIAL//REL TO JPN", "--scheme", "JPN"), "秘//日本限り"),
        (("UNCLASSIFIED", "--scheme", "JPN"), "区分なし"),
        (("極秘//提供先 JPN", "--scheme", "USA"), "SECRET//REL TO JPN"),
        (("機密//日本限り", "--scheme", "NATO"), "COSMIC TOP SECRET//RELEASABLE TO JPN"),
        (("SECRET//NOFORN", "--scheme", "USA"), "SECRET//NOFORN"),
    ],
)
def test_render_in_another_scheme(args: tuple[str, ...], output: str) -> None:
    assert kyodo("render", *args) == (0, output + "\n", "")


def test_render_without_equivalent_exits_1_and_says_why() -> None:
    code, out, err = kyodo("render", "TOP SECRET//SI//NOFORN", "--scheme", "JPN")
    assert (code, out) == (1, "")
    assert err == "no equivalent: scheme JPN has no equivalent for category SI\n"
    code, out, err = kyodo("render", "NATO RESTRICTED", "--scheme", "USA")
    assert (code, out) == (1, "")
    assert "no level equivalent to NATO NATO RESTRICTED" in err


def test_render_bad_input_exits_2() -> None:
    code, _, err = kyodo("render", "SECRET", "--scheme", "XXX")
    assert code == 2
    assert "unknown policy 'XXX'; loaded: JPN, NATO, USA" in err
    assert kyodo("render", "SECRT", "--scheme", "JPN")[0] == 2
    assert kyodo("render", "SECRET")[0] == 2  # --scheme is required


# --- xml, from-xml -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "marking",
    ["UNCLASSIFIED", "TOP SECRET//SI/TK//ORCON/REL TO USA, JPN", "機密//特定秘密//日本限り//演習"],
)
def test_xml_and_back(marking: str, tmp_path: Path) -> None:
    registry = default_registry()
    code, xml, err = kyodo("xml", marking)
    assert (code, err) == (0, "")
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert NAMESPACE in xml
    assert label_from_xml(xml, registry) == parse_marking(marking, registry)
    path = tmp_path / "label.xml"
    path.write_text(xml, encoding="utf-8")
    canonical = kyodo("parse", marking)[1].splitlines()[0]
    assert kyodo("from-xml", str(path)) == (0, canonical + "\n", "")
    assert kyodo("from-xml", "-", input=xml.encode("utf-8")) == (0, canonical + "\n", "")


def test_xml_of_an_invalid_marking_exits_2() -> None:
    code, out, err = kyodo("xml", "SECRET//BOGUS")
    assert (code, out) == (2, "")
    assert "unknown marking 'BOGUS'" in err


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><x>&b;</x>',
            "error: label XML refused: DTDForbidden",
        ),
        (
            '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "error: label XML refused",
        ),
        ("<x><y></x>", "error: label XML is malformed"),
        ("<x>" + "a" * 70_000 + "</x>", "error: label XML is larger than 65536 bytes"),
        ("<x/>", "error: expected slab:ConfidentialityLabel, found x"),
    ],
    ids=["billion-laughs", "external-entity", "malformed", "oversize", "wrong-root"],
)
def test_from_xml_refuses_hostile_or_bad_documents(
    document: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.xml"
    path.write_text(document, encoding="utf-8")
    code, out, err = kyodo("from-xml", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(message)


def test_from_xml_missing_file_exits_2(tmp_path: Path) -> None:
    code, out, err = kyodo("from-xml", str(tmp_path / "absent.xml"))
    assert (code, out) == (2, "")
    assert err.startswith("error: cannot read ")
    assert "No such file or directory" in err


# --- check ---------------------------------------------------------------------------------------


def test_check_allowed_exits_0() -> None:
    code, out, err = kyodo(
        "check", "--nation", "JPN", "--clearance", "SECRET", "SECRET//REL TO USA, JPN"
    )
    assert (code, out, err) == (0, "allowed: JPN SECRET may read SECRET//REL TO USA, JPN\n", "")
    code, out, _ = kyodo("check", "--nation", "jpn", "--clearance", "極秘", "(S//REL TO USA, JPN)")
    assert (code, out) == (0, "allowed: JPN GOKUHI may read SECRET//REL TO USA, JPN\n")


def test_check_with_a_grant() -> None:
    args = ("--nation", "JPN", "--clearance", "SECRET", "SECRET//SI//REL TO USA, JPN")
    code, out, _ = kyodo("check", *args)
    assert (code, out) == (1, "denied: SECRET//SI//REL TO USA, JPN\n  - missing compartment SI\n")
    code, out, _ = kyodo("check", "--grant", "SI", *args)
    assert code == 0
    assert out.startswith("allowed:")
    code, out, _ = kyodo(
        "check",
        "--nation",
        "USA",
        "--clearance",
        "TOP SECRET",
        "--grant",
        "SI",
        "--grant",
        "TK",
        "TOP SECRET//SI/TK//NOFORN",
    )
    assert code == 0


def test_check_denied_exits_1_and_prints_every_reason() -> None:
    code, out, err = kyodo(
        "check", "--nation", "AUS", "--clearance", "CONFIDENTIAL", "TOP SECRET//SI//REL TO USA, JPN"
    )
    assert code == 1
    assert err == ""
    assert out == (
        "denied: TOP SECRET//SI//REL TO USA, JPN\n"
        "  - clearance CONFIDENTIAL is below TOP SECRET\n"
        "  - missing compartment SI\n"
        "  - nation AUS is not in REL TO USA, JPN\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--nation", "XX", "--clearance", "SECRET", "SECRET"), "'XX' is not an ISO 3166"),
        (("--nation", "USA", "--clearance", "ULTRA", "SECRET"), "unknown clearance 'ULTRA'"),
        (
            ("--nation", "USA", "--clearance", "SECRET", "--grant", "ZZ", "SECRET"),
            "unknown category",
        ),
        (("--nation", "USA", "--clearance", "SECRET", "SECRT"), "unknown classification"),
    ],
)
def test_check_bad_input_exits_2(args: tuple[str, ...], message: str) -> None:
    code, out, err = kyodo("check", *args)
    assert (code, out) == (2, "")
    assert message in err


# --- the installed command, as a shell sees it ---------------------------------------------------

KYODO = Path(sys.executable).with_name("kyodo")


@pytest.mark.slow
@pytest.mark.skipif(not KYODO.exists(), reason="the kyodo script is not installed next to python")
def test_installed_command_exit_codes() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KYODO), "label", *args], capture_output=True, text=True, timeout=60, check=False
        )

    yes = run("dominates", "SECRET//NOFORN", "CONFIDENTIAL//REL TO USA, JPN")
    assert (yes.returncode, yes.stdout, yes.stderr) == (0, "yes\n", "")
    denied = run("check", "--nation", "AUS", "--clearance", "SECRET", "SECRET//REL TO USA, JPN")
    assert denied.returncode == 1
    assert denied.stdout.endswith("  - nation AUS is not in REL TO USA, JPN\n")
    bad = run("parse", "SECRET//REL TO")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == "error: empty REL TO list at position 14 in 'SECRET//REL TO'\n"


# --- the configured schemes ----------------------------------------------------------------------


def test_schemes_from_kyodo_scheme_dirs_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI reads markings in the same schemes as the server, a deployment's own included."""
    code, _, err = kyodo("parse", "UK SECRET//REL TO USA, GBR")
    assert code == 2 and "error:" in err
    doc = Path(__file__).resolve().parents[2] / "docs" / "label-schemes.md"
    blocks = re.findall(r"```toml\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL)
    gbr = next(b for b in blocks if '\npolicy = "GBR"\n' in b)  # the documented example
    (tmp_path / "GBR.toml").write_text(gbr, encoding="utf-8")
    monkeypatch.setenv("KYODO_SCHEME_DIRS", json.dumps([str(tmp_path)]))
    code, out, err = kyodo("parse", "--json", "UK SECRET//REL TO USA, GBR")
    assert (code, err) == (0, "")
    assert json.loads(out)["policy"] == "GBR"


def test_a_missing_scheme_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KYODO_SCHEME_DIRS", json.dumps([str(tmp_path / "nowhere")]))
    code, out, err = kyodo("parse", "SECRET")
    assert code == 2 and out == ""
    assert "does not exist" in err
