"""`kyodo guard check`: findings, the suggestion, exit codes 0 ok / 1 refused / 2 bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kyodo.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _shipped_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KYODO_GUARD_RULES_FILE", "KYODO_CONFIG", "KYODO_SCHEME_DIRS"):
        monkeypatch.delenv(name, raising=False)


def guard(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["guard", "check", *args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # an uncaught error is a bug, never an exit code
    return result.exit_code, result.stdout, result.stderr


def test_clean_text_exits_0() -> None:
    code, out, err = guard("--label", "UNCLASSIFIED", "Lunch at 1200 at the food court?")
    assert (code, err) == (0, "")
    assert "suggested: UNCLASSIFIED" in out
    assert "findings:  none" in out


def test_operational_text_under_a_low_label_exits_1_with_the_findings() -> None:
    code, out, _ = guard("--label", "UNCLASSIFIED", "Tomahawk launch from USS Dewey at 0330Z")
    assert code == 1
    assert "suggested: SECRET//NOFORN" in out
    assert "REFUSED" in out
    assert "[weapon-action] 'Tomahawk launch'" in out
    assert "[strike-timing]" in out


def test_findings_say_what_was_found_in_the_readers_language() -> None:
    text = "トマホークの発射時刻は明朝0330"
    code, out, _ = guard("--label", "区分なし", "--lang", "ja", text)
    assert code == 1
    assert "含まれています" in out and "was found" not in out
    code, out, _ = guard("--label", "区分なし", text)  # English by default
    assert code == 1 and "was found" in out


def test_the_same_text_under_a_high_enough_label_exits_0() -> None:
    code, out, _ = guard("--label", "SECRET//REL TO USA, JPN", "Tomahawk launch at 0330Z")
    assert code == 0
    assert "(within the label)" in out


def test_a_narrower_portion_marking_is_refused() -> None:
    code, out, _ = guard("--label", "SECRET//REL TO USA, JPN", "(S//NF) the plan")
    assert code == 1
    assert "[marking] '(S//NF)'" in out


def test_json_is_one_object() -> None:
    code, out, _ = guard("--label", "区分なし", "--json", "トマホークの発射時刻は0330Z")
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"label", "suggested", "refused", "findings"}
    assert (data["label"], data["suggested"], data["refused"]) == (
        "区分なし",
        "極秘//日本限り",
        True,
    )
    assert {f["rule_id"] for f in data["findings"]} == {"weapon-action", "strike-timing"}
    assert set(data["findings"][0]) == {
        "rule_id",
        "rule_name",
        "text",
        "start",
        "end",
        "minimum",
        "above_label",
        "explanation",
        "rule_name_ja",
        "explanation_ja",
    }


def test_dash_reads_standard_input() -> None:
    code, out, _ = guard("--label", "UNCLASSIFIED", "--json", "-", input="TOT 0412Z\n")
    assert code == 1
    assert json.loads(out)["findings"][0]["text"] == "TOT 0412Z"
    code, out, _ = guard("--label", "UNCLASSIFIED", "-", input="PT at 0630\n")
    assert code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--label", "SECRT", "text"), "unknown classification 'SECRT'"),
        (("--label", "SECRET//REL TO XXX", "text"), "unknown country code"),
        (("text",), "Missing option '--label'"),
        (("--label", "UNCLASSIFIED"), "Missing argument"),
        (("--label", "UNCLASSIFIED", "--lang", "fr", "text"), "'en' or 'ja'"),
    ],
)
def test_bad_input_exits_2(args: tuple[str, ...], message: str) -> None:
    code, _, err = guard(*args)
    assert code == 2
    assert message in err


def test_the_configured_rules_file_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "guard.toml"
    rules.write_text(
        'extends = "shipped"\n[[rules]]\nid = "code-word"\nkind = "pattern"\n'
        'name = "Code word"\nlevel = "SECRET"\npattern = \'blue heron\'\n',
        encoding="utf-8",
    )
    assert guard("--label", "UNCLASSIFIED", "Blue Heron brief")[0] == 0
    monkeypatch.setenv("KYODO_GUARD_RULES_FILE", str(rules))
    code, out, _ = guard("--label", "UNCLASSIFIED", "Blue Heron brief")
    assert code == 1
    assert "[code-word] 'Blue Heron'" in out


def test_a_bad_rules_file_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "guard.toml"
    rules.write_text('[[rules]]\nid = "x"\nkind = "proximity"\n', encoding="utf-8")
    monkeypatch.setenv("KYODO_GUARD_RULES_FILE", str(rules))
    code, _, err = guard("--label", "UNCLASSIFIED", "text")
    assert code == 2
    assert f"{rules}: rule 'x'" in err
    monkeypatch.setenv("KYODO_GUARD_RULES_FILE", str(tmp_path / "missing.toml"))
    assert guard("--label", "UNCLASSIFIED", "text")[0] == 2


@pytest.mark.slow
def test_an_operator_pipes_a_message_into_the_real_command() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}
    done = subprocess.run(
        [sys.executable, "-m", "kyodo", "guard", "check", "--label", "秘//REL TO JPN, USA", "-"],
        input="12式地対艦誘導弾の射撃開始は05時30分。",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    assert "suggested: 極秘//REL TO JPN, USA" in done.stdout
