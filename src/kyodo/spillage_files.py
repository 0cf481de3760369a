"""Loads spillage guard rules: the shipped file or a configured one (the I/O edge of spillage)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from kyodo.errors import GuardRulesError
from kyodo.scheme_files import default_registry
from kyodo.spillage import rules_from_toml
from kyodo.spillage.model import WordModel, model_from_mapping

if TYPE_CHECKING:
    from pathlib import Path

    from kyodo.labels import SchemeRegistry
    from kyodo.spillage import RuleSet

SHIPPED_RULES = "rules.toml"
SHIPPED_MODEL = "guard_model.json"


@cache
def shipped_model() -> WordModel | None:
    """The learned model shipped in the package (`kyodo/spillage/guard_model.json`), if any."""
    resource = resources.files("kyodo.spillage").joinpath(SHIPPED_MODEL)
    if not resource.is_file():
        return None
    try:
        data = json.loads(resource.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GuardRulesError(f"shipped {SHIPPED_MODEL}: cannot be read: {exc}") from None
    return model_from_mapping(data, f"shipped {SHIPPED_MODEL}")


def shipped_models() -> dict[str, WordModel]:
    """The models a rule may name: `model = "shipped"`."""
    model = shipped_model()
    return {} if model is None else {"shipped": model}


def shipped_rules_text() -> str:
    """The TOML of the rules shipped in the package (`kyodo/spillage/rules.toml`)."""
    return resources.files("kyodo.spillage").joinpath(SHIPPED_RULES).read_text(encoding="utf-8")


def load_rules(path: Path | None = None, registry: SchemeRegistry | None = None) -> RuleSet:
    """The rules of `path` (which may extend the shipped ones), or the shipped rules if None.

    GuardRulesError when the file cannot be read or is malformed.
    """
    registry = registry if registry is not None else default_registry()
    shipped = shipped_rules_text()
    if path is None:
        return rules_from_toml(
            shipped, registry, origin=f"shipped {SHIPPED_RULES}", models=shipped_models()
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GuardRulesError(f"cannot read guard rules file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise GuardRulesError(f"guard rules file {path} is not UTF-8") from None
    return rules_from_toml(
        text, registry, origin=str(path), shipped=shipped, models=shipped_models()
    )


@cache
def default_rules() -> RuleSet:
    """The shipped rules over the shipped schemes; cached, they never change in a process."""
    return load_rules()
