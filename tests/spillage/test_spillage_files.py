"""The I/O edge: the shipped rules, a security officer's file from settings, bad files."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

from kyodo.errors import GuardRulesError
from kyodo.labels import Label, SchemeRegistry
from kyodo.settings import Settings
from kyodo.spillage import check
from kyodo.spillage_files import default_rules, load_rules

Parse = Callable[[str], Label]
PACKAGE = Path(__file__).resolve().parents[2] / "src" / "kyodo" / "spillage"

OFFICER = """
version = 1
extends = "shipped"

[lists]
weapons = ['SeaRAMs?', 'シーラム']

[[rules]]
id = "op-blue-heron"
kind = "pattern"
name = "Operation name"
level = "SECRET"
categories = ["ORCON"]
pattern = 'blue\\s*heron'
"""


def test_the_shipped_rules_load_and_are_cached() -> None:
    rules = default_rules()
    assert rules is default_rules()
    assert rules.ids() == load_rules().ids()
    assert {"marking", "weapon-action", "strike-timing", "target-designator"} <= set(rules.ids())


def test_an_officers_file_from_the_environment_changes_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: SchemeRegistry, label: Parse
) -> None:
    path = tmp_path / "guard.toml"
    path.write_text(OFFICER, encoding="utf-8")
    message = label("CONFIDENTIAL//REL TO USA, JPN")
    text = "Blue Heron brief in room 2; シーラムの発射準備"
    before = check(text, message, load_rules(None, registry), registry)
    assert not before.refused

    monkeypatch.setenv("KYODO_GUARD_RULES_FILE", str(path))
    configured = Settings().guard_rules_file
    assert configured == path
    after = check(text, message, load_rules(configured, registry), registry)
    assert after.refused
    # The launch preparation is also a readiness change (シーラムの発射準備).
    assert {"op-blue-heron", "weapon-action"} <= {f.rule_id for f in after.findings}
    assert after.suggested.restrictive == frozenset({"ORCON"})


def test_the_setting_defaults_to_the_shipped_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KYODO_GUARD_RULES_FILE", raising=False)
    monkeypatch.delenv("KYODO_CONFIG", raising=False)
    assert Settings().guard_rules_file is None


def test_a_missing_or_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GuardRulesError, match="cannot read guard rules file"):
        load_rules(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nid = "x"\nkind = "pattern"\nname = "n"\nlevel = "SECRET"\n')
    with pytest.raises(GuardRulesError, match=rf"{bad}: rule 'x': pattern must"):
        load_rules(bad)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(GuardRulesError, match="not UTF-8"):
        load_rules(binary)


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_the_engine_is_pure(path: Path) -> None:
    """The engine imports only the label core and the errors, and nothing that does I/O."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name.startswith("kyodo"):
                assert name.startswith(("kyodo.labels", "kyodo.errors", "kyodo.spillage")), name
            assert name.split(".")[0] not in {"os", "pathlib", "io", "socket", "importlib"}, name
